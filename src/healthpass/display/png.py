"""The card as PNG, drawn with Pillow in Noto Sans CJK (Debian ``fonts-noto-cjk``).

One of the two modules of healthpass besides :mod:`healthpass.qr` that import an imaging library. The fonts
are looked up in Debian's location (and ``$HEALTHPASS_CJK_FONT_DIR`` first when set); where they are
missing, :class:`FontsMissingError` names the package to install.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from healthpass.display.layout import card_layout
from healthpass.display.view import CheckpointView

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

__all__ = ["FONT_PACKAGE", "FontsMissingError", "find_fonts", "render_png"]

#: The Debian package providing the fonts (``scripts/setup.sh`` installs it).
FONT_PACKAGE: Final = "fonts-noto-cjk"
_FONT_DIRS: Final = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk",
                     "/usr/share/fonts/opentype/noto-cjk")
_FILES: Final = {False: "NotoSansCJK-Regular.ttc", True: "NotoSansCJK-Bold.ttc"}
#: Face index inside the Noto Sans CJK collections: JP 0, KR 1, SC 2, TC 3, HK 4.
_FACES: Final = {"zh-Hans": 2, "zh-Hant": 3, "en": 2}


class FontsMissingError(RuntimeError):
    """The Noto CJK fonts the PNG card needs are not installed (the message names the Debian package)."""


def find_fonts() -> tuple[Path, Path]:
    """The regular and bold Noto Sans CJK collections (:class:`FontsMissingError` when absent)."""
    dirs = [os.environ["HEALTHPASS_CJK_FONT_DIR"]] if os.environ.get("HEALTHPASS_CJK_FONT_DIR") else []
    for folder in (*dirs, *_FONT_DIRS):
        regular, bold = Path(folder) / _FILES[False], Path(folder) / _FILES[True]
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise FontsMissingError(
        f"PNG cards need the Noto Sans CJK fonts ({_FILES[False]}, {_FILES[True]}), not found in "
        f"{', '.join((*dirs, *_FONT_DIRS))}: install the Debian package {FONT_PACKAGE} "
        f"(apt-get install {FONT_PACKAGE}; scripts/setup.sh does), or set HEALTHPASS_CJK_FONT_DIR"
    )


@functools.lru_cache(maxsize=64)  # a card uses about six (size, weight) faces; loading one costs milliseconds
def _font(path: Path, index: int, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size, index=index)


def render_png(view: CheckpointView, *, width: int = 480, height: int = 800) -> bytes:
    """The card as PNG bytes (``FontsMissingError`` without the fonts, ``ValueError`` for odd sizes)."""
    from PIL import Image, ImageDraw

    regular, bold = find_fonts()
    face = _FACES[view.language.value]

    def font(size: int, is_bold: bool) -> FreeTypeFont:
        return _font(bold if is_bold else regular, face, size)

    def measure(text: str, size: int, is_bold: bool) -> float:
        return float(font(size, is_bold).getlength(text))

    boxes, labels = card_layout(view, width, height, measure)
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle((box.x, box.y, box.x + box.width - 1, box.y + box.height - 1), fill=box.fill)
    for label in labels:
        anchor = "ma" if label.anchor == "middle" else "la"
        draw.text((label.x, label.y), label.text, font=font(label.size, label.bold), fill=label.fill, anchor=anchor)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
