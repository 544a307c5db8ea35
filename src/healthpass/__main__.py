"""``python -m healthpass``: the command line."""

from healthpass.cli import main

raise SystemExit(main())
