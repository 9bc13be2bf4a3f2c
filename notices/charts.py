"""Charts drawn on the server as SVG: no script, no CDN, the labels in whatever language the caller gives.

A chart is a string of SVG markup (the caller marks it safe: every text in it is escaped here).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape

COLOURS = ["#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7"]
FONT = "font-family=\"'Noto Sans','Liberation Sans',Arial,sans-serif\" font-size=\"11\""


@dataclass
class Series:
    name: str
    values: list[float]


def scale_max(values: list[float], percent: bool) -> float:
    """Return the top of the vertical axis: 100 for percentages, else a round number above the largest value."""
    if percent:
        return 100.0
    top = max(values, default=0) or 1
    step = 10 ** (len(str(int(top))) - 1)
    return float(-(-top // step) * step)


def frame(width: int, height: int, title: str, top: float, percent: bool, labels: list[str], x_of) -> list[str]:
    """Return the SVG of the title, the horizontal grid with its values, and the x labels (at most ~10)."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" {FONT}>',
             f'<title>{escape(title)}</title>',
             f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>']  # fmt: skip
    bottom, plot_top = height - 34, 28
    for i in range(5):
        y = bottom - (bottom - plot_top) * i / 4
        value = top * i / 4
        text = f"{value:.0f}%" if percent else f"{value:,.0f}".replace(",", ".")
        parts.append(f'<line x1="44" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="40" y="{y + 4:.1f}" text-anchor="end" fill="#555">{text}</text>')
    every = max(1, -(-len(labels) // 10))
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x_of(i):.1f}" y="{bottom + 14}" text-anchor="middle" fill="#555">{escape(label)}</text>'
            )
    return parts


def legend(series: list[Series], width: int, height: int) -> list[str]:
    parts, x = [], 48.0
    for i, one in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{x:.0f}" y="{height - 12}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.0f}" y="{height - 3}">{escape(one.name)}</text>')
        x += 24 + 6.5 * len(one.name)
    return parts


def line_chart(title: str, labels: list[str], series: list[Series], *, percent: bool = False, width: int = 640,
               height: int = 220) -> str:  # fmt: skip
    """Return an SVG line chart of the series over the labels (one point per label)."""
    top = scale_max([v for one in series for v in one.values], percent)
    bottom, plot_top, left, right = height - 34, 28, 52, width - 16
    span = max(1, len(labels) - 1)

    def x_of(i: int) -> float:
        return left + (right - left) * i / span

    def y_of(value: float) -> float:
        return bottom - (bottom - plot_top) * min(value, top) / top

    parts = frame(width, height, title, top, percent, labels, x_of)
    for i, one in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{x_of(j):.1f},{y_of(v):.1f}" for j, v in enumerate(one.values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        for j, v in enumerate(one.values):
            value = f"{v:.1f}%" if percent else f"{v:.0f}"
            parts.append(f'<circle cx="{x_of(j):.1f}" cy="{y_of(v):.1f}" r="2.5" fill="{colour}">'
                         f'<title>{escape(labels[j])}: {escape(one.name)} {value}</title></circle>')  # fmt: skip
    return "".join([*parts, *legend(series, width, height), "</svg>"])


def bar_chart(title: str, labels: list[str], values: list[float], *, percent: bool = False, width: int = 640,
              height: int = 220) -> str:  # fmt: skip
    """Return an SVG bar chart, one bar per label, its value written above it."""
    top = scale_max(values, percent)
    bottom, plot_top, left, right = height - 34, 28, 52, width - 16
    slot = (right - left) / max(1, len(labels))

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    parts = frame(width, height, title, top, percent, labels, x_of)
    for i, value in enumerate(values):
        h = (bottom - plot_top) * min(value, top) / top
        text = f"{value:.1f}%" if percent else f"{value:.0f}"
        parts.append(
            f'<rect x="{x_of(i) - slot * 0.35:.1f}" y="{bottom - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(labels[i])}: {text}</title></rect>'
        )
        parts.append(f'<text x="{x_of(i):.1f}" y="{bottom - h - 3:.1f}" text-anchor="middle">{text}</text>')
    return "".join([*parts, "</svg>"])
