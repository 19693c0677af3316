"""Operators that read from OfficeGuy. Thin: a hook call, a plain function from include/, a file."""

from __future__ import annotations

from collections.abc import Sequence

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
        self.log.info("OfficeGuy: %d stock items in %d API calls, staged at %s", len(frame), hook.calls, path)
        return {"path": path, "items": len(frame), "api_calls": hook.calls}
