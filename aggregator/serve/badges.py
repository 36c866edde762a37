"""Shields-style SVG badges of a provider's or a component's status (``/badge/ID.svg``)."""

from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = {
    "operational": "#2fb86a", "under_maintenance": "#3b82f6", "degraded_performance": "#dfb317",
    "partial_outage": "#fe7d37", "major_outage": "#e05d44", "unknown": "#9f9f9f",
}
WORDS = {
    "operational": "operational", "under_maintenance": "maintenance", "degraded_performance": "degraded",
    "partial_outage": "partial outage", "major_outage": "major outage", "unknown": "unknown",
}


def _width(text: str) -> int:
    # Verdana 11px averages ~6.5 px a character; shields pads 10 px each side of a text.
    return int(len(text) * 6.5) + 10


def badge_svg(label: str, status: str) -> str:
    """A flat badge: the label on grey, the status word on its colour. Text is XML-escaped."""
    message = WORDS.get(status, status)
    colour = COLOURS.get(status, COLOURS["unknown"])
    label = label[:60]
    lw, mw = _width(label), _width(message)
    total = lw + mw
    lt, mt = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{lt}: {mt}"><title>{lt}: {mt}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="11">'
        f'<text x="{lw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{lt}</text>'
        f'<text x="{lw / 2:.1f}" y="14">{lt}</text>'
        f'<text x="{lw + mw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{mt}</text>'
        f'<text x="{lw + mw / 2:.1f}" y="14">{mt}</text></g></svg>'
    )
