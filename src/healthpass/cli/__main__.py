"""``python -m healthpass.cli``: the command line."""

from healthpass.cli import main

raise SystemExit(main())
