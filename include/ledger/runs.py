"""The ledger's runs (``sync_runs``: one row per try of a DAG run, per store, with its counts) and watermarks (how far
each flow has read a store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from officeguy_woocommerce.include.ledger.engine import LedgerCore
from officeguy_woocommerce.include.ledger.models import SyncRun, Watermark, utcnow
from officeguy_woocommerce.include.ledger.states import RunStatus


class RunsAndWatermarks(LedgerCore):
    # ----------------------------------------------------------------- runs
    def start_run(self, *, flow: str, dag_id: str, run_id: str, store: str, dry_run: bool, attempt: int = 1) -> int:
        """The row of this try of the run (``attempt``: the DAG run's ``clear_number`` + 1). A retried task
        finds the row its first try made; a run cleared and run again is a new try and gets a new row,
        so the first try's row keeps what that try did."""
        attempt = max(int(attempt or 1), 1)
        with self.session() as s, s.begin():
            run = s.scalar(select(SyncRun).where(SyncRun.dag_id == dag_id, SyncRun.run_id == run_id,
                                                 SyncRun.attempt == attempt))
            if run is None:
                run = SyncRun(flow=flow, dag_id=dag_id, run_id=run_id, attempt=attempt, store=store,
                              status=RunStatus.RUNNING, dry_run=dry_run, started_at=utcnow(), counts={}, message="")
                s.add(run)
                s.flush()
            elif store and not run.store:  # a report task opened it before anything read the store
                run.store = store
            return run.id

    def finish_run(self, run_pk: int, *, status: str, counts: dict[str, Any], message: str = "") -> None:
        with self.session() as s, s.begin():
            run = s.get(SyncRun, run_pk)
            run.status, run.counts, run.message, run.finished_at = status, counts, message, utcnow()

    def get_run(self, run_pk: int) -> SyncRun | None:
        with self.session() as s:
            return s.get(SyncRun, run_pk)

    def runs(self, flow: str | None = None, limit: int = 50, *, dag_id: str | None = None,
             run_id: str | None = None) -> list[SyncRun]:
        """The newest rows first (each try of a run is a row); ``dag_id``/``run_id`` narrow them to one run's tries."""
        with self.session() as s:
            query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
            if flow:
                query = query.where(SyncRun.flow == flow)
            if dag_id:
                query = query.where(SyncRun.dag_id == dag_id)
            if run_id:
                query = query.where(SyncRun.run_id == run_id)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- watermarks
    def watermark(self, flow: str, store: str) -> datetime | None:
        with self.session() as s:
            row = s.get(Watermark, (flow, store))
            if row is None:
                return None
            value = row.value
            return value if value.tzinfo else value.replace(tzinfo=UTC)

    def move_watermark(self, flow: str, store: str, value: datetime) -> None:
        """Only forwards: a late or backfilled run never moves it back."""
        with self.session() as s, s.begin():
            row = s.get(Watermark, (flow, store), with_for_update=True)
            if row is None:
                s.add(Watermark(flow=flow, store=store, value=value, updated_at=utcnow()))
            else:
                current = row.value if row.value.tzinfo else row.value.replace(tzinfo=UTC)
                if value > current:
                    row.value, row.updated_at = value, utcnow()
