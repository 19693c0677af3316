"""The task log's summary of a run: a few plain lines, counts and the first changes or documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from officeguy_woocommerce.include.reports.formatting import _doc_kind, _duration, _mapping, _plain, _rows, _when

SUMMARY_ROWS = 10
# Cards the orders flow created that OfficeGuy has no stock for yet (include/stock_plan/ rule 7).
WAITING_REASON = "waiting for opening stock in OfficeGuy"


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
    attempt = data.get("attempt")
    try_text = f" (try {_plain(attempt)})" if isinstance(attempt, int) and attempt > 1 else ""
    lines = [f"{_plain(data.get('dag_id') or '?')} {_plain(data.get('run_id') or '?')}{try_text}: "
             f"{_plain(data.get('status') or 'unknown')}{dry}, {_duration(data.get('duration_s'))}"]
    if data.get("message"):
        lines.append(_plain(data["message"]))
    lines.append("Counts: " + (", ".join(f"{k}={_plain(v)}" for k, v in counts.items()) or "none"))
    if _is_orders(data):
        window = data.get("window")
        if isinstance(window, (list, tuple)) and len(window) == 2:
            lines.append(f"Window: {_when(window[0])} → {_when(window[1])}")
        if "already_documented" in counts:
            lines.append(f"Documents created: {_plain(counts.get('created', 0))}, already documented: "
                         f"{_plain(counts['already_documented'])} (orders whose sale the ledger had before this run)")

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
        if data.get("store_read"):
            lines.append(f"Store read: {_plain(data['store_read'])}")

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
