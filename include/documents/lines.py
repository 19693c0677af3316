"""Reading WooCommerce's order lines: ids, names, amounts and the cards they go on (shared by the builders).

Lines. A line item is identified by `variation_id`, else `product_id`; its card is `Item{ID}`. Shipping
and fee lines become their own lines on service cards (`Item{Name, ExternalIdentifier:
"stock-sync:<kind>", SearchMode: 0}`: found or made once), unless a configured card id is given; so do
the rounding and "Refund" lines (`DocumentSettings.adjustment_item_id`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from officeguy_woocommerce.include.documents.basics import _meta, _strip_tags, _text
from officeguy_woocommerce.include.documents.codes import ITEM_SEARCH_AUTOMATIC, SERVICE_CARD_PREFIX
from officeguy_woocommerce.include.documents.model import DocumentSettings
from officeguy_woocommerce.include.documents.money import _as_int, _money


def _id_map(mapping: Mapping[Any, Any] | None) -> dict[int, int]:
    """An id -> id mapping with int keys and values (XCom's JSON turns int keys into strings)."""
    result: dict[int, int] = {}
    for key, value in (mapping or {}).items():
        k, v = _as_int(key), _as_int(value)
        if k and v:
            result[k] = v
    return result


def _woo_id(line: Mapping[str, Any]) -> int:
    """The id that identifies the product: the variation when there is one (2.1, 2.2)."""
    return _as_int(line.get("variation_id")) or _as_int(line.get("product_id"))


def _line_name(line: Mapping[str, Any]) -> str:
    name = str(line.get("name") or "").strip()
    return name or f"#{line.get('id')}"


def _line_description(line: Mapping[str, Any]) -> str:
    """The line name, plus the variation's attributes that the name does not already show.

    Woo names a variation line "Tee - S" (parent name, " - ", attribute values joined by ", ") and
    keeps the attributes as visible meta (`size: S`, rec 126/129); long attribute lists are left out
    of the name, so they are appended: "Mug (Color: Red, Size: L)". Hidden meta (keys starting
    with "_") and meta of non-variation lines (often add-on plugins' data) are never printed.
    """
    name = _line_name(line)
    if not _as_int(line.get("variation_id")):
        return name
    shown = set(name.rsplit(" - ", 1)[1].split(", ")) if " - " in name else set()
    extra = []
    for entry in line.get("meta_data") or ():
        if not isinstance(entry, Mapping):
            continue
        key = _text(entry.get("key"))
        if not key or key.startswith("_"):
            continue
        value = entry.get("display_value", entry.get("value"))
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            continue
        value = _strip_tags(str(value))
        if not value or value in shown:
            continue
        label = _strip_tags(_text(entry.get("display_key")) or key)
        extra.append(f"{label}: {value}")
    return f"{name} ({', '.join(extra)})" if extra else name


def _named_item(label: str, item_id: int | None, kind: str) -> dict[str, Any]:
    """A service card for a line that is not a product: a configured ID, or one found/made once.

    SearchMode Automatic (0) finds the card by its ExternalIdentifier (or, for cards made before this
    rule, by name) from the second document on; SearchMode None (1) would make a card every time.
    """
    if item_id:
        return {"ID": int(item_id)}
    return {"Name": label.strip(), "ExternalIdentifier": f"{SERVICE_CARD_PREFIX}{kind}",
            "SearchMode": ITEM_SEARCH_AUTOMATIC}


# A service line's kind -> (the order's (or refund's) list of such lines, the field naming one line)
_SERVICE_LINES = {"shipping": ("shipping_lines", "method_title"), "fee": ("fee_lines", "name")}


def _service_lines(source: Mapping[str, Any], kind: str,
                   settings: DocumentSettings) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The shipping or fee lines of an order or a refund, each with its title (else the kind's label)."""
    key, title_field = _SERVICE_LINES[kind]
    for line in source.get(key) or ():
        yield _text(line.get(title_field)) or getattr(settings, f"{kind}_label"), line


def _service_line(title: str, gross: Any, tax: Any, kind: str, settings: DocumentSettings) -> Any:
    """One document line, quantity 1, on the kind's service card (configured id, or found by name)."""
    from officeguy_woocommerce.include.documents.money import _Line

    return _Line(title, 1, gross, tax, _named_item(getattr(settings, f"{kind}_label"),
                                                   getattr(settings, f"{kind}_item_id"), kind))


def _rounding_item(settings: DocumentSettings) -> dict[str, Any]:
    return _named_item(settings.rounding_label, settings.adjustment_item_id, "rounding")


def _refund_item(settings: DocumentSettings) -> dict[str, Any]:
    return _named_item(settings.refund_label, settings.adjustment_item_id, "refund")


def _line_amounts(line: Mapping[str, Any], what: str) -> tuple[Decimal, Decimal]:
    """(gross, VAT) of a Woo line: `total` + `total_tax`, and `total_tax`."""
    tax = _money(line.get("total_tax"), f"{what}: total_tax")
    return _money(line.get("total"), f"{what}: total") + tax, tax


def _line_gross(line: Mapping[str, Any], what: str) -> Decimal:
    return _line_amounts(line, what)[0]


def _stock_key(line: Mapping[str, Any]) -> tuple[int, int, int]:
    return _as_int(line.get("id")), _as_int(line.get("product_id")), _as_int(line.get("variation_id"))


def _refunded_item_id(line: Mapping[str, Any]) -> int:
    return _as_int(_meta(line, "_refunded_item_id"))


def _order_id(order: Mapping[str, Any]) -> int:
    return _as_int(order.get("id"))


def _order_label(order: Mapping[str, Any]) -> str:
    return _text(order.get("number")) or str(_order_id(order))
