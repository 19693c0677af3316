"""Income item cards and their stock: stock/list, incomeitems/list, incomeitems/create (1.5a-b)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.officeguy import wire
from sandbox.officeguy.store import FIRST_ITEM_ID, Item, next_id
from sandbox.officeguy.wire import ApiError

# Find-or-create for incomeitems/create with an explicit SearchMode (the spec's wording for
# customers/create, "create or find existing according to SearchMode", applied to items).
CREATE_SEARCH_COLUMNS = {
    2: ("ExternalIdentifier", Item.external_identifier), 3: ("Name", Item.name), 4: ("SKU", Item.sku),
    5: ("Description", Item.description),
}


def stock_list(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """Every card in one answer, no paging (section 7); Core rows keep 16,000 items fast."""
    query = select(Item.id, Item.name, Item.external_identifier, Item.stock).order_by(Item.id)
    item_ids = body.get("ItemIDs")
    if item_ids is not None:
        if not isinstance(item_ids, list):
            raise ApiError("invalid", field="ItemIDs", value=item_ids)
        query = query.where(Item.id.in_([wire.integer(i, "ItemIDs") for i in item_ids]))
    if wire.boolean(body.get("ExcludeZeroStock"), "ExcludeZeroStock"):
        query = query.where(Item.stock != 0)
    return {
        "Stock": [
            {"ID": row.id, "Name": row.name, "ExternalIdentifier": row.external_identifier, "Stock": row.stock}
            for row in session.execute(query)
        ]
    }


def list_items(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    start, size = wire.paging(body)
    rows = session.scalars(select(Item).order_by(Item.id).offset(start).limit(size + 1)).all()
    return {
        "IncomeItems": [
            {
                "ID": it.id, "Name": it.name, "Description": it.description, "Price": it.price, "Cost": it.cost,
                "Currency": it.currency, "SKU": it.sku, "ExternalIdentifier": it.external_identifier,
            }
            for it in rows[:size]
        ],
        "HasNextPage": len(rows) > size,
    }


def create_item(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """A new card with stock 0. SKU and ExternalIdentifier need not be unique (none is known to
    be enforced by SUMIT), so a client that retries blindly makes duplicates."""
    spec = body.get("IncomeItem")
    if not spec:
        raise ApiError("required", field="IncomeItem")
    spec = wire.mapping(spec, "IncomeItem")
    name = wire.text(spec.get("Name"), "IncomeItem.Name")
    if name is None:
        raise ApiError("required", field="IncomeItem.Name")
    fields = {
        "name": name,
        "description": wire.text(spec.get("Description"), "IncomeItem.Description"),
        "sku": wire.text(spec.get("SKU"), "IncomeItem.SKU"),
        "external_identifier": wire.text(spec.get("ExternalIdentifier"), "IncomeItem.ExternalIdentifier"),
        "price": wire.optional_number(spec.get("Price"), "IncomeItem.Price") or 0.0,
        "cost": wire.optional_number(spec.get("Cost"), "IncomeItem.Cost"),
        "currency": 0 if spec.get("Currency") in (None, "") else wire.enum(
            spec["Currency"], wire.CURRENCIES, "IncomeItem.Currency"),
    }
    mode = 1 if spec.get("SearchMode") in (None, "") else wire.enum(
        spec["SearchMode"], wire.ITEM_SEARCH_MODES, "IncomeItem.SearchMode")
    searched = [CREATE_SEARCH_COLUMNS[m] for m in (2, 4, 3)] if mode == 0 else (
        [CREATE_SEARCH_COLUMNS[mode]] if mode in CREATE_SEARCH_COLUMNS else [])
    for field, column in searched:
        value = fields[column.key]
        found = value and session.scalar(select(Item.id).where(column == value).order_by(Item.id).limit(1))
        if found:
            return {"EntityID": found}
        if mode != 0 and value is None:
            raise ApiError("required", field=f"IncomeItem.{field}")
    item = Item(id=next_id(session, Item.id, FIRST_ITEM_ID), stock=0.0, **fields)
    session.add(item)
    session.flush()
    return {"EntityID": item.id}
