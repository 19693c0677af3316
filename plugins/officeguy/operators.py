"""Generic OfficeGuy operators: one hook call each, inputs as templated arguments, large results in a file.

They import only their own hook and Airflow; the steps that combine OfficeGuy with WooCommerce and the
sync's ledger (item cards, documents) are tasks of the application package, officeguy_woocommerce.app.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from airflow.sdk import Context

from officeguy_woocommerce.common.file_output import FileOutputOperator
from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook


class OfficeGuyStockExtractOperator(FileOutputOperator):
    """Read OfficeGuy's stock list and its item cards (for their SKUs) into ``output_path`` as JSON:
    ``{"stock": [{id, name, external_identifier, stock}], "income_items": [{id, name, sku,
    external_identifier, price}], "rejected": [...]}``. Rows OfficeGuy sent malformed are left out and
    listed in ``rejected`` with their reason (they never stop the others)."""

    template_fields: Sequence[str] = ("officeguy_conn_id", "output_path")

    def __init__(self, *, officeguy_conn_id: str = OfficeGuyHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.officeguy_conn_id = officeguy_conn_id

    def execute(self, context: Context) -> dict:
        with OfficeGuyHook(self.officeguy_conn_id) as hook:
            stock, items = hook.list_stock(), hook.list_income_items()
        rejected = [*hook.rejected_stock_rows, *hook.rejected_item_rows]
        for row in rejected:
            self.log.warning("OfficeGuy %s list: %s. That row is left out; the others go on.",
                             row.get("list", "stock"), row["reason"])
        path = self.write_output({
            "stock": [dataclasses.asdict(s) for s in stock], "income_items": [dataclasses.asdict(i) for i in items],
            "rejected": rejected})
        self.log.info("OfficeGuy: %d stock items, %d item cards in %d API calls, written to %s", len(stock),
                      len(items), hook.calls, path)
        return {"path": path, "items": len(stock), "api_calls": hook.calls, "rejected": rejected,
                "conn_id": self.officeguy_conn_id}
