"""Deferred imports, two mechanisms and no others (stdlib only).

A command-line process pays for every module it imports before it does anything, so:

1. a module only some inputs need is bound through :class:`LazyModule` rather than imported at the top (or
   inside a function)::

       if TYPE_CHECKING:
           from healthpass.formats import eu_dcc
       else:
           eu_dcc = LazyModule("healthpass.formats.eu_dcc")  # HC1 codes only

2. a package's public names that live in heavier modules are listed in its ``_LAZY`` table (name -> module)
   and resolved on first access by the PEP 562 ``__getattr__`` that :func:`lazy_names` builds.

Optional third-party libraries (Pillow, segno, python-pkcs11, psycopg, ...) are imported where they are used,
inside their one owner module, so that a missing extra fails only the feature that needs it.
The layering test (``tests/test_layers.py``) reads ``LazyModule("...")`` and ``_LAZY`` like import statements.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["LazyModule", "lazy_names"]


class LazyModule:
    """Stands for the module ``name``: every attribute access imports it (once; then a ``sys.modules``
    lookup) and reads the attribute from it. Holds no state of its own, so it is safe across threads."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        # gain: 0.78 to 0.49 µs an access (sys.modules read directly, with import_module's own check for a
        # module still being imported), paid on hot paths such as a trust-list key's freshness at every verify
        module = sys.modules.get(self._name)
        if module is None or getattr(module.__spec__, "_initializing", False):  # not loaded, or another
            module = import_module(self._name)  # thread is importing it: import_module waits for it
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_names(
    package: str, table: Mapping[str, str], namespace: dict[str, Any], *, submodules: frozenset[str] = frozenset()
) -> Callable[[str], Any]:
    """A PEP 562 module ``__getattr__`` for ``package``: a name in ``table`` is read from the module the table
    names, a name in ``submodules`` is that submodule; either is then bound in ``namespace`` (the package's
    ``globals()``: the module namespace is the import cache, as for any import), so later accesses find it
    directly. Any other name raises AttributeError."""

    def __getattr__(name: str) -> Any:
        if name in submodules:  # importing the submodule binds it in the package too
            return import_module(f"{package}.{name}")
        module_name = table.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module_name), name)
        namespace[name] = value
        return value

    return __getattr__
