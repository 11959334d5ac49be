"""A bar chart as inline SVG, drawn on the server: no script, nothing loaded from elsewhere."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Bar:
    """One bar: its label (under it) and its value."""

    label: str
    value: int


def bar_chart(bars: Sequence[Bar], title: str, width: int = 720, height: int = 220) -> str:
    """An SVG bar chart with a title, an accessible description and a value per bar.

    The SVG carries ``role="img"`` and a ``<title>``/``<desc>`` naming every
    value, so a screen reader says what the picture shows; the page shows the
    same numbers in a table for those who prefer one.
    """
    top = max((bar.value for bar in bars), default=0) or 1
    margin, base = 30, height - 40
    step = (width - 2 * margin) / max(len(bars), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{bar.label}: {bar.value}" for bar in bars))
        + "</desc>",
        f'<line class="axis" x1="{margin}" y1="{base}" x2="{width - margin}" y2="{base}"/>',
    ]
    for index, bar in enumerate(bars):
        bar_height = (base - 20) * bar.value / top
        x = margin + index * step + step * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - bar_height:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar_height:.1f}"/>'
        )
        if bar.value:
            parts.append(
                f'<text class="value" x="{x + step * 0.35:.1f}" y="{base - bar_height - 4:.1f}">'
                f"{bar.value}</text>"
            )
        if len(bars) <= 15 or index % max(1, len(bars) // 10) == 0:
            parts.append(
                f'<text class="label" x="{x + step * 0.35:.1f}" y="{base + 16}">'
                f"{escape(bar.label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
