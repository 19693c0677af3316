"""Run reports a merchant can read: one self-contained HTML page per DAG run, kept in a folder.

Plain Python on purpose (no Airflow, no third-party packages): the report task calls it, the
reports plugin serves what it wrote, and tests render pages without starting anything. A page has
no JavaScript and no external CSS, fonts or images, so it opens offline, from an e-mail
attachment or a copied file. Every value taken from the data is escaped: product names come from
merchants and a ``<script>`` in a name must show as text.

Public API
----------
``render_stock_report(data) -> str``, ``render_orders_report(data) -> str``
    A complete HTML page for one run of ``officeguy_stock_to_woocommerce`` /
    ``woocommerce_orders_to_officeguy``.
``trend_svg(history, series) -> str``
    A small inline SVG bar chart of the last runs (embedded in both pages under "Last runs").
``report_path(folder, dag_id, run_id) -> Path``, ``write_report(folder, dag_id, run_id, html) -> Path``
    Where a run's page lives (``<folder>/<dag_id>/<safe run id>.html``) and an atomic write there.
``run_id_from_filename(name) -> str | None``
    The inverse of the file-name encoding (None for the rare hashed, over-long names).
``text_summary(data) -> str``
    A few lines for the task log: counts and the first 10 changes or documents.

Input shapes
------------
Every key may be missing or None: the page then shows an empty section, it never raises. Rows
that are not mappings are shown as a single "detail" value. Numbers may be ints, floats (NaN shows
as "–") or strings; times may be ``datetime`` objects or ISO strings.

Common header keys (both flows)::

    dag_id, run_id, status ("succeeded" | "failed" | "blocked" | "dry_run" | "running" | ...),
    started_at, finished_at, duration_s (seconds), dry_run (bool), message (str)

Stock (``render_stock_report``)::

    counts:        {matched, changed, unchanged, unmatched_og, unmatched_woo, skipped, applied,
                    failed, api_calls, ...}   # unknown keys are shown too
    changes:       [{name, sku, woo_id, field, old, new, outcome, error}]
    skipped:       [{woo_id, og_item_id, name, sku, reason, detail}]
    unmatched_og:  [{og_item_id, name, sku, reason, detail}]
    unmatched_woo: [{woo_id, name, sku, type}]
    alerts:        [{name, sku, woo_id, quantity, threshold, kind}]
    history:       [{run_id, started_at, changed, skipped, drift}]

Orders (``render_orders_report``)::

    window:  [start, end] | None             # the modified-date window the run read
    counts:  {...}                           # whatever the run counted
    created: [{order, number, doc_key, document_id, document_number}]   # doc_key: sale | refund:<id> | cancel
    found:   [... same as created]           # documents already in OfficeGuy, recorded not created
    parked:  [{order, doc_key, reason}]      # need a person
    failed:  [{order, doc_key, error}]       # waiting for retry
    cards:   [{woo_id, og_item_id, name, sku}]
    skipped: [{order, reason}]
    history: [{run_id, started_at, created, parked, failed}]

``history`` is the last runs, including this one; it is drawn oldest to newest (sorted by
``started_at`` when every entry has one) and at most the last 50 are drawn.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import re
import string
import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

MAX_ROWS = 500
"""Rows shown per table; the rest are counted ("… and 1,234 more")."""
MAX_TREND_RUNS = 50
SUMMARY_ROWS = 10

STOCK_SERIES = [("changed", "Changed", "#2b7bb9"), ("skipped", "Skipped", "#e3a21a"), ("drift", "Drift", "#c0392b")]
ORDERS_SERIES = [("created", "Created", "#2b7bb9"), ("parked", "Parked", "#e3a21a"), ("failed", "Failed", "#c0392b")]

# Status → (background, text). Unknown statuses are grey: a new status must never break a page.
_STATUS_COLOURS = {
    "succeeded": ("#1e7e34", "#fff"), "success": ("#1e7e34", "#fff"),
    "dry_run": ("#2b7bb9", "#fff"),
    "running": ("#6c757d", "#fff"), "queued": ("#6c757d", "#fff"),
    "failed": ("#c0392b", "#fff"),
    "blocked": ("#d35400", "#fff"),
    "partial": ("#e3a21a", "#000"),
}
_GREY = ("#6c757d", "#fff")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,"Noto Sans Hebrew",sans-serif;margin:0;
 padding:1.5rem;color:#222;background:#f6f7f9;line-height:1.4}
main{max-width:1200px;margin:0 auto}
h1{font-size:1.4rem;margin:0 0 .5rem}
h2{font-size:1.1rem;margin:1.8rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h2 .n{color:#666;font-weight:normal;font-size:.9rem}
.status{display:inline-block;padding:.1rem .6rem;border-radius:1rem;font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dl.meta dt{color:#555}
dl.meta dd{margin:0}
.message{background:#fff3cd;border:1px solid #e3c26a;padding:.5rem .8rem;border-radius:4px;white-space:pre-wrap}
.counts{display:flex;flex-wrap:wrap;gap:.5rem}
.count{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.4rem .8rem;min-width:6rem}
.count b{display:block;font-size:1.2rem}
.count span{color:#555;font-size:.85rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:start;vertical-align:top}
th{background:#eef0f3}
td.num{text-align:end;font-variant-numeric:tabular-nums}
.empty{color:#666;font-style:italic}
.more{color:#666;margin:.3rem 0}
.ok{color:#1e7e34}.bad{color:#c0392b;font-weight:600}.warn{color:#a86b00}
.arrow{color:#888}
footer{margin-top:2rem;color:#888;font-size:.8rem}
"""

_PAGE = string.Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="stock-sync-dag-id" content="$dag_id">
<meta name="stock-sync-run-id" content="$run_id">
<meta name="stock-sync-status" content="$status">
<title>$title</title>
<style>$css</style>
</head>
<body>
<main>
$body
<footer>Generated $generated by the stock sync pipeline. This page is self-contained and opens offline.</footer>
</main>
</body>
</html>
""")


# --- value formatting --------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Escape any value for HTML text and attributes; None and NaN become an en dash."""
    return html.escape(_plain(value), quote=True)


def _plain(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        # Stock figures arrive as floats from pandas; 12.0 reads better as 12.
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _when(value: Any) -> str:
    """A time as 'YYYY-MM-DD HH:MM:SS+00:00', whether it came as a datetime or an ISO string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return _plain(value)


def _number(value: Any) -> float:
    """A count for charts and totals: anything that is not a finite non-negative number is 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


def _duration(seconds: Any) -> str:
    try:
        total = float(seconds)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(total) or total < 0:
        return "–"
    if total < 60:
        return f"{total:.1f} s"
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {secs} s" if hours else f"{minutes} min {secs} s"


def _rows(value: Any) -> list[Mapping]:
    """Rows of a table, tolerating None, a non-list or odd items."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        return []
    try:
        items = list(value)
    except TypeError:
        return []
    return [item if isinstance(item, Mapping) else {"detail": item} for item in items]


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _doc_kind(doc_key: Any) -> str:
    """The ledger's doc_key is ``sale``, ``refund:<id>`` or ``cancel``; the kind is its first part."""
    return str(doc_key or "").split(":", 1)[0] or "–"


# --- building blocks ----------------------------------------------------------------------------------

# A column: (key or callable(row) -> value, header, kind). Kinds: "name" (merchant text: dir=auto so
# Hebrew and emoji lay out right), "num" (right-aligned), "outcome" (coloured), "" (plain).
Column = tuple[Any, str, str]


def _cell(row: Mapping, column: Column) -> str:
    key, _, kind = column
    value = key(row) if callable(key) else row.get(key)
    text = _e(value)
    if kind == "name":
        return f'<td dir="auto">{text}</td>'
    if kind == "num":
        return f'<td class="num">{text}</td>'
    if kind == "outcome":
        word = _plain(value).lower().split(":", 1)[0].strip()
        css = "bad" if word in {"failed", "error", "invalid"} else "ok" if word in {"applied", "ok", "written"} else ""
        return f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>"
    return f"<td>{text}</td>"


def _table(columns: list[Column], rows: list[Mapping], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(header)}</th>" for _, header, _ in columns)
    body = "\n".join("<tr>" + "".join(_cell(row, c) for c in columns) + "</tr>" for row in rows[:MAX_ROWS])
    more = ""
    if len(rows) > MAX_ROWS:
        more = f'<p class="more">Showing the first {MAX_ROWS:,} rows; {len(rows) - MAX_ROWS:,} more not shown.</p>'
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n{more}"


def _section(title: str, rows: list[Mapping], columns: list[Column], empty: str, note: str = "") -> str:
    note_html = f"<p>{_e(note)}</p>\n" if note else ""
    return (f'<section>\n<h2>{_e(title)} <span class="n">({len(rows):,})</span></h2>\n{note_html}'
            f"{_table(columns, rows, empty)}\n</section>")


def _header(data: Mapping, title: str, extra: list[tuple[str, Any]]) -> str:
    status = _plain(data.get("status") or "unknown")
    background, colour = _STATUS_COLOURS.get(status.lower(), _GREY)
    meta = [
        ("DAG", data.get("dag_id")),
        ("Run", data.get("run_id")),
        ("Started", _when(data.get("started_at"))),
        ("Finished", _when(data.get("finished_at"))),
        ("Duration", _duration(data.get("duration_s"))),
        ("Dry run", bool(data.get("dry_run"))),
        *extra,
    ]
    rows = "\n".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta)
    message = data.get("message")
    message_html = f'<p class="message" dir="auto">{_e(message)}</p>' if message else ""
    return (f"<header>\n<h1>{_e(title)} "
            f'<span class="status" style="background:{background};color:{colour}">{_e(status)}</span></h1>\n'
            f'<dl class="meta">\n{rows}\n</dl>\n{message_html}\n</header>')


def _counts(counts: Mapping, order: list[tuple[str, str]]) -> str:
    """Known counts first, in a sensible order, then any others the run reported."""
    labels = dict(order)
    keys = [k for k, _ in order if k in counts] + [k for k in counts if k not in labels]
    if not keys:
        return '<section>\n<h2>Counts</h2>\n<p class="empty">No counts recorded.</p>\n</section>'
    boxes = "\n".join(
        f'<div class="count"><b>{_e(counts[k])}</b><span>{_e(labels.get(k, str(k).replace("_", " ")))}</span></div>'
        for k in keys)
    return f'<section>\n<h2>Counts</h2>\n<div class="counts">\n{boxes}\n</div>\n</section>'


def _trend_section(history: Any, series: list[tuple[str, str, str]]) -> str:
    return f"<section>\n<h2>Last runs</h2>\n{trend_svg(_rows(history), series)}\n</section>"


def _page(data: Mapping, title: str, body: str) -> str:
    return _PAGE.substitute(
        dag_id=_e(data.get("dag_id") or ""),
        run_id=_e(data.get("run_id") or ""),
        status=_e(data.get("status") or ""),
        title=_e(f"{title} · {_plain(data.get('run_id') or '')}"),
        css=_CSS,
        body=body,
        generated=_e(datetime.now().astimezone().isoformat(sep=" ", timespec="seconds")),
    )


# --- the two pages ------------------------------------------------------------------------------------

_STOCK_COUNTS = [
    ("matched", "matched"), ("changed", "changed"), ("unchanged", "unchanged"), ("applied", "applied"),
    ("failed", "failed"), ("skipped", "skipped"), ("unmatched_og", "unmatched in OfficeGuy"),
    ("unmatched_woo", "unmatched in WooCommerce"), ("service_cards", "service cards ignored"),
    ("cards_opened", "new cards opened"), ("api_calls", "API calls"),
]
# Cards the orders flow created that OfficeGuy has no stock for yet (include/stock_plan.py rule 7).
WAITING_REASON = "waiting for opening stock in OfficeGuy"


def render_stock_report(data: Mapping) -> str:
    """The HTML page for one run of the stock DAG (OfficeGuy → WooCommerce)."""
    data = _mapping(data)
    counts = _mapping(data.get("counts"))
    changes = _rows(data.get("changes"))

    def old_to_new(row: Mapping) -> str:
        return f"{_plain(row.get('old'))} → {_plain(row.get('new'))}"

    def outcome(row: Mapping) -> Any:
        return row.get("outcome") if not row.get("error") else f"{_plain(row.get('outcome'))}: {_plain(row['error'])}"

    sections = [
        _header(data, "Stock sync: OfficeGuy → WooCommerce",
                [("API calls", counts.get("api_calls"))]),
        _counts(counts, _STOCK_COUNTS),
        _section("What changed", changes, [
            ("name", "Product", "name"), ("sku", "SKU", "name"), ("woo_id", "Woo id", "num"),
            ("field", "Field", ""), (old_to_new, "Old → new", ""), (outcome, "Outcome", "outcome"),
        ], "Nothing changed."),
        _section("Skipped", _rows(data.get("skipped")), [
            ("name", "Product", "name"), ("sku", "SKU", "name"), ("woo_id", "Woo id", "num"),
            ("og_item_id", "OfficeGuy item", "num"), ("reason", "Reason", ""), ("detail", "Detail", "name"),
        ], "Nothing skipped.", "Matched products this run did not write."),
        _section("Unmatched in OfficeGuy", _rows(data.get("unmatched_og")), [
            ("name", "Item", "name"), ("sku", "SKU", "name"), ("og_item_id", "OfficeGuy item", "num"),
            ("reason", "Reason", ""), ("detail", "Detail", "name"),
        ], "Every OfficeGuy item found its WooCommerce product.",
            "OfficeGuy items with no WooCommerce product: their stock is not synced."),
        _section("Unmatched in WooCommerce", _rows(data.get("unmatched_woo")), [
            ("name", "Product", "name"), ("sku", "SKU", "name"), ("woo_id", "Woo id", "num"), ("type", "Type", ""),
        ], "Every WooCommerce product found its OfficeGuy item.",
            "Store products no OfficeGuy item points to: their stock is left as it is."),
        _section("Alerts sent", _rows(data.get("alerts")), [
            ("name", "Product", "name"), ("sku", "SKU", "name"), ("woo_id", "Woo id", "num"),
            ("quantity", "Quantity", "num"), ("threshold", "Threshold", "num"), ("kind", "Kind", ""),
        ], "No stock alerts this run."),
        _trend_section(data.get("history"), STOCK_SERIES),
    ]
    return _page(data, "Stock sync report", "\n".join(sections))


_ORDERS_COUNTS = [
    ("orders", "orders read"), ("created", "documents created"), ("found", "found in OfficeGuy"),
    ("parked", "parked"), ("failed", "waiting for retry"), ("cards", "item cards created"),
    ("skipped", "skipped"), ("api_calls", "API calls"),
]


def render_orders_report(data: Mapping) -> str:
    """The HTML page for one run of the orders DAG (WooCommerce → OfficeGuy documents)."""
    data = _mapping(data)
    counts = _mapping(data.get("counts"))
    window = data.get("window")
    if isinstance(window, (list, tuple)) and len(window) == 2:
        window_text = f"{_when(window[0])} → {_when(window[1])}"
    else:
        window_text = "– (only the orders named in the run's parameters, or none)"
    documents: list[Column] = [
        ("order", "Order", "num"), ("number", "Order number", "name"), ("document_number", "Document number", "name"),
        ("document_id", "Document id", "num"), (lambda row: _doc_kind(row.get("doc_key")), "Kind", ""),
    ]
    sections = [
        _header(data, "Orders sync: WooCommerce → OfficeGuy",
                [("Window read", window_text), ("API calls", counts.get("api_calls"))]),
        _counts(counts, _ORDERS_COUNTS),
        _section("Documents created", _rows(data.get("created")), documents, "No documents created."),
        _section("Found already in OfficeGuy", _rows(data.get("found")), documents, "None.",
                 "Documents an earlier attempt had created; recorded, not created again."),
        _section("Parked", _rows(data.get("parked")), [
            ("order", "Order", "num"), (lambda row: _doc_kind(row.get("doc_key")), "Kind", ""),
            ("reason", "Reason", "name"),
        ], "Nothing parked.", "These orders need a person: fix the cause, then modify the order in WooCommerce "
                              "and the next run tries again."),
        _section("Waiting for retry", _rows(data.get("failed")), [
            ("order", "Order", "num"), (lambda row: _doc_kind(row.get("doc_key")), "Kind", ""),
            ("error", "Error", "name"),
        ], "Nothing waiting.", "The next run tries these again."),
        _section("Item cards created", _rows(data.get("cards")), [
            ("name", "Product", "name"), ("sku", "SKU", "name"), ("woo_id", "Woo id", "num"),
            ("og_item_id", "OfficeGuy item", "num"),
        ], "No new item cards."),
        _section("Skipped", _rows(data.get("skipped")), [("order", "Order", "num"), ("reason", "Reason", "name")],
                 "Nothing skipped."),
        _trend_section(data.get("history"), ORDERS_SERIES),
    ]
    return _page(data, "Orders sync report", "\n".join(sections))


# --- the trend chart ----------------------------------------------------------------------------------


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


# --- where reports live ------------------------------------------------------------------------------

_DAG_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}")  # Airflow's dag id alphabet, no leading dot
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_MAX_STEM = 180  # well under the 255-byte file-name limit, leaving room for ".html" and temp names
_HASH_MARK = "~"  # never produced by the encoding itself, so a hashed name cannot collide with a plain one


def _encode_run_id(run_id: str) -> str:
    """Percent-encode everything outside [A-Za-z0-9_.-] (UTF-8 bytes), and a leading dot.

    ``manual__2026-03-01T03:00:00+00:00`` → ``manual__2026-03-01T03%3A00%3A00%2B00%3A00``: readable,
    reversible, no separators, never ``.``/``..``, no hidden files. Over-long results keep a prefix
    and end with ``~`` and a hash of the full run id.
    """
    out = "".join(ch if ch in _KEEP else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in run_id)
    if out.startswith("."):
        out = "%2E" + out[1:]
    if len(out) > _MAX_STEM:
        digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:20]
        out = out[: _MAX_STEM - len(digest) - 1] + _HASH_MARK + digest
    return out


def run_id_from_filename(name: str) -> str | None:
    """The run id a report file name encodes (``….html``), or None for hashed long names."""
    from urllib.parse import unquote

    stem = name[:-5] if name.endswith(".html") else name
    if _HASH_MARK in stem:
        return None
    return unquote(stem, encoding="utf-8", errors="replace")


def report_path(folder: Path | str, dag_id: str, run_id: str) -> Path:
    """``<folder>/<dag_id>/<encoded run id>.html``. Raises ValueError for anything that could leave
    the folder (a dag id with separators or dots in front, an empty run id, a symlink out)."""
    if not isinstance(dag_id, str) or not _DAG_ID.fullmatch(dag_id):
        raise ValueError(f"not a valid DAG id for a report: {dag_id!r}")
    if not isinstance(run_id, str) or not run_id or "\x00" in run_id:
        raise ValueError(f"not a valid run id for a report: {run_id!r}")
    root = Path(folder)
    path = root / dag_id / f"{_encode_run_id(run_id)}.html"
    # Belt and braces: the encoding already rules out separators, but a symlinked DAG folder could
    # still point elsewhere; resolve() follows it and the check refuses the result.
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"report path for {dag_id!r}/{run_id!r} leaves the reports folder")
    return path


def write_report(folder: Path | str, dag_id: str, run_id: str, html_text: str) -> Path:
    """Write a report atomically (temp file in the same folder, then rename): a reader — the
    plugin serving it, a merchant refreshing — sees the old page or the new one, never half."""
    path = report_path(folder, dag_id, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The dot prefix hides the temp file from the plugin's index while it is being written.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html_text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; the api-server serving the page may run as another user of the group.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- the task log's summary ---------------------------------------------------------------------------


def _is_orders(data: Mapping) -> bool:
    return any(k in data for k in ("created", "found", "parked", "window")) or "orders" in str(data.get("dag_id", ""))


def _list_lines(rows: list[Mapping], line: Any, title: str) -> Iterable[str]:
    if not rows:
        return []
    lines = [f"{title} ({len(rows)}):"] + [f"  {line(row)}" for row in rows[:SUMMARY_ROWS]]
    if len(rows) > SUMMARY_ROWS:
        lines.append(f"  … and {len(rows) - SUMMARY_ROWS} more (see the HTML report)")
    return lines


def text_summary(data: Mapping) -> str:
    """A few plain lines for the task log: header, counts, first 10 changes or documents."""
    data = _mapping(data)
    counts = _mapping(data.get("counts"))
    dry = " (dry run)" if data.get("dry_run") else ""
    lines = [f"{_plain(data.get('dag_id') or '?')} {_plain(data.get('run_id') or '?')}: "
             f"{_plain(data.get('status') or 'unknown')}{dry}, {_duration(data.get('duration_s'))}"]
    if data.get("message"):
        lines.append(_plain(data["message"]))
    lines.append("Counts: " + (", ".join(f"{k}={_plain(v)}" for k, v in counts.items()) or "none"))
    if _is_orders(data):
        window = data.get("window")
        if isinstance(window, (list, tuple)) and len(window) == 2:
            lines.append(f"Window: {_when(window[0])} → {_when(window[1])}")

        def document(row: Mapping) -> str:
            return (f"order {_plain(row.get('number') or row.get('order'))} → document "
                    f"{_plain(row.get('document_number'))} ({_doc_kind(row.get('doc_key'))})")

        lines += _list_lines(_rows(data.get("created")), document, "Documents created")
        lines += _list_lines(_rows(data.get("parked")),
                             lambda r: f"order {_plain(r.get('order'))} ({_doc_kind(r.get('doc_key'))}): "
                                       f"{_plain(r.get('reason'))}", "Parked, need a person")
        lines += _list_lines(_rows(data.get("failed")),
                             lambda r: f"order {_plain(r.get('order'))}: {_plain(r.get('error'))}",
                             "Waiting for retry")
    else:
        def change(row: Mapping) -> str:
            error = f" — {_plain(row['error'])}" if row.get("error") else ""
            return (f"{_plain(row.get('name'))} [SKU {_plain(row.get('sku'))}, Woo {_plain(row.get('woo_id'))}] "
                    f"{_plain(row.get('field'))}: {_plain(row.get('old'))} → {_plain(row.get('new'))} "
                    f"({_plain(row.get('outcome'))}){error}")

        lines += _list_lines(_rows(data.get("changes")), change, "Changes")
        lines += _list_lines([r for r in _rows(data.get("skipped")) if r.get("reason") == WAITING_REASON],
                             lambda r: f"{_plain(r.get('name'))} [SKU {_plain(r.get('sku'))}, Woo "
                                       f"{_plain(r.get('woo_id'))}, OfficeGuy item {_plain(r.get('og_item_id'))}]",
                             "Waiting for opening stock in OfficeGuy (the store's quantity is left as it is)")
    return "\n".join(lines)
