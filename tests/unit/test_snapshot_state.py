"""When a triggered run may start from the last read of the store, and when it must read it all
(plugins/woocommerce/snapshot.py): every reason a snapshot is refused, and the cursor's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from officeguy_woocommerce.woocommerce import snapshot

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
STORE, FIELDS = "https://shop.example", "id,sku,stock_quantity"


def _snap(**over) -> dict:
    doc = snapshot.document(store=STORE, fields=FIELDS, rows=[], rejected=[],
                            read={"mode": "full", "cursor": "2026-12-02T10:59:00"}, now=NOW - timedelta(hours=1))
    read = {**doc["read"], **over.pop("read", {})}
    return {**doc, **over, "read": read}


@pytest.mark.parametrize(("snap", "why"), [
    (_snap(), ""),
    (None, "no earlier read"),
    (_snap(store="https://other.example"), "another store ('https://other.example')"),
    (_snap(fields="id"), "another version of this project"),
    (_snap(version=0), "another version of this project"),
    (_snap(read={"cursor": None}), "no usable Date header"),
    (_snap(read={"saved_at": "yesterday"}), "has no time"),
    (_snap(read={"saved_at": (NOW - timedelta(hours=25)).isoformat()}), "older than 24 hours"),
])
def test_a_snapshot_is_used_only_when_it_is_this_stores_recent_read(snap, why):
    reason = snapshot.why_not_usable(snap, store=STORE, fields=FIELDS, now=NOW, max_age=timedelta(hours=24))
    assert (why in reason) if why else reason == ""


def test_the_cursor_is_the_stores_clock_less_the_margin_as_naive_utc():
    from datetime import timezone

    israel = timezone(timedelta(hours=2))
    assert snapshot.cursor_of(datetime(2026, 12, 2, 14, 0, 30, tzinfo=israel)) == "2026-12-02T11:59:30"
    assert snapshot.cursor_of(None) is None


def test_merge_replaces_changed_products_with_all_their_variations_and_drops_trashed_ones():
    rows = [{"id": 1, "parent_id": 0}, {"id": 2, "parent_id": 0}, {"id": 3, "parent_id": 2},
            {"id": 4, "parent_id": 2}, {"id": 5, "parent_id": 0}, {"id": 6, "parent_id": 5}]
    rejected = [{"woo_id": 4, "parent_id": 2, "reason": "bad"}, {"woo_id": 9, "parent_id": 0, "reason": "bad too"}]
    merged, still = snapshot.merge(rows, rejected, changed=[{"id": 2, "parent_id": 0, "new": True}],
                                   variations=[{"id": 3, "parent_id": 2, "new": True}], gone=[5],
                                   new_rejected=[{"woo_id": 7, "reason": "new"}])
    # 4 left product 2 (it is no longer among its variations, and no longer rejected); 5 and its variation 6
    # went to the trash
    assert sorted((r["id"], r.get("new", False)) for r in merged) == [(1, False), (2, True), (3, True)]
    assert [r["woo_id"] for r in still] == [9, 7]
