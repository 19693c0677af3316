"""Rule 5, the WooCommerce batch payloads: every payload is validated before it leaves this package
(I4; Woo's batch endpoint turns `"abc"` into 0, woocommerce-api.md A4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import MAX_ABS_QUANTITY, STOCK_STATUSES, InvalidPayloadError


def validate_payload_item(item: Mapping[str, Any]) -> None:
    """Raise InvalidPayloadError unless `item` is exactly {"id": int, "stock_quantity": int} or
    {"id": int, "stock_status": enum}. Woo's batch endpoint skips schema validation (A4)."""
    keys = set(item)
    if keys not in ({"id", "stock_quantity"}, {"id", "stock_status"}):
        raise InvalidPayloadError(f"payload must be id + stock_quantity or id + stock_status, got keys {sorted(keys)}")
    if type(item["id"]) is not int or item["id"] <= 0:
        raise InvalidPayloadError(f"payload id must be a positive int, got {item['id']!r}")
    if "stock_quantity" in item:
        q = item["stock_quantity"]
        if type(q) is not int or abs(q) > MAX_ABS_QUANTITY:
            raise InvalidPayloadError(
                f"stock_quantity for {item['id']} must be an int within ±{MAX_ABS_QUANTITY}, got {q!r}"
            )
    elif type(item["stock_status"]) is not str or item["stock_status"] not in STOCK_STATUSES:
        raise InvalidPayloadError(
            f"stock_status for {item['id']} must be one of {sorted(STOCK_STATUSES)}, got {item['stock_status']!r}"
        )


def _plain(value: Any) -> Any:
    # numpy scalars are converted, never floats or strings: int("4") or int(2.7) would hide a bug.
    return int(value) if isinstance(value, np.integer) and not isinstance(value, np.bool_) else value


def build_payloads(changes: pd.DataFrame) -> dict[str, Any]:
    """{"products": [...], "variations": {parent_id: [...]}} from a changes frame, validated."""
    products: list[dict[str, Any]] = []
    variations: dict[int, list[dict[str, Any]]] = {}
    seen: set[int] = set()
    for woo_id, parent_id, kind, field_name, new in zip(
        changes["woo_id"], changes["parent_id"], changes["target_kind"], changes["field"], changes["new"], strict=True
    ):
        if field_name not in ("stock_quantity", "stock_status"):
            raise InvalidPayloadError(f"unknown field {field_name!r} for {woo_id}")
        item = {"id": _plain(woo_id), field_name: _plain(new)}
        validate_payload_item(item)
        if item["id"] in seen:  # two writes to one product: the plan contradicts itself
            raise InvalidPayloadError(f"Woo product {woo_id} is written twice")
        seen.add(item["id"])
        parent_id = _plain(parent_id)
        if kind == "product":
            if parent_id != 0:
                raise InvalidPayloadError(f"product {woo_id} has parent_id {parent_id!r}")
            products.append(item)
        elif kind == "variation":
            if type(parent_id) is not int or parent_id <= 0:
                raise InvalidPayloadError(f"variation {woo_id} needs a positive parent_id, got {parent_id!r}")
            variations.setdefault(parent_id, []).append(item)
        else:
            raise InvalidPayloadError(f"target_kind must be product or variation, got {kind!r}")
    return {"products": products, "variations": variations}
