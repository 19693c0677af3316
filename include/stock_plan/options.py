"""`PlanOptions`: what the DAG params and the configuration decide for one run of the planner."""

from __future__ import annotations

from dataclasses import dataclass

from officeguy_woocommerce.include.stock_plan.contract import SERVICE_LABELS, _is_int


@dataclass(frozen=True)
class PlanOptions:
    """What the DAG params and the configuration decide.

    brake_share: the plan is blocked when *strictly more* than this share of the planned products
        would be cut. brake_min_affected: and at least this many of them; below it a share says
        little (1 of 1 product selling out is 100 %) and the harm is bounded to a couple of products.
    """

    match_by_name: bool = False
    skus: frozenset[str] = frozenset()  # empty: every product
    force: bool = False
    brake_share: float = 0.5
    brake_min_affected: int = 3
    # Service cards (rule 6): names of label-only cards, and ids configured as service cards.
    service_labels: frozenset[str] = SERVICE_LABELS
    service_item_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.brake_share <= 1:
            raise ValueError(f"brake_share must be between 0 and 1, got {self.brake_share!r}")
        if self.brake_min_affected < 1:
            raise ValueError(f"brake_min_affected must be at least 1, got {self.brake_min_affected!r}")
        if isinstance(self.skus, str):  # a lone "ABC" would otherwise become {"A", "B", "C"}
            raise ValueError("skus must be a collection of SKUs, not a single string")
        object.__setattr__(self, "skus", frozenset(str(s).strip() for s in self.skus if str(s).strip()))
        if isinstance(self.service_labels, str) or isinstance(self.service_item_ids, str):
            raise ValueError("service_labels and service_item_ids must be collections, not a single string")
        object.__setattr__(
            self, "service_labels", frozenset(str(s).strip() for s in self.service_labels if str(s).strip())
        )
        if not all(_is_int(i) and i > 0 for i in self.service_item_ids):
            raise ValueError(
                f"service_item_ids must be positive integers, got {sorted(self.service_item_ids, key=str)!r}"
            )
        object.__setattr__(self, "service_item_ids", frozenset(int(i) for i in self.service_item_ids))
