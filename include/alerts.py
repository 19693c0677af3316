"""Low-stock and out-of-stock alerts: which products the stock sync just moved across a line.

WooCommerce sends its stock e-mails only when an order reduces stock, never when stock is set
through the API (woocommerce-api.md A2, "Low-stock / no-stock / backorder emails"), so a quantity
written by this sync would go unnoticed. The rules here mirror WooCommerce's own:

- level: ``out`` at or below ``notify_no_stock_amount`` (0), else ``low`` at or below the
  low-stock threshold, else ``ok``;
- the threshold is the product's (or variation's) ``low_stock_amount``, else its parent's, else the
  store default (WooCommerce's ``woocommerce_notify_low_stock_amount``, 2);
- one alert per crossing: a product alerts when a run moves it to a worse level than the one
  recorded for it (ok -> low, ok/low -> out); no repeat while it stays there; the alert is re-armed
  when a later run brings it back up. A product seen for the first time starts from the level it
  had before the run, so a first run does not flood the merchant with old news.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LEVELS = {"ok": 0, "low": 1, "out": 2}
STORE_DEFAULT_LOW_STOCK = 2  # woocommerce_notify_low_stock_amount default (A2)


@dataclass(frozen=True)
class Alert:
    woo_id: int
    name: str
    sku: str
    quantity: int
    threshold: int
    kind: str  # "low" | "out"

    def subject(self) -> str:
        what = "Product out of stock" if self.kind == "out" else "Product low in stock"
        return f"[Stock sync] {what}: {self.name} ({self.sku or 'no SKU'})"

    def html(self) -> str:
        name, sku = html.escape(self.name), html.escape(self.sku or "-")
        headline = "is out of stock" if self.kind == "out" else f"is low in stock: {self.quantity} left"
        return (f'<p dir="auto"><b>{name}</b> (SKU {sku}, WooCommerce id {self.woo_id}) {headline}.</p>'
                f"<p>Quantity: {self.quantity}. Low-stock threshold: {self.threshold}.</p>"
                "<p>The quantity comes from OfficeGuy, which the store follows. Order more (a purchase order "
                "in OfficeGuy) and the next sync brings the store up again.</p>")

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def level(quantity: int, threshold: int, no_stock_amount: int = 0) -> str:
    if quantity <= no_stock_amount:
        return "out"
    return "low" if quantity <= threshold else "ok"


def threshold_of(woo_id: int, products: Mapping[int, Mapping], store_default: int = STORE_DEFAULT_LOW_STOCK) -> int:
    """The product's low_stock_amount, else its parent's, else the store default (A2)."""
    product = products.get(woo_id) or {}
    own = product.get("low_stock_amount")
    if own is not None and own == own:  # not NaN
        return int(own)
    parent = products.get(int(product.get("parent_id") or 0)) or {}
    inherited = parent.get("low_stock_amount")
    if inherited is not None and inherited == inherited:
        return int(inherited)
    return store_default


def crossings(written: Iterable[Mapping], products: Mapping[int, Mapping], recorded: Mapping[int, str], *,
              store_default: int = STORE_DEFAULT_LOW_STOCK) -> tuple[list[Alert], dict[int, str]]:
    """Alerts for the quantities a run wrote, and the new recorded level of each product.

    ``written``: applied stock_quantity changes (woo_id, name, sku, old, new). ``recorded``: the
    level stored for a product after its last alert or re-arm. Returns (alerts, levels to store):
    an alert's level is stored only once its e-mail went out (the caller does that), so a failed
    send is retried by the next run."""
    alerts: list[Alert] = []
    levels: dict[int, str] = {}
    for change in written:
        woo_id = int(change["woo_id"])
        threshold = threshold_of(woo_id, products, store_default)
        before = recorded.get(woo_id)
        if before is None:
            old = change.get("old")
            before = level(int(old), threshold) if old is not None and old == old else "ok"
        now = level(int(change["new"]), threshold)
        if LEVELS[now] > LEVELS[before]:
            alerts.append(Alert(woo_id, str(change.get("name") or ""), str(change.get("sku") or ""),
                                int(change["new"]), threshold, now))
        elif now != before:
            levels[woo_id] = now  # back up (re-armed) or first seen
        elif woo_id not in recorded:
            levels[woo_id] = now
    return alerts, levels
