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


@dataclass(frozen=True)
class Span:
    """One stretch of time on a day: its row's label, and its start and end in hours (0 to 24)."""

    day: str
    start: float
    end: float
    label: str


def day_timeline(days: Sequence[str], spans: Sequence[Span], title: str, width: int = 720) -> str:
    """An SVG timeline: a row per day, hours across, a bar per span (sessions on a day).

    Like ``bar_chart``, it has ``role="img"``, a title, and a description
    that lists every span in words.
    """
    row, top, left = 22, 24, 92  # room for a day label at phone size (15px)
    height = top + row * len(days) + 10
    scale = (width - left - 30) / 24  # room for the last hour label
    rows = {day: index for index, day in enumerate(days)}
    parts = [
        f'<svg class="chart timeline-chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="timeline-title timeline-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="timeline-title">{escape(title)}</title>',
        '<desc id="timeline-desc">'
        + escape("; ".join(f"{span.day}: {span.label}" for span in spans) or "nothing")
        + "</desc>",
    ]
    for hour in range(0, 25, 6):
        x = left + hour * scale
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 10}"/>'
        )
        parts.append(f'<text class="label" x="{x:.1f}" y="{top - 10}">{hour:02d}:00</text>')
    for day, index in rows.items():
        y = top + index * row
        parts.append(f'<text class="day" x="{left - 6}" y="{y + 15}">{escape(day)}</text>')
    for span in spans:
        if span.day not in rows:
            continue
        y = top + rows[span.day] * row + 4
        x = left + span.start * scale
        bar = max((span.end - span.start) * scale, 2.0)  # a short visit still shows
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{row - 8}">'
            f"<title>{escape(span.label)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)
