"""Operators that read from OfficeGuy. Thin: a hook call, a plain function from include/, a file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from include import config
from include.stock_sync import Stage, og_items_frame
from officeguy.hooks import OfficeGuyHook


class OfficeGuyStockExtractOperator(BaseOperator):
    """Extract OfficeGuy's stock, joined with its item cards for SKUs, to the run's staging folder."""

    template_fields: Sequence[str] = ("officeguy_conn_id",)

    def __init__(self, *, officeguy_conn_id: str = OfficeGuyHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.officeguy_conn_id = officeguy_conn_id

    def execute(self, context: Context) -> dict:
        hook = OfficeGuyHook(self.officeguy_conn_id)
        frame = og_items_frame(hook.list_stock(), hook.list_income_items())
        path = Stage(config.load().home, self.dag_id, context["run_id"]).write("og_items", frame)
        rejected = [*hook.rejected_stock_rows, *hook.rejected_item_rows]
        for row in rejected:
            self.log.warning("OfficeGuy %s list: %s. That row is left out; the others go on.",
                             row.get("list", "stock"), row["reason"])
        self.log.info("OfficeGuy: %d stock items in %d API calls, staged at %s", len(frame), hook.calls, path)
        return {"path": path, "items": len(frame), "api_calls": hook.calls, "rejected": rejected}


class OfficeGuyItemCardsOperator(BaseOperator):
    """Give every sold product an OfficeGuy item card (created once; recorded in the item map)."""

    template_fields: Sequence[str] = ("officeguy_conn_id", "orders")

    def __init__(self, *, orders: Any, officeguy_conn_id: str = OfficeGuyHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.orders = orders
        self.officeguy_conn_id = officeguy_conn_id

    def execute(self, context: Context) -> dict:
        from include.orders_sync import ensure_cards
        from stock_sync.ledger import get_ledger

        if context["params"].get("dry_run"):
            self.log.info("Dry run: no item cards are created.")
            return {"cards": [], "failed": [], "api_calls": 0, "item_ids_path": None}
        hook = OfficeGuyHook(self.officeguy_conn_id)
        orders = read_orders(self.orders["path"])
        item_ids, report = ensure_cards(orders, get_ledger(), self.orders["store"], hook, hook.list_income_items())
        for card in report.cards:
            self.log.info("New OfficeGuy item card %s for Woo product %s (%s, SKU %s)", card["og_item_id"],
                          card["woo_id"], card["name"], card["sku"] or "-")
        for failure in report.failed:
            self.log.error("No card for Woo product %s: %s. Its orders wait for the next run.", failure["woo_id"],
                           failure["error"])
        path = Stage(config.load().home, self.dag_id, context["run_id"]).write_json(
            "item_ids", {str(k): v for k, v in item_ids.items()})
        return {"cards": report.cards, "failed": report.failed, "api_calls": hook.calls, "item_ids_path": path}


class OfficeGuyDocumentsOperator(BaseOperator):
    """Create the open OfficeGuy documents of the run's orders, exactly once each (claim, look up, create)."""

    template_fields: Sequence[str] = ("officeguy_conn_id", "orders", "cards")

    def __init__(self, *, orders: Any, cards: Any, officeguy_conn_id: str = OfficeGuyHook.default_conn_name,
                 woocommerce_conn_id: str = "woocommerce_default", **kwargs) -> None:
        super().__init__(**kwargs)
        self.orders = orders
        self.cards = cards
        self.officeguy_conn_id = officeguy_conn_id
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        from datetime import UTC, datetime

        from include.order_documents import StoreTax
        from include.orders_sync import DocumentContext, create_documents
        from stock_sync.ledger import get_ledger
        from woocommerce.hooks import WooCommerceHook

        if context["params"].get("dry_run"):
            self.log.info("Dry run: no documents are created.")
            return {"created": [], "found": [], "parked": [], "failed": [], "api_calls": 0}
        settings = config.load()
        hook = OfficeGuyHook(self.officeguy_conn_id)
        woo = WooCommerceHook(self.woocommerce_conn_id)
        ctx = DocumentContext(
            ledger=get_ledger(), store=self.orders["store"], og=hook, woo=woo,
            settings=settings.document_settings(), store_tax=StoreTax(**(self.orders.get("store_tax") or {})),
            token=f"{self.dag_id}/{context['run_id']}/{context['ti'].try_number}",
            today=datetime.now(UTC).astimezone(_zone(settings.timezone)).date(), max_attempts=settings.max_attempts,
        )
        item_ids = {int(k): v for k, v in Stage.read_json(self.cards["item_ids_path"]).items()}
        report = create_documents(read_orders(self.orders["path"]), item_ids, ctx)
        for doc in report.created:
            self.log.info("Order %s: OfficeGuy document #%s (id %s) created [%s]", doc["number"],
                          doc["document_number"], doc["document_id"], doc["doc_key"])
        for doc in report.found:
            self.log.warning("Order %s: document %s already existed in OfficeGuy (an earlier try reached it); "
                             "recorded, not created again", doc["order"], doc["document_id"])
        for item in report.parked:
            self.log.error("Order %s parked [%s]: %s", item["order"], item["doc_key"], item["reason"])
        for item in report.failed:
            self.log.error("Order %s not documented yet [%s]: %s. The next run retries it.", item["order"],
                           item["doc_key"], item["error"])
        return {**report.as_dict(), "api_calls": hook.calls + woo.calls}


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def read_orders(path: str) -> list[dict]:
    return Stage.read_json(path)
