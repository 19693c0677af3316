"""An order's money: ``WC_Abstract_Order::calculate_totals`` / ``calculate_taxes`` / ``update_taxes``,
the order items' ``calculate_taxes`` and the coupon flow (``apply_coupon``, ``recalculate_coupons``,
``set_item_discount_amounts``, ``set_coupon_discount_amounts`` and the V3 REST controller's
``calculate_coupons``), as in WooCommerce 9.4.3.

Items keep their amounts the way WooCommerce stores them (``wc_format_decimal``: "99.152542",
"18"); the REST views print them with 2 decimals. Each item's ``taxes`` is
``{"total": {rate_id: amount}, "subtotal": {...}}`` (rate ids as strings, JSON keys).

- Tax location (``get_tax_location``): the shipping address when ``woocommerce_tax_based_on`` is
  "shipping" and the order has a shipping country, else the billing address; the store base when
  "base", when that address has no country, or when a shipping line is local pickup.
- Product lines are taxed when their product's ``tax_status`` is "taxable" (a variation has its
  parent's status; a line whose product is gone counts as taxable), with the line's
  ``tax_class`` (the product's, "parent" resolved). Fees when their ``tax_status`` is "taxable";
  a negative fee is split over the order's tax classes in proportion to what each class costs and
  taxed with each class's rates, whatever its own ``tax_status`` (``WC_Order_Item_Fee``). Shipping
  with ``woocommerce_shipping_tax_class``, or for "inherit" with the first class found among the
  taxable lines in the order "standard", "reduced-rate", "zero-rate" (what the order code does; the
  cart picks the same way), only by rates with ``shipping`` true; no taxable line -> no shipping tax.
- Rounding: each line's tax per rate is rounded to 2 places when summed into ``cart_tax`` /
  ``shipping_tax`` and the tax lines (half down when prices are entered with tax, else half up),
  unless ``woocommerce_tax_round_at_subtotal`` is "yes"; line totals are summed in cents.
- ``is_vat_exempt`` order meta "yes" -> no tax at all (coupon lines still show the tax their
  discount would have carried, as in WooCommerce).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from sandbox.woocommerce import coupons as C  # noqa: N812
from sandbox.woocommerce import products as P
from sandbox.woocommerce import settings as S  # noqa: N812
from sandbox.woocommerce import taxes as T  # noqa: N812
from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.wcmath import (
    PRICE_DECIMALS,
    add_precision,
    php_round,
    round_tax_total,
    to_float,
    wc_format_decimal,
)

LOCAL_PICKUP = ("legacy_local_pickup", "local_pickup")
TAX_ITEM_META = 6  # rate_id, label, compound, tax_amount, shipping_tax_amount, rate_percent
COUPON_ITEM_META = 2  # discount_amount, discount_amount_tax
USAGE_STATUSES = ("pending", "completed", "processing", "on-hold", "cancelled")  # wc_update_coupon_usage_counts hooks


def no_taxes() -> dict[str, dict[str, str]]:
    return {"total": {}, "subtotal": {}}


def product_tax_class(conn: Connection, row: dict[str, Any]) -> str:
    """``get_tax_class()``: a variation's "parent" is its parent's class."""
    defaults = P.VARIATION_DEFAULTS if row["type"] == "variation" else P.PRODUCT_DEFAULTS
    value = {**defaults, **row["extra"]}.get("tax_class", "")
    if row["type"] == "variation" and value == "parent":
        parent = P.get_row(conn, row["parent_id"])
        value = {**P.PRODUCT_DEFAULTS, **parent["extra"]}.get("tax_class", "") if parent else ""
    return str(value or "")


def product_tax_status(conn: Connection, row: dict[str, Any] | None) -> str:
    """A variation takes its parent's tax status (no user-facing way to set its own)."""
    if row is None:
        return "taxable"
    if row["type"] == "variation":
        row = P.get_row(conn, row["parent_id"])
        if row is None:
            return "taxable"
    return str({**P.PRODUCT_DEFAULTS, **row["extra"]}.get("tax_status", "taxable"))


def price_excluding_tax(conn: Connection, opts: S.Options, row: dict[str, Any], qty: float) -> float:
    """``wc_get_price_excluding_tax(product, qty)``: with prices entered with tax, the taxes of the
    store base's rates come off (unrounded), whatever the customer's location."""
    qty = max(0.0, float(qty))
    if not qty:
        return 0.0
    line_price = to_float(row["price"]) * qty
    if opts.prices_include_tax and product_tax_status(conn, row) == "taxable":
        base = opts.base
        rates = T.find_rates(conn, base["country"], base["state"], base["postcode"], base["city"],
                             product_tax_class(conn, row))
        return line_price - sum(T.calc_tax(line_price, rates, True).values())
    return line_price


class Calculator:
    """The calculations of one order (``order`` as orders.py keeps it) within one transaction."""

    def __init__(self, ctx, conn: Connection, order: dict[str, Any], opts: S.Options | None = None) -> None:
        self.ctx, self.conn, self.order = ctx, conn, order
        self.d = order["data"]
        self.opts = opts or S.options_of(conn)
        self._products: dict[int, dict[str, Any] | None] = {}

    # --- lookups ----------------------------------------------------------------------------

    def product(self, line: dict[str, Any]) -> dict[str, Any] | None:
        pid = line.get("variation_id") or line.get("product_id") or 0
        if not pid:
            return None
        if pid not in self._products:
            self._products[pid] = P.get_row(self.conn, pid)
        return self._products[pid]

    def parent(self, row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None or row["type"] != "variation":
            return None
        if row["parent_id"] not in self._products:
            self._products[row["parent_id"]] = P.get_row(self.conn, row["parent_id"])
        return self._products[row["parent_id"]]

    def line_tax_status(self, line: dict[str, Any]) -> str:
        row = self.product(line)
        if row is None:
            return "taxable"
        if row["type"] == "variation":
            row = self.parent(row)
        return str({**P.PRODUCT_DEFAULTS, **(row or {"extra": {}})["extra"]}.get("tax_status", "taxable"))

    def location(self) -> dict[str, str]:
        based_on = self.opts.tax_based_on
        if based_on == "shipping" and not self.d["shipping"].get("country"):
            based_on = "billing"
        source = self.d["billing"] if based_on == "billing" else self.d["shipping"]
        loc = {k: str(source.get(k, "") or "") for k in ("country", "state", "postcode", "city")}
        if any(s.get("method_id") in LOCAL_PICKUP for s in self.d["shipping_lines"]):
            based_on = "base"
        if based_on == "base" or not loc["country"]:
            loc = dict(self.opts.base)
        return loc

    def rates(self, tax_class: Any, shipping: bool = False) -> dict[int, dict[str, Any]]:
        if tax_class is None or tax_class is False:
            return {}
        loc = self.location()
        find = T.find_shipping_rates if shipping else T.find_rates
        return find(self.conn, loc["country"], loc["state"], loc["postcode"], loc["city"], str(tax_class))

    def round_tax(self, value: Any) -> float:
        return round_tax_total(value, self.opts.prices_entered_with_tax)

    def vat_exempt(self) -> bool:
        return any(m.get("key") == "is_vat_exempt" and m.get("value") == "yes" for m in self.d["meta_data"])

    def items_tax_classes(self) -> list[str]:
        out: list[str] = []
        for line in self.d["line_items"]:
            if self.line_tax_status(line) in ("taxable", "shipping") and line.get("tax_class", "") not in out:
                out.append(line.get("tax_class", ""))
        return out

    # --- items ------------------------------------------------------------------------------

    def set_taxes(self, item: dict[str, Any], total: dict[int, float] | None, subtotal: dict[int, float] | None,
                  with_subtotal: bool) -> None:
        """``set_taxes`` of a product (with subtotal) or shipping/fee item; None = ``set_taxes(false)``."""
        taxes = {"total": {str(k): wc_format_decimal(v) for k, v in (total or {}).items()}}
        if with_subtotal:
            taxes["subtotal"] = {str(k): wc_format_decimal(v) for k, v in (subtotal or {}).items()}
            if sum(map(to_float, taxes["subtotal"].values())) < sum(map(to_float, taxes["total"].values())):
                taxes["subtotal"] = dict(taxes["total"])
        item["taxes"] = taxes
        if self.opts.round_at_subtotal:
            item["total_tax"] = wc_format_decimal(sum(map(to_float, taxes["total"].values())))
            if with_subtotal:
                item["subtotal_tax"] = wc_format_decimal(sum(map(to_float, taxes["subtotal"].values())))
        else:
            item["total_tax"] = wc_format_decimal(sum(self.round_tax(v) for v in taxes["total"].values()) if taxes["total"] else 0)
            if with_subtotal:
                item["subtotal_tax"] = wc_format_decimal(
                    sum(self.round_tax(v) for v in taxes["subtotal"].values()) if taxes["subtotal"] else 0)

    def _line_taxes(self, line: dict[str, Any]) -> None:
        if line.get("tax_class") != "0" and self.line_tax_status(line) == "taxable" and self.opts.calc_taxes:
            rates = self.rates(line.get("tax_class", ""))
            self.set_taxes(line, T.calc_tax(line["total"], rates), T.calc_tax(line["subtotal"], rates), True)
        else:
            self.set_taxes(line, None, None, True)

    def _fee_taxes(self, fee: dict[str, Any]) -> None:
        if not self.opts.calc_taxes:
            self.set_taxes(fee, None, None, False)
        elif to_float(fee["total"]) >= 0:
            if fee.get("tax_class") != "0" and fee.get("tax_status", "taxable") == "taxable":
                self.set_taxes(fee, T.calc_tax(fee["total"], self.rates(fee.get("tax_class", ""))), None, False)
            else:
                self.set_taxes(fee, None, None, False)
        else:
            costs = self._tax_class_costs()
            whole = sum(costs.values())
            merged: dict[int, float] = {}
            if whole:
                for tax_class, cost in costs.items():
                    if tax_class == "non-taxable":
                        continue
                    share = to_float(fee["total"]) * (cost / whole)
                    for key, value in T.calc_tax(share, self.rates(tax_class)).items():
                        merged[key] = merged.get(key, 0.0) + value
            self.set_taxes(fee, merged, None, False)

    def _tax_class_costs(self) -> dict[Any, float]:
        """``WC_Order_Item_Fee::get_tax_class_costs``."""
        classes = self.items_tax_classes()
        costs: dict[Any, float] = dict.fromkeys(classes, 0.0)
        costs["non-taxable"] = 0.0
        shipping_class = self.opts.shipping_tax_class
        kinds = [("line", x) for x in self.d["line_items"]] + [("fee", x) for x in self.d["fee_lines"]] + \
                [("shipping", x) for x in self.d["shipping_lines"]]
        for kind, item in kinds:
            total = to_float(item["total"])
            if total < 0:
                continue
            status = {"line": lambda i: self.line_tax_status(i), "fee": lambda i: i.get("tax_status", "taxable"),
                      "shipping": lambda i: "taxable"}[kind](item)
            tax_class = shipping_class if kind == "shipping" else item.get("tax_class", "")
            if status != "taxable":
                costs["non-taxable"] += total
            elif tax_class == "inherit":
                first = classes[0] if classes else None
                costs[first] = costs.get(first, 0.0) + total
            else:
                costs[tax_class] = costs.get(tax_class, 0.0) + total
        return {k: v for k, v in costs.items() if v}

    # --- order ------------------------------------------------------------------------------

    def calculate_taxes(self) -> None:
        if not self.opts.calc_taxes:  # every item's calculate_taxes() ends in set_taxes(false)
            for line in self.d["line_items"]:
                self.set_taxes(line, None, None, True)
            for item in self.d["fee_lines"] + self.d["shipping_lines"]:
                self.set_taxes(item, None, None, False)
            self.update_taxes()
            return
        shipping_class: str | None = self.opts.shipping_tax_class
        if shipping_class == "inherit":
            found = [c for c in ["", *T.CLASS_SLUGS] if c in self.items_tax_classes()]
            shipping_class = found[0] if found else None
        exempt = self.vat_exempt()
        for line in self.d["line_items"]:
            self.set_taxes(line, None, None, True) if exempt else self._line_taxes(line)
        for fee in self.d["fee_lines"]:
            self.set_taxes(fee, None, None, False) if exempt else self._fee_taxes(fee)
        for ship in self.d["shipping_lines"]:
            if shipping_class is not None and not exempt and self.opts.calc_taxes:
                self.set_taxes(ship, T.calc_tax(ship["total"], self.rates(shipping_class, shipping=True)), None, False)
            else:
                self.set_taxes(ship, None, None, False)
        self.update_taxes()

    def update_taxes(self) -> None:
        cart: dict[int, float] = {}
        shipping: dict[int, float] = {}
        for item in self.d["line_items"] + self.d["fee_lines"]:
            for rid, tax in _taxes(item)["total"].items():
                amount = to_float(tax) if self.opts.round_at_subtotal else self.round_tax(tax)
                cart[int(rid)] = cart.get(int(rid), 0.0) + amount
        for item in self.d["shipping_lines"]:
            for rid, tax in _taxes(item)["total"].items():
                amount = to_float(tax) if self.opts.round_at_subtotal else self.round_tax(tax)
                shipping[int(rid)] = shipping.get(int(rid), 0.0) + amount
        kept, saved = [], []
        for tax_line in self.d.get("tax_lines", []):
            rid = tax_line["rate_id"]
            if (rid not in cart and rid not in shipping) or rid in saved:
                continue
            self._fill_tax_line(tax_line, rid, cart, shipping)
            kept.append(tax_line)
            saved.append(rid)
        for rid in [*cart, *(k for k in shipping if k not in cart)]:
            if rid in saved:
                continue
            tax_line = {"id": self.ctx.store.next_id(self.conn, "order_item")}
            for _ in range(TAX_ITEM_META):
                self.ctx.store.next_id(self.conn, "item_meta")
            self._fill_tax_line(tax_line, rid, cart, shipping)
            kept.append(tax_line)
            saved.append(rid)
        self.d["tax_lines"] = kept
        self.d["shipping_tax"] = wc_format_decimal(sum(shipping.values()) if shipping else 0)
        self.d["cart_tax"] = wc_format_decimal(sum(cart.values()) if cart else 0)
        self.d["total_tax"] = wc_format_decimal(to_float(self.d["cart_tax"]) + to_float(self.d["shipping_tax"]))

    def _fill_tax_line(self, tax_line: dict[str, Any], rid: int, cart: dict[int, float],
                       shipping: dict[int, float]) -> None:
        row = T.get_rate(self.conn, rid)
        tax_line.update({
            "rate_code": T.rate_code(row), "rate_id": rid, "label": T.rate_label(row),
            "compound": bool(row and row["compound"]), "tax_total": wc_format_decimal(cart.get(rid, 0)),
            "shipping_tax_total": wc_format_decimal(shipping.get(rid) or 0),
            "rate_percent": to_float(row["rate"]) if row else 0.0, "meta_data": tax_line.get("meta_data", []),
        })

    def _items_total(self, field: str) -> float:
        """``get_cart_(sub)total_for_order``: line amounts in cents, each rounded unless at subtotal."""
        values = [add_precision(line[field], rounded=False) for line in self.d["line_items"]]
        return sum(v if self.opts.round_at_subtotal else php_round(v) for v in values) / 10 ** PRICE_DECIMALS

    def calculate_totals(self, and_taxes: bool = True) -> None:
        d = self.d
        cart_subtotal = self._items_total("subtotal")
        cart_total = self._items_total("total")
        shipping_total = sum(php_round(s["total"], PRICE_DECIMALS) for s in d["shipping_lines"])
        d["shipping_total"] = wc_format_decimal(shipping_total if d["shipping_lines"] else 0)
        fees_total = 0.0
        for fee in d["fee_lines"]:
            amount = to_float(fee["total"])
            if amount < 0:
                floor = php_round(cart_total + fees_total + shipping_total, PRICE_DECIMALS) * -1
                if amount < floor < 0:
                    fee["total"] = wc_format_decimal(floor)
            fees_total += to_float(fee["total"])
        if and_taxes:
            self.calculate_taxes()
        total_tax = sum(to_float(v) for line in d["line_items"] for v in _taxes(line)["total"].values())
        subtotal_tax = sum(to_float(v) for line in d["line_items"] for v in _taxes(line)["subtotal"].values())
        d["discount_total"] = wc_format_decimal(php_round(cart_subtotal - cart_total, PRICE_DECIMALS))
        d["discount_tax"] = wc_format_decimal(self.round_tax(subtotal_tax - total_tax))
        d["total"] = wc_format_decimal(php_round(
            cart_total + fees_total + to_float(d["shipping_total"]) + to_float(d.get("cart_tax"))
            + to_float(d.get("shipping_tax")), PRICE_DECIMALS))

    # --- coupons ----------------------------------------------------------------------------

    def discounts(self) -> C.Discounts:
        items = []
        for line in self.d["line_items"]:
            price = add_precision(line["subtotal"])
            if self.d.get("prices_include_tax"):
                price += add_precision(line.get("subtotal_tax", 0))
            row = self.product(line)
            items.append(C.Item(line["id"], line, row, self.parent(row), P.wc_stock_amount(line["quantity"]), price))
        return C.Discounts(items, sequential=self.opts.sequential_discounts)

    def subtotal(self) -> float:
        """``WC_Discounts::get_object_subtotal`` for an order, in money."""
        subtotal = php_round(self._items_total("subtotal"), PRICE_DECIMALS)
        if self.d.get("prices_include_tax"):
            subtotal += php_round(self.d.get("total_tax", 0), PRICE_DECIMALS)
        return subtotal

    def _coupon_for(self, line: dict[str, Any]) -> dict[str, Any]:
        coupon = C.by_code(self.conn, line.get("code", ""))
        if coupon is not None:
            return coupon
        info = next((m["value"] for m in line.get("meta_data", []) if m.get("key") == "coupon_info"), "")
        coupon = C.from_short_info(info)
        coupon["code"] = line.get("code", "")
        if not to_float(coupon["data"]["amount"]):
            amount = to_float(line.get("discount")) + (
                to_float(line.get("discount_tax")) if self.d.get("prices_include_tax") else 0)
            coupon["data"].update(amount=wc_format_decimal(amount), discount_type="fixed_cart")
        return coupon

    def recalculate_coupons(self) -> None:
        for line in self.d["line_items"]:
            line["total"] = line["subtotal"]
            line["total_tax"] = line.get("subtotal_tax", "0")
        discounts = self.discounts()
        for coupon_line in self.d["coupon_lines"]:
            discounts.apply(self._coupon_for(coupon_line))
        self.set_coupon_discount_amounts(discounts)
        self.set_item_discount_amounts(discounts)
        self.calculate_totals(True)

    def _line_discount_rates(self, line: dict[str, Any]) -> dict[int, dict[str, Any]] | None:
        if self.line_tax_status(line) != "taxable" or not self.opts.calc_taxes:
            return None
        return self.rates(line.get("tax_class", ""))

    def set_item_discount_amounts(self, discounts: C.Discounts) -> None:
        lines = {line["id"]: line for line in self.d["line_items"]}
        for key, amount in discounts.by_item().items():
            line = lines[key]
            rates = self._line_discount_rates(line)
            if self.d.get("prices_include_tax") and rates is not None:
                amount -= sum(T.calc_tax(amount, rates, True).values())
            line["total"] = wc_format_decimal(max(0.0, to_float(line["total"]) - amount))

    def set_coupon_discount_amounts(self, discounts: C.Discounts) -> None:
        lines = {line["id"]: line for line in self.d["line_items"]}
        for code, amount in discounts.by_coupon().items():
            coupon_line = next((cl for cl in self.d["coupon_lines"] if cl.get("code") == code), None)
            if coupon_line is None:
                coupon_line = self._new_coupon_line(code)
                self.d["coupon_lines"].append(coupon_line)
            discount_tax: float = 0
            for key, cents in discounts.discounts[code].items():
                rates = self._line_discount_rates(lines[key])
                if rates is None:
                    continue
                taxes = sum(T.calc_tax(cents / 10 ** PRICE_DECIMALS, rates, bool(self.d.get("prices_include_tax"))).values())
                if not self.opts.round_at_subtotal:
                    taxes = self.round_tax(taxes)
                discount_tax += taxes
                if self.d.get("prices_include_tax"):
                    amount -= taxes
            coupon_line["discount"] = wc_format_decimal(amount)
            coupon_line["discount_tax"] = wc_format_decimal(discount_tax)

    def _new_coupon_line(self, code: str) -> dict[str, Any]:
        store, conn = self.ctx.store, self.conn
        row = C.by_code(conn, code) or {"id": 0, "code": "", "data": dict(C.COUPON_DEFAULTS)}
        line_id = store.next_id(conn, "order_item")
        for _ in range(COUPON_ITEM_META):
            store.next_id(conn, "item_meta")
        info = C.short_info(row)
        meta = {"id": store.next_id(conn, "item_meta"), "key": "coupon_info", "value": info,
                "display_key": "coupon_info", "display_value": info}
        return {"id": line_id, "code": code, "discount": "0", "discount_tax": "0", "meta_data": [meta]}

    def _used_by(self) -> str:
        return str(self.order["customer_id"]) if self.order["customer_id"] else self.d["billing"].get("email", "")

    def remove_coupon(self, code: str) -> None:
        self.d["coupon_lines"] = [cl for cl in self.d["coupon_lines"] if cl.get("code", "") != code]
        C.change_usage(self.conn, code, -1, str(self.order["customer_id"]))
        self.recalculate_coupons()

    def apply_coupon(self, code: str) -> None:
        """``WC_Abstract_Order::apply_coupon`` (errors become ``woocommerce_rest_<code>`` 400)."""
        if any(cl.get("code") == code for cl in self.d["coupon_lines"]):
            raise RestError("woocommerce_rest_invalid_coupon", "Coupon code already applied!", 400)
        coupon = C.by_code(self.conn, code)
        discounts = self.discounts()
        C.validate(self.ctx, coupon, code, discounts, self.subtotal(), self.order["customer_id"])
        limit = coupon["data"]["usage_limit_per_user"]
        if not self.order["customer_id"] and limit and coupon["data"]["used_by"].count(self._used_by()) >= limit:
            raise RestError("woocommerce_rest_invalid_coupon",
                            f'Usage limit for coupon "{coupon["code"]}" has been reached.', 400)
        discounts.apply(coupon)
        self.set_coupon_discount_amounts(discounts)
        self.recalculate_coupons()
        if self.d.get("recorded_coupon_usage_counts"):
            C.change_usage(self.conn, code, 1, self._used_by())
        self.update_coupon_usage_counts()

    def update_coupon_usage_counts(self) -> None:
        """``wc_update_coupon_usage_counts``: counted once while the order is not cancelled."""
        recorded = bool(self.d.get("recorded_coupon_usage_counts"))
        cancelled = self.order["status"] == "cancelled"
        if cancelled == recorded:
            for coupon_line in self.d["coupon_lines"]:
                C.change_usage(self.conn, coupon_line.get("code", ""), -1 if cancelled else 1, self._used_by())
            self.d["recorded_coupon_usage_counts"] = not cancelled

    def calculate_coupons(self, posted: Any) -> None:
        """The V3 orders controller's ``calculate_coupons``: validate every code, remove the
        order's coupons, apply the posted ones in order."""
        if posted is None:
            return
        current = [cl.get("code", "") for cl in self.d["coupon_lines"]]
        discounts = self.discounts()
        codes = []
        for item in posted if isinstance(posted, list) else []:
            item = item if isinstance(item, dict) else {}
            if item.get("id"):
                raise RestError("woocommerce_rest_coupon_item_id_readonly", "Coupon item ID is readonly.", 400)
            if not item.get("code"):
                raise RestError("woocommerce_rest_invalid_coupon", "Coupon code is required.", 400)
            code = C.format_code(item["code"])
            if code not in current:
                C.validate(self.ctx, C.by_code(self.conn, code), code, discounts, self.subtotal(),
                           self.order["customer_id"])
            codes.append(code)
        for code in current:
            self.remove_coupon(code)
        for code in codes:
            self.apply_coupon(code)


def _taxes(item: dict[str, Any]) -> dict[str, dict[str, str]]:
    """An item's taxes; orders saved before taxes existed have ``[]``."""
    taxes = item.get("taxes")
    if not isinstance(taxes, dict):
        return no_taxes()
    return {"total": taxes.get("total") or {}, "subtotal": taxes.get("subtotal") or {}}


def taxes_view(item: dict[str, Any], with_subtotal: bool = True) -> list[dict[str, Any]]:
    """The REST ``taxes`` list: ``[{id, total, subtotal}]`` (subtotal "" for shipping and fees)."""
    taxes = _taxes(item)
    return [{"id": int(rid), "total": total, "subtotal": taxes["subtotal"].get(rid, "") if with_subtotal else ""}
            for rid, total in taxes["total"].items()]
