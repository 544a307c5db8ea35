"""The card as an HTML fragment (a ``<section>`` to place in a page), every value HTML-escaped.
Standard library only."""

from __future__ import annotations

import html

from healthpass.display.layout import clean_text
from healthpass.display.view import CheckpointView

__all__ = ["render_html"]


def _e(text: str) -> str:
    return html.escape(clean_text(text), quote=True)


def render_html(view: CheckpointView) -> str:
    """A self-contained ``<section class="hp-card">``: inline colours, ``lang`` set, ``data-verdict`` and
    ``data-colour`` attributes for scripts and tests; no script, no external resource."""
    colour = view.colour
    parts = [
        f'<section class="hp-card hp-{_e(view.verdict.value)}" lang="{_e(view.language.value)}" '
        f'data-verdict="{_e(view.verdict.value)}" data-colour="{_e(colour.value)}"'
        + (f' data-error="{_e(view.error_code)}"' if view.error_code else "") + ">",
        f'<div class="hp-block" style="background:{colour.hex};color:{colour.ink};padding:1.2em;text-align:center">'
        f'<div class="hp-verdict" style="font-size:3em;font-weight:bold">{_e(view.verdict_text)}</div>'
        f'<div class="hp-colour">{_e(view.colour_text)}</div></div>',
        f'<p class="hp-reason" style="font-size:1.4em;font-weight:bold">{_e(view.reason)}</p>',
    ]
    if view.rows:
        parts.append('<dl class="hp-rows">')
        parts += [f'<dt data-key="{_e(r.key)}">{_e(r.label)}</dt><dd data-key="{_e(r.key)}">{_e(r.value)}</dd>'
                  for r in view.rows]
        parts.append("</dl>")
    if view.warnings:
        parts.append('<ul class="hp-warnings">' + "".join(f"<li>{_e(w)}</li>" for w in view.warnings) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts) + "\n"
