"""What quantity will each WooCommerce product get? The stock plan, OfficeGuy -> WooCommerce.

This is the functional core of the stock DAG (`officeguy_stock_to_woocommerce`): plain functions
over pandas frames, no HTTP, no Airflow, no database. The extract tasks build the two input
frames; the apply task sends `StockPlan.payloads()` to Woo's batch endpoints; the report and the
ledger read the other frames.

The rules, in the order they run (the tests in tests/unit/test_stock_plan.py have one table each;
each module's docstring states its rules in full):

1. Matching, per OfficeGuy item: ExternalIdentifier, then SKU, then exact name when
   `match_by_name`; nothing is guessed, every item not matched for sure is reported (`matching`).
2. What gets written: a quantity for managed stock, a stock_status for unmanaged stock, the
   parent's quantity for a parent-managed variation, nothing for the rest (`planning`).
3. Only changed values are written; the rest are `unchanged` (`planning`).
4. Safety brake (I5): no OfficeGuy items at all, or most planned products cut, blocks the plan
   unless `force` (`brake`).
5. Every payload is validated before it leaves this package (I4) (`payloads`).
6. Service cards (shipping, fee, rounding, refund lines of the orders flow) are left out before
   matching and only counted (`cards`).
7. Opening stock: a card the orders flow created waits, and the store keeps its own quantity,
   until OfficeGuy's stock shows another movement than our own documents (`cards`).

Modules: `contract` (input and output columns, `Reason`, errors), `options` (`PlanOptions`),
`normalise` (the input frames checked and cleaned), `matching`, `planning`, `cards`, `brake`,
`payloads`, and `plan` (`plan_stock`, the driver that runs them in order, and its result `StockPlan`).
"""

from __future__ import annotations

from officeguy_woocommerce.include.stock_plan.contract import (
    CHANGE_COLUMNS,
    OG_ITEM_COLUMNS,
    SERVICE_LABELS,
    SKIPPED_COLUMNS,
    UNMATCHED_OG_COLUMNS,
    UNMATCHED_WOO_COLUMNS,
    WOO_PRODUCT_COLUMNS,
    InvalidPayloadError,
    Reason,
    StockPlanBlocked,
    StockPlanInputError,
)
from officeguy_woocommerce.include.stock_plan.matching import match_og_items
from officeguy_woocommerce.include.stock_plan.options import PlanOptions
from officeguy_woocommerce.include.stock_plan.payloads import build_payloads, validate_payload_item
from officeguy_woocommerce.include.stock_plan.plan import plan_stock

__all__ = [
    "CHANGE_COLUMNS",
    "OG_ITEM_COLUMNS",
    "SERVICE_LABELS",
    "SKIPPED_COLUMNS",
    "UNMATCHED_OG_COLUMNS",
    "UNMATCHED_WOO_COLUMNS",
    "WOO_PRODUCT_COLUMNS",
    "InvalidPayloadError",
    "PlanOptions",
    "Reason",
    "StockPlanBlocked",
    "StockPlanInputError",
    "build_payloads",
    "match_og_items",
    "plan_stock",
    "validate_payload_item",
]
