"""Rule 4, the safety brake (I5): no OfficeGuy items at all, or most planned products cut, blocks
the plan unless `force` (`PlanOptions.brake_share`, `brake_min_affected`)."""

from __future__ import annotations

import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import STOCK_DAG_ID
from officeguy_woocommerce.include.stock_plan.options import PlanOptions

_FORCE_HINT = (
    f"Nothing was written. If OfficeGuy's numbers are right, trigger the DAG '{STOCK_DAG_ID}' again "
    'with the param force = true (Trigger DAG w/ config: {"force": true}).'
)


def _safety_brake(
    og: pd.DataFrame, changes: pd.DataFrame, unchanged: pd.DataFrame, options: PlanOptions, *, service_cards: int = 0
) -> str | None:
    """The message that stops the run, or None.

    A product is *cut* when its quantity goes down, or its unmanaged stock_status goes from instock
    to outofstock (the same harm for a shop that does not count stock); *zeroed* when it leaves
    stock (quantity > 0 to <= 0, or instock to outofstock). The share is over every planned
    product, unchanged ones included, and must be exceeded strictly.
    """
    if og.empty:
        only = f" besides {service_cards} service cards" if service_cards else " at all"
        return f"Safety brake: OfficeGuy returned no stock items{only} (is the stock module on?). {_FORCE_HINT}"
    total = len(changes) + len(unchanged)
    if total == 0:
        return None
    quantity = changes["field"] == "stock_quantity"
    old_q = pd.to_numeric(changes["old"].where(quantity), errors="coerce")
    new_q = pd.to_numeric(changes["new"].where(quantity), errors="coerce")
    status_out = ~quantity & (changes["old"] == "instock") & (changes["new"] == "outofstock")
    cut = int(((new_q < old_q) | status_out).sum())
    zeroed = int((((old_q > 0) & (new_q <= 0)) | status_out).sum())
    worst = max(cut, zeroed)  # a zeroed product is also a cut one; both are named in the message
    if worst <= options.brake_share * total or worst < options.brake_min_affected:
        return None
    return (
        f"Safety brake: this run would cut {cut} and take out of stock {zeroed} of the {total} matched "
        f"products, more than the allowed {options.brake_share:.0%}. {_FORCE_HINT}"
    )
