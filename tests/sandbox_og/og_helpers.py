"""Request builders shared by the OfficeGuy sandbox's contract tests."""

from __future__ import annotations

from typing import Any

TODAY = "2026-03-10"  # the sandbox's clock in these tests (config "today")


def new_item(og, name: str = "Mug", stock: float = 0, **fields: Any) -> int:
    """A card with ``stock`` on hand, put there by a purchase order (type 11)."""
    answer = og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": name, "Price": 10, **fields}})
    assert answer["Status"] == 0, answer
    item_id = answer["Data"]["EntityID"]
    if stock:
        assert document(og, 11, [line(item_id, stock)])["Status"] == 0
    return item_id


def line(item_id: int | None = None, quantity: float = 1, price: float = 10.0, **item: Any) -> dict[str, Any]:
    spec = {"ID": item_id} if item_id is not None else item
    return {"Quantity": quantity, "UnitPrice": price, "Item": spec}


def document(og, doc_type: Any, lines: list[dict], pay: bool | None = None, language: str = "en",
             **details: Any) -> dict[str, Any]:
    """documents/create; receipt types get one payment of the exact total unless ``pay`` says no."""
    body: dict[str, Any] = {
        "Details": {"Type": doc_type, "Customer": {"Name": "Dana Levi"}, **details},
        "Items": lines,
        "VATIncluded": True,
    }
    receipt = str(doc_type) in {"1", "2", "4", "6", "7", "14", "InvoiceAndReceipt", "Receipt", "CreditReceipt",
                                "CreditInvoiceAndReceipt"}
    if pay if pay is not None else receipt:
        total = sum(ln["Quantity"] * ln["UnitPrice"] for ln in lines)
        body["Payments"] = [{"Amount": total, "Details_Other": {"Type": "WooCommerce", "Description": "test"}}]
    return og.call("/accounting/documents/create/", body, language=language)


def stock_of(og, item_id: int) -> float:
    answer = og.call("/stock/stock/list/", {"ItemIDs": [item_id]})
    (row,) = answer["Data"]["Stock"]
    return row["Stock"]
