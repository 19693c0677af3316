"""Money, quantities and VAT: the arithmetic of every document.

Money. Woo sends money as strings ("30.00"); every sum here is a `Decimal`, sent rounded to 2 places.

VAT (SUMIT's Swagger: top-level `VATIncluded`, `VATRate`, `VATPerItem`; `Items[].VAT`; `Customer.NoVAT`):
- The order carries no tax and the store charges tax (`woocommerce_calc_taxes` = yes; Eilat, export,
  an exempt customer): `VATRate: 0` and `Customer.NoVAT: true`, as the official plugin does.
- Taxes off in the store and no tax on the order: no `VATRate` (the company default), prices incl. VAT.
- Every taxed line at one rate and OfficeGuy's VAT on the total (gross − gross ÷ (1 + rate)) equals the
  order's tax to the agora: `VATIncluded: true`, `VATRate` = that rate, gross unit prices.
- Otherwise (mixed rates, zero-rated lines beside taxed ones, or Woo's per-line rounding differing from
  OfficeGuy's total rounding): `VATPerItem: true`, `VATRate` null, `VATIncluded` false, each line's
  price without VAT and its `VAT` amount (`DocumentCurrency_VAT` outside ILS) exactly as Woo taxed it.
  (A refunded amount on no line: `credit`.)
- Lines: `UnitPrice` = round(line amount ÷ quantity, 2) (gross or net by the mode); when the rounded
  lines do not add up to the order total, one "Rounding" line (VAT 0 in per-item mode) makes them equal.

`StoreTax` holds the store's tax settings, `_vat_mode` chooses the mode, `_wire_lines` writes the
`Items`; the payload's VAT fields are set by `sale._payload`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from officeguy_woocommerce.include.documents.basics import _Park
from officeguy_woocommerce.include.documents.codes import HOME_CURRENCY

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
ZERO = Decimal(0)


@dataclass(frozen=True)
class StoreTax:
    """The store's tax settings, read once per run (`woocommerce_calc_taxes`, `..._prices_include_tax`)."""

    calc_taxes: bool = False
    prices_include_tax: bool = False


def _money(value: Any, what: str) -> Decimal:
    """Woo's money strings ("30.00"), or a number; None and "" are 0 (A5: absent taxes)."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise _Park(f"{what} is not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Park(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise _Park(f"{what} is not a number: {value!r}")
    return number


def _quantity(value: Any) -> int | None:
    """A whole-number quantity (A5: `quantity` is an int), or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _cents(value: Decimal) -> Decimal:
    # PHP's round() (the plugin) rounds half away from zero.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _as_int(value: Any) -> int:
    """An id or count from Woo (int, "24" or 24.0); 0 when absent or not a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _quantity(value) or 0


def _wire(value: Decimal) -> float:
    return float(_cents(value)) + 0.0  # never -0.0


def _single_rate(order: Mapping[str, Any]) -> Decimal | None:
    """The order's one VAT rate when its tax lines name exactly one; None for none or several."""
    rates = set()
    for tax in order.get("tax_lines") or ():
        if isinstance(tax, Mapping) and tax.get("rate_percent") not in (None, ""):
            try:
                rates.add(Decimal(str(tax["rate_percent"])))
            except InvalidOperation:
                return None
    return rates.pop() if len(rates) == 1 else None


@dataclass
class _Line:
    description: str
    quantity: int
    gross: Decimal  # the line's amount incl. VAT, in cents
    vat: Decimal  # the VAT in it, in cents (0 on untaxed lines)
    item: dict[str, Any]
    # (line id, product id, variation id) of the order line whose units this line moves, if any
    stock: tuple[int, int, int] | None = None

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


@dataclass(frozen=True)
class _VatMode:
    per_item: bool
    rate: Decimal | None  # VATIncluded mode: the rate to send; None: the company default
    no_vat: bool


def _vat_mode(lines: Sequence[_Line], total: Decimal, order: Mapping[str, Any], store_tax: StoreTax,
              *, allow_order_rate: bool = True) -> _VatMode:
    """How the document states VAT (module docstring "VAT")."""
    vat = sum((ln.vat for ln in lines), ZERO)
    if vat == 0:
        if _money(order.get("total_tax"), "the order's total_tax") != 0:
            return _VatMode(False, ZERO, False)  # untaxed lines of a taxed order: the customer pays VAT
        if store_tax.calc_taxes:
            return _VatMode(False, ZERO, True)
        return _VatMode(False, None, False)
    rate = _single_rate(order) if allow_order_rate else None
    if rate is not None and rate > 0:
        at_rate = all(abs(ln.net * rate / 100 - ln.vat) <= CENT for ln in lines if ln.net or ln.vat)
        og_vat = _cents(total - total / (1 + rate / 100))
        if at_rate and og_vat == vat:
            return _VatMode(False, rate, False)
    return _VatMode(True, None, False)


def _wire_lines(lines: list[_Line], mode: _VatMode, currency: str, sign: int, total: Decimal,
                rounding_label: str, rounding_item: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal]:
    """The `Items` array and the VAT OfficeGuy will compute; a rounding line makes the total exact."""
    home = currency == HOME_CURRENCY
    price_key = "UnitPrice" if home else "DocumentCurrency_UnitPrice"
    vat_key = "VAT" if home else "DocumentCurrency_VAT"
    items: list[dict[str, Any]] = []
    counted = ZERO
    for ln in lines:
        amount = ln.net if mode.per_item else ln.gross
        unit = _cents(amount / ln.quantity)
        counted += _cents(unit * ln.quantity) + (ln.vat if mode.per_item else ZERO)
        entry = {"Quantity": int(ln.quantity), price_key: _wire(sign * unit), "Description": ln.description,
                 "Item": ln.item}
        if mode.per_item:
            entry[vat_key] = _wire(sign * ln.vat)
        items.append(entry)
    difference = total - counted
    if difference:
        entry = {"Quantity": 1, price_key: _wire(sign * difference), "Description": rounding_label,
                 "Item": rounding_item}
        if mode.per_item:
            entry[vat_key] = 0.0
        items.append(entry)
    if mode.per_item:
        vat = sum((ln.vat for ln in lines), ZERO)
    elif mode.rate:
        vat = _cents(total - total / (1 + mode.rate / 100))
    else:
        vat = ZERO if mode.rate is not None else Decimal("-1")  # -1: the company default decides
    return items, vat
