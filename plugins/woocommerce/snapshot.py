"""The stock extract's state between runs: the last complete picture of a store's products, and where a read
of what changed since then starts (a Singer stream's bookmark, kept beside the data it describes).

Plain Python, no Airflow and no HTTP: ``WooCommerceStockExtractOperator`` reads and writes the file, the
hook does the calls. What makes an incremental read complete (woocommerce-api.md A3):

- every product save moves the product's ``date_modified_gmt``, a no-op save and an order's stock
  reduction or restore included [rec 142, 143];
- a variation's save moves its parent's date too (``wc_deferred_product_sync``) [rec 113-115], so the
  variation lists to re-read are those of the variable products that changed;
- ``modified_after`` compares strictly, to the second, on the store's clock: the cursor is the store's
  ``Date`` when the read began, less ``CURSOR_MARGIN``, so a save during the read or in the same second
  is read again rather than missed;
- a trashed product leaves the default listing (``status=any`` excludes trash) [rec 150, 151]: the
  products trashed since the cursor are listed on their own and dropped.

What it cannot see: a product deleted for good without passing through the trash, and a plugin that
writes the stock meta directly without saving the product. The scheduled runs read the whole store, and
so does any run whose snapshot is older than its maximum age.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

VERSION = 1
CURSOR_MARGIN = timedelta(seconds=60)


def cursor_of(server_date: datetime | None) -> str | None:
    """The cursor for the next read: the store's clock at this read's first answer, less the margin,
    as naive UTC (sent with ``dates_are_gmt=true``: A3)."""
    if server_date is None:
        return None
    return (server_date.astimezone(UTC) - CURSOR_MARGIN).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def load(path: str | Path | None) -> dict | None:
    """The snapshot at ``path``; None when there is none or it cannot be read."""
    if not path:
        return None
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def why_not_usable(snapshot: dict | None, *, store: str, fields: str, now: datetime, max_age: timedelta) -> str:
    """Why ``snapshot`` cannot be the base of an incremental read of ``store`` ("" when it can)."""
    if snapshot is None:
        return "there is no earlier read of this store to start from"
    read = snapshot.get("read") or {}
    if snapshot.get("version") != VERSION or snapshot.get("fields") != fields:
        return "the last read was made by another version of this project"
    if snapshot.get("store") != store:
        return f"the last read was of another store ({snapshot.get('store')!r})"
    if not read.get("cursor"):
        return "the store sent no usable Date header with the last read, so it has no starting point"
    try:
        saved = datetime.fromisoformat(str(read.get("saved_at")))
    except ValueError:
        return "the last read has no time"
    if now - saved > max_age:
        hours = max_age.total_seconds() / 3600
        return f"the last read is older than {hours:g} hours (saved {saved:%Y-%m-%d %H:%M} UTC)"
    return ""


def merge(rows: list[dict], rejected: list[dict], *, changed: list[dict], variations: list[dict],
          gone: Iterable[int], new_rejected: list[dict]) -> tuple[list[dict], list[dict]]:
    """The snapshot's ``rows`` with what the store says changed: ``changed`` products replace theirs (and
    all of their variations, which ``variations`` brings back for the variable ones); products in ``gone``
    leave with their variations. Rejected rows follow the same rule."""
    replaced = {int(r["id"]) for r in changed} | {int(i) for i in gone}
    fresh = replaced | {int(r["id"]) for r in variations}
    kept = [r for r in rows if int(r["id"]) not in fresh and int(r.get("parent_id") or 0) not in replaced]
    gone_ids = {int(i) for i in gone}
    added = [r for r in changed if int(r["id"]) not in gone_ids] + variations
    still = [r for r in rejected if r.get("woo_id") not in fresh and r.get("parent_id") not in replaced]
    return kept + added, still + new_rejected


def document(*, store: str, fields: str, rows: list[dict], rejected: list[dict], read: dict[str, Any],
             now: datetime) -> dict:
    """What the extract writes (its output and, when complete, the next run's snapshot)."""
    return {"version": VERSION, "store": store, "fields": fields, "products": rows, "rejected": rejected,
            "read": {**read, "saved_at": now.astimezone(UTC).isoformat()}}
