"""Deferred imports: a module that is imported when one of its attributes is first used (stdlib only).

A command-line process pays for every module it imports before it does anything, so a module only some
inputs need is bound through :class:`LazyModule` rather than imported at the top::

    if TYPE_CHECKING:
        from healthpass.formats import eu_dcc
    else:
        eu_dcc = LazyModule("healthpass.formats.eu_dcc")  # HC1 codes only

The layering test (``tests/test_layers.py``) reads these names like import statements.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for the module ``name``: every attribute access imports it (once; then a ``sys.modules``
    lookup) and reads the attribute from it. Holds no state of its own, so it is safe across threads."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
