"""The trend chart of the last runs: a small inline SVG bar chart under "Last runs" on both pages."""

from __future__ import annotations

import math
import re
from typing import Any

from officeguy_woocommerce.include.reports.formatting import _e, _number, _plain, _rows

MAX_TREND_RUNS = 50

STOCK_SERIES = [("changed", "Changed", "#2b7bb9"), ("skipped", "Skipped", "#e3a21a"), ("drift", "Drift", "#c0392b")]
ORDERS_SERIES = [("created", "Created", "#2b7bb9"), ("parked", "Parked", "#e3a21a"), ("failed", "Failed", "#c0392b")]


def _nice_max(value: float) -> int:
    """Round the axis top up to 1, 2 or 5 × 10^n so the tick labels are round numbers."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def _short_time(value: Any) -> str:
    """'2026-03-01T03:00:00+00:00' → '03-01 03:00': enough to tell runs apart on the axis."""
    text = _plain(value)
    match = re.match(r"\d{4}-(\d{2}-\d{2})[T ](\d{2}:\d{2})", text)
    return f"{match[1]} {match[2]}" if match else text[:11]


def trend_svg(history: list[dict], series: list[tuple[str, str, str]]) -> str:
    """A grouped bar chart of the last runs: one group per run, one bar per series.

    ``series`` is ``[(key, label, colour), ...]``; each run's value is ``run[key]`` (missing or
    not a number: 0). Each bar has a ``<title>`` (hover text) and each run's group one more for the
    whole run, so zero-height bars still explain themselves. Returns a well-formed SVG element.
    """
    runs = _rows(history)
    if runs and all(run.get("started_at") for run in runs):
        runs = sorted(runs, key=lambda run: _plain(run.get("started_at")))
    runs = runs[-MAX_TREND_RUNS:]
    series = [(str(k), str(label), str(colour)) for k, label, colour in series]

    width, height = 720, 220
    left, right, top, bottom = 44, 12, 30, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Last runs" '
             'font-family="system-ui, Arial, sans-serif" font-size="11">',
             "<title>Last runs</title>",
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>']

    # Legend, top left.
    x = left
    for _, label, colour in series:
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{_e(colour)}"/>'
                     f'<text x="{x + 14}" y="17">{_e(label)}</text>')
        x += 22 + 7 * len(label)

    if not runs:
        parts.append(f'<text x="{width / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle" fill="#666">'
                     "No runs recorded yet.</text></svg>")
        return "".join(parts)

    peak = max((_number(run.get(key)) for run in runs for key, _, _ in series), default=0.0)
    axis_max = _nice_max(peak)

    # Y axis: gridlines and labels at 0, half and top.
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        tick = axis_max * fraction
        label = f"{tick:g}" if tick != int(tick) else str(int(tick))
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{label}</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>')

    group_w = plot_w / len(runs)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 0.5)
    label_every = max(1, math.ceil(len(runs) / 8))  # at most about 8 x labels, so they never overlap
    for i, run in enumerate(runs):
        gx = left + i * group_w
        summary = ", ".join(f"{label}: {_plain(run.get(key, 0))}" for key, label, _ in series)
        run_title = f"{_plain(run.get('run_id') or '')} · {_plain(run.get('started_at') or '')} · {summary}"
        parts.append(f'<g><title>{_e(run_title)}</title>'
                     f'<rect x="{gx:.2f}" y="{top}" width="{group_w:.2f}" height="{plot_h}" fill="transparent"/>')
        for j, (key, label, colour) in enumerate(series):
            value = _number(run.get(key))
            bar_h = plot_h * value / axis_max
            bx = gx + group_w * 0.1 + j * bar_w
            bar_title = f"{label}: {_plain(run.get(key, 0))} · {_plain(run.get('run_id') or '')}"
            parts.append(f'<rect x="{bx:.2f}" y="{top + plot_h - bar_h:.2f}" width="{bar_w:.2f}" '
                         f'height="{bar_h:.2f}" fill="{_e(colour)}"><title>{_e(bar_title)}</title></rect>')
        parts.append("</g>")
        if i % label_every == 0:
            parts.append(f'<text x="{gx + group_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                         f'fill="#555">{_e(_short_time(run.get("started_at") or run.get("run_id") or i + 1))}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" fill="#555">'
                 f"Run start (oldest → newest, last {len(runs)})</text>")
    parts.append("</svg>")
    return "".join(parts)
