"""The planner's contract: the frames it takes and gives, its reasons and its errors.

The extract tasks build the two input frames (`OG_ITEM_COLUMNS`, `WOO_PRODUCT_COLUMNS`); the
output frames of `StockPlan` use the *_COLUMNS below; every skipped or unmatched row carries a
`Reason`. The other modules of the package import from here, never the other way round.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

STOCK_DAG_ID = "officeguy_stock_to_woocommerce"

# --- Input contract (built by the extract tasks) -----------------------------------------------

OG_ITEM_COLUMNS = ("og_item_id", "name", "external_identifier", "sku", "stock")
WOO_PRODUCT_COLUMNS = (
    "woo_id",
    "parent_id",
    "type",
    "status",
    "sku",
    "name",
    "stock_mode",
    "stock_quantity",
    "stock_status",
    "backorders",
    "low_stock_amount",
    "opt_out",
)

STOCK_MODES = frozenset({"managed", "unmanaged", "parent"})
STOCK_STATUSES = frozenset({"instock", "outofstock", "onbackorder"})  # A2 stock_status enum
# Types whose stock this sync may write; plugins add others (subscriptions, bundles) that we
# do not understand, so they are skipped with a reason rather than written blindly.
WRITABLE_TYPES = frozenset({"simple", "variable", "variation"})
NEVER_STOCKED_TYPES = frozenset({"grouped", "external"})  # A2.2: grouped forced unmanaged, external forced instock

# A Woo quantity is stored as a PHP int; we refuse anything beyond this as bad input / a bug.
MAX_ABS_QUANTITY = 1_000_000_000

# Service cards: the orders flow puts shipping, fee, rounding and refund lines on OfficeGuy cards
# that are not products. It names new ones "stock-sync:<kind>"; older ones carry only a label
# (DocumentSettings' shipping_label, fee_label, rounding_label, refund_label; these are its defaults).
SERVICE_EXTERNAL_ID_PREFIX = "stock-sync:"
SERVICE_LABELS = frozenset({"Shipping", "Fee", "Rounding", "Refund"})
# OfficeGuy stock equal to our own documents' net units, within this, means "no other movement".
OPENING_TOLERANCE = 1e-9

# --- Output contract -----------------------------------------------------------------------------

CHANGE_COLUMNS = (
    "woo_id",
    "parent_id",
    "target_kind",
    "field",
    "old",
    "new",
    "og_item_id",
    "matched_by",
    "name",
    "sku",
    "og_stock",
    "pending",
)
SKIPPED_COLUMNS = ("woo_id", "og_item_id", "name", "sku", "reason", "detail")
UNMATCHED_OG_COLUMNS = ("og_item_id", "name", "sku", "external_identifier", "stock", "reason", "detail")
UNMATCHED_WOO_COLUMNS = ("woo_id", "parent_id", "type", "name", "sku", "stock_mode")
WARNING_COLUMNS = ("og_item_id", "woo_id", "reason", "detail")


class Reason(StrEnum):
    """Stable, short reasons: `summary()` counts by them, `detail` carries the specifics."""

    # unmatched OfficeGuy items
    NO_IDENTIFIER = "no SKU and no ExternalIdentifier"
    EXTERNAL_ID_NOT_A_NUMBER = "ExternalIdentifier is not a number"
    EXTERNAL_ID_STALE = "ExternalIdentifier names no live Woo product"
    EXTERNAL_ID_SKU_DISAGREE = "ExternalIdentifier and SKU name different Woo products"
    SKU_NOT_FOUND = "SKU not found in WooCommerce"
    DUPLICATE_SKU_WOO = "duplicate SKU in WooCommerce"
    DUPLICATE_SKU_OG = "duplicate SKU in OfficeGuy"
    NAME_NOT_FOUND = "name not found in WooCommerce"
    DUPLICATE_NAME_WOO = "duplicate name in WooCommerce"
    DUPLICATE_NAME_OG = "duplicate name in OfficeGuy"
    CLAIMED_TWICE = "Woo product claimed by several OfficeGuy items"
    # skipped (matched, but not written)
    OPTED_OUT = "opted out"
    WOO_STOCK_NOT_A_NUMBER = "WooCommerce sent an invalid stock field"
    AWAITING_OPENING_STOCK = "waiting for opening stock in OfficeGuy"
    NOT_STOCKED_TYPE = "grouped/external product holds no stock"
    UNSUPPORTED_TYPE = "product type not synced"
    VARIABLE_WITHOUT_STOCK = "variable product without managed stock"
    PARENT_NOT_MANAGING = "parent-managed variation whose parent does not manage stock"
    STOCK_NOT_A_NUMBER = "OfficeGuy stock is not a number"
    STOCK_OUT_OF_RANGE = "OfficeGuy stock out of range"
    ON_BACKORDER_KEPT = "unmanaged and on backorder: kept"
    PARENT_SET_DIRECTLY = "parent stock set by the parent's own OfficeGuy item"
    PARENT_SHARED = "parent stock written once for several variations"
    PARENT_CONFLICT = "variations disagree on their parent's stock"
    # warnings (the item was still matched)
    STALE_EXTERNAL_ID_SKU_FALLBACK = "stale ExternalIdentifier, matched by SKU"


class StockPlanInputError(ValueError):
    """The extract handed over frames that break the input contract (a bug upstream, not bad data)."""


class InvalidPayloadError(ValueError):
    """A write that Woo would misread (I4). Never expected: raising stops a bug before it writes."""


class StockPlanBlocked(RuntimeError):
    """payloads() was asked for a plan the safety brake stopped."""


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
