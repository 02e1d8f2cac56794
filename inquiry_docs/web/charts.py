"""Charts drawn on the server as SVG: no JavaScript, printable, and each one an image with a
title and a description for screen readers (the page shows its figures as a table too).

Every label is escaped here (labels are sources, titles and names people typed); colours
are presentation attributes, not inline styles, so the Content Security Policy holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
ROW = 26  # height of one bar of a bar chart
FONT = 14
LABEL_CHARS = 34  # of a bar's label drawn; the table beside gives it whole
BAR = "#1d70b8"
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
# Stances in the order the dashboard lists them, in colours a 3:1 contrast apart from white.
SEGMENT_COLOURS = ("#00703c", "#d4351c", "#505a5f", "#1d70b8", "#912b88", "#b58840")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def _text(value: object) -> str:
    return str(escape(str(value)))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "\u2026"


def _frame(chart_id: str, title: str, description: str, width: int, height: int,
           body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart__svg" role="img" '
            f'viewBox="0 0 {width} {height}" aria-labelledby="{_text(chart_id)}-title '
            f'{_text(chart_id)}-desc" font-family="arial, sans-serif" font-size="{FONT}">'
            f'<title id="{_text(chart_id)}-title">{_text(title)}</title>'
            f'<desc id="{_text(chart_id)}-desc">{_text(description)}</desc>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every piece escaped


def _describe(bars: Sequence[Bar], unit: str) -> str:
    if not bars:
        return f"No {unit}."
    top = sorted(bars, key=lambda b: -b.value)[:3]
    listed = "; ".join(f"{b.label}: {b.value}" for b in top)
    more = f", and {len(bars) - len(top)} more in the table that follows" \
        if len(bars) > len(top) else ""
    return f"{len(bars)} bars of {unit}. Largest: {listed}{more}."


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], unit: str = "documents"
              ) -> Markup:
    """Horizontal bars, one per label, largest value a full-width bar."""
    label_width = 270
    plot = WIDTH - label_width - 60
    top = max((b.value for b in bars), default=0) or 1
    body = []
    for n, bar in enumerate(bars):
        y = n * ROW
        length = round(plot * bar.value / top) if bar.value else 0
        body.append(f'<text x="{label_width - 8}" y="{y + ROW * 0.65:.1f}" text-anchor="end" '
                    f'fill="{TEXT}">{_text(_short(bar.label))}</text>'
                    f'<rect x="{label_width}" y="{y + 4}" width="{max(length, 1)}" '
                    f'height="{ROW - 8}" fill="{BAR}"/>'
                    f'<text x="{label_width + length + 6}" y="{y + ROW * 0.65:.1f}" '
                    f'fill="{TEXT}">{bar.value}</text>')
    height = max(ROW, len(bars) * ROW)
    return _frame(chart_id, title, _describe(bars, unit), WIDTH, height, body)


def _ticks(top: int) -> list[int]:
    """Up to five round values from 0 to at least `top`."""
    if top <= 4:
        return list(range(top + 1)) if top else [0, 1]
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [int(step * i) for i in range(math.ceil(top / step) + 1)]


def column_chart(chart_id: str, title: str, bars: Sequence[Bar], unit: str = "documents"
                 ) -> Markup:
    """Vertical bars in order (months along the bottom), with a value scale at the left."""
    height, left, bottom, top_pad = 240, 44, 40, 10
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top_pad
    ticks = _ticks(max((b.value for b in bars), default=0))
    scale = ticks[-1] or 1
    body = []
    for tick in ticks:
        y = top_pad + plot_h - plot_h * tick / scale
        body.append(f'<line x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                    f'fill="{TEXT}">{tick}</text>')
    width = plot_w / max(len(bars), 1)
    every = max(1, math.ceil(len(bars) / 8))  # about eight labels along the bottom
    for n, bar in enumerate(bars):
        h = plot_h * bar.value / scale
        x = left + n * width
        if bar.value:
            body.append(f'<rect x="{x + width * 0.1:.1f}" y="{top_pad + plot_h - h:.1f}" '
                        f'width="{max(width * 0.8, 1):.1f}" height="{h:.1f}" fill="{BAR}"/>')
        if n % every == 0:
            body.append(f'<text x="{x + width / 2:.1f}" y="{height - bottom + 18}" '
                        f'text-anchor="middle" fill="{TEXT}">{_text(bar.label)}</text>')
    return _frame(chart_id, title, _describe(bars, unit), WIDTH, height, body)


@dataclass(frozen=True)
class Segment:
    key: str
    label: str


def stacked_chart(chart_id: str, title: str, rows: Sequence[tuple[str, dict[str, int]]],
                  segments: Sequence[Segment], unit: str = "linked pages") -> Markup:
    """One horizontal bar per row, split into segments (a legend above the bars)."""
    label_width = 270
    plot = WIDTH - label_width - 60
    totals = [sum(values.get(s.key, 0) for s in segments) for _, values in rows]
    top = max(totals, default=0) or 1
    legend_h = ROW
    body = []
    x = 0
    for n, segment in enumerate(segments):
        colour = SEGMENT_COLOURS[n % len(SEGMENT_COLOURS)]
        body.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{colour}"/>'
                    f'<text x="{x + 20}" y="18" fill="{TEXT}">{_text(segment.label)}</text>')
        x += 30 + len(segment.label) * 8
    for n, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        y = legend_h + n * ROW
        body.append(f'<text x="{label_width - 8}" y="{y + ROW * 0.65:.1f}" text-anchor="end" '
                    f'fill="{TEXT}">{_text(_short(label))}</text>')
        start = float(label_width)
        for k, segment in enumerate(segments):
            value = values.get(segment.key, 0)
            if not value:
                continue
            length = plot * value / top
            body.append(f'<rect x="{start:.1f}" y="{y + 4}" width="{length:.1f}" '
                        f'height="{ROW - 8}" fill="{SEGMENT_COLOURS[k % len(SEGMENT_COLOURS)]}" '
                        f'stroke="#ffffff" stroke-width="1"/>')
            start += length
        body.append(f'<text x="{start + 6:.1f}" y="{y + ROW * 0.65:.1f}" '
                    f'fill="{TEXT}">{total}</text>')
    described = [Bar(label, total) for (label, _), total in zip(rows, totals, strict=True)]
    description = _describe(described, unit) + " Each bar is split by " + \
        ", ".join(s.label.lower() for s in segments) + "."
    return _frame(chart_id, title, description, WIDTH, legend_h + max(1, len(rows)) * ROW,
                  body)
