"""The card as SVG: text as text (searchable, scalable), every value XML-escaped. Standard library only."""

from __future__ import annotations

from typing import Final
from xml.sax.saxutils import escape, quoteattr

from healthpass.display.layout import card_layout, clean_text, estimate_width
from healthpass.display.view import CheckpointView

__all__ = ["FONT_FAMILY", "render_svg"]

#: Noto CJK first (what the PNG uses), then any CJK-capable sans-serif the viewer has.
FONT_FAMILY: Final = ("'Noto Sans CJK SC', 'Noto Sans SC', 'Noto Sans CJK TC', 'Noto Sans TC', 'PingFang SC', "
                      "'Microsoft YaHei', sans-serif")
#: Traditional characters prefer the TC faces.
_FAMILIES: Final = {"zh-Hant": "'Noto Sans CJK TC', 'Noto Sans TC', 'PingFang TC', 'Microsoft JhengHei', sans-serif"}
_ASCENT: Final = 0.88  # baseline below a line's top edge, in em (Noto Sans CJK)


def render_svg(view: CheckpointView, *, width: int = 480, height: int = 800) -> str:
    """The card as an SVG document (``ValueError`` for sides outside 200-4000 px)."""
    boxes, labels = card_layout(view, width, height, estimate_width)
    family = _FAMILIES.get(view.language.value, FONT_FAMILY)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xml:lang={quoteattr(view.language.value)} '
        f'data-verdict={quoteattr(view.verdict.value)} data-colour={quoteattr(view.colour.value)}>',
        f"<title>{escape(clean_text(view.verdict_text))}: {escape(clean_text(view.reason))}</title>",
    ]
    out += [f'<rect x="{b.x}" y="{b.y}" width="{b.width}" height="{b.height}" fill="{b.fill}"/>' for b in boxes]
    out.append(f"<g font-family={quoteattr(family)}>")
    for label in labels:
        weight = ' font-weight="bold"' if label.bold else ""
        anchor = ' text-anchor="middle"' if label.anchor == "middle" else ""
        baseline = label.y + round(label.size * _ASCENT)
        out.append(f'<text x="{label.x}" y="{baseline}" font-size="{label.size}" fill="{label.fill}"'
                   f"{weight}{anchor}>{escape(label.text)}</text>")
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
