"""The checkpoint view: what a guard or a clerk sees of a verification outcome, and its renderers.

::

    from healthpass.display import build_view, write_card

    try:
        outcome = verifier.verify(text, at=now, profile="clinic")
    except HealthPassError as err:
        outcome = err
    view = build_view(outcome, now=now, language="zh-Hans", profile="clinic")
    write_card(view, "card.png")                 # .svg, .png or .html

:func:`build_view` turns a :class:`~healthpass.verify.VerifiedCredential` or a
:class:`~healthpass.errors.HealthPassError` into an immutable :class:`CheckpointView` (verdict, reason,
colour, the holder de-identified, issuing region, validity; tests and vaccinations for clinic-like
profiles) in zh-Hans, zh-Hant or en. Renderers: :func:`render_svg`, :func:`render_png` (Pillow and the
Debian ``fonts-noto-cjk`` fonts), :func:`render_html` (a fragment), :func:`render_terminal`.
Install with the ``display`` extra (Babel; Pillow for PNG).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from healthpass._lazy import LazyModule
from healthpass.display import view as _view
from healthpass.display.fragment import render_html
from healthpass.display.i18n import Language, messages
from healthpass.display.layout import CARD_SIZES
from healthpass.display.mask import birth_year, mask_name
from healthpass.display.svg import render_svg
from healthpass.display.terminal import render_terminal
from healthpass.display.view import *  # noqa: F403  # exactly view.__all__
from healthpass.display.view import CheckpointView  # named here too: the card writers below take one

if TYPE_CHECKING:
    import os

    from healthpass.display import png as _png
else:  # a name of its own: ``from healthpass.display import png`` still finds the submodule
    _png = LazyModule("healthpass.display.png")  # Pillow: PNG cards only

__all__ = [
    "CARD_FORMATS",
    "CARD_SIZES",
    "Language",
    "birth_year",
    "card_bytes",
    "mask_name",
    "messages",
    "render_html",
    "render_png",
    "render_svg",
    "render_terminal",
    "write_card",
]
__all__ += _view.__all__  # the view's public names are the package's

#: File extensions :func:`write_card` understands.
CARD_FORMATS: Final = (".svg", ".png", ".html")


def render_png(view: CheckpointView, *, width: int = 480, height: int = 800) -> bytes:
    """The card as PNG bytes (see :func:`healthpass.display.png.render_png`; Pillow imported on first use)."""
    return _png.render_png(view, width=width, height=height)


def card_bytes(view: CheckpointView, card_format: str, *, width: int = 480, height: int = 800) -> bytes:
    """The card in one of :data:`CARD_FORMATS` (``".svg"``, ``".png"``, ``".html"``), as bytes."""
    if card_format == ".svg":
        return render_svg(view, width=width, height=height).encode("utf-8")
    if card_format == ".png":
        return render_png(view, width=width, height=height)
    if card_format == ".html":
        return render_html(view).encode("utf-8")
    raise ValueError(f"card format must be one of {', '.join(CARD_FORMATS)}")


def write_card(view: CheckpointView, path: str | os.PathLike[str], *, width: int = 480, height: int = 800) -> Path:
    """Write the card to ``path``, in the format its extension names (``ValueError`` for another)."""
    target = Path(path)
    data = card_bytes(view, target.suffix.lower(), width=width, height=height)
    target.write_bytes(data)
    return target
