"""Run reports a merchant can read: one self-contained HTML page per DAG run, kept in a folder.

Plain Python on purpose (no Airflow, no third-party packages): the report task calls it, the
reports plugin serves what it wrote, and tests render pages without starting anything. A page has
no JavaScript and no external CSS, fonts or images, so it opens offline, from an e-mail
attachment or a copied file. Every value taken from the data is escaped: product names come from
merchants and a ``<script>`` in a name must show as text.

Public API (re-exported here from the modules named)
----------------------------------------------------
``render_stock_report(data) -> str``, ``render_orders_report(data) -> str`` (``html``)
    A complete HTML page for one run of ``officeguy_stock_to_woocommerce`` /
    ``woocommerce_orders_to_officeguy``.
``trend_svg(history, series) -> str`` (``chart``)
    A small inline SVG bar chart of the last runs (embedded in both pages under "Last runs").
``reports_dir(settings=None) -> Path`` (``storage``)
    The reports folder: ``$STOCK_SYNC_REPORTS_DIR`` when set, else ``$STOCK_SYNC_HOME/reports``.
``report_path(folder, dag_id, run_id) -> Path``, ``write_report(folder, dag_id, run_id, html) -> Path`` (``storage``)
    Where a run's page lives (``<folder>/<dag_id>/<safe run id>.html``) and an atomic write there.
``report_name(run_key, attempt) -> str``, ``split_report_name(name)``, ``latest_try(folder, dag_id, run_key)`` (``storage``)
    One report per try of a run: the first under the run key, the n-th (a run cleared and run again)
    under ``<run key>#<n>``; the newest try that has a report.
``run_id_from_filename(name) -> str | None`` (``storage``)
    The inverse of the file-name encoding (None for the rare hashed, over-long names).
``text_summary(data) -> str`` (``text``)
    A few lines for the task log: counts and the first 10 changes or documents.

``formatting`` holds the value formatting the other modules share (escaping, numbers, times, rows).

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
    store_read:    str   # how the run read the store: the whole of it, or what it saved since the last read
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

from officeguy_woocommerce.include.reports.chart import MAX_TREND_RUNS, ORDERS_SERIES, STOCK_SERIES, trend_svg
from officeguy_woocommerce.include.reports.html import MAX_ROWS, render_orders_report, render_stock_report
from officeguy_woocommerce.include.reports.storage import (
    latest_try,
    report_name,
    report_path,
    reports_dir,
    run_id_from_filename,
    split_report_name,
    write_report,
)
from officeguy_woocommerce.include.reports.text import SUMMARY_ROWS, WAITING_REASON, text_summary

__all__ = [
    "MAX_ROWS",
    "MAX_TREND_RUNS",
    "ORDERS_SERIES",
    "STOCK_SERIES",
    "SUMMARY_ROWS",
    "WAITING_REASON",
    "latest_try",
    "render_orders_report",
    "render_stock_report",
    "report_name",
    "report_path",
    "reports_dir",
    "run_id_from_filename",
    "split_report_name",
    "text_summary",
    "trend_svg",
    "write_report",
]
