"""One ``sync_runs`` row per try of a DAG run: a run cleared and run again (a backfill with
``--reprocess-behavior completed``, a "Clear" in the UI) keeps the first try's row and counts.

``attempt`` is the DAG run's ``clear_number`` + 1 (1 for the first try; existing rows are first tries).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer, nullable=False, server_default="1"))
        batch.drop_constraint("uq_sync_runs_dag_run", type_="unique")
        batch.create_unique_constraint("uq_sync_runs_dag_run_attempt", ["dag_id", "run_id", "attempt"])


def downgrade() -> None:
    # One row per run again: the newest try of each run stays, with its stock changes.
    older = ("SELECT id FROM sync_runs s WHERE attempt < (SELECT max(attempt) FROM sync_runs t "
             "WHERE t.dag_id = s.dag_id AND t.run_id = s.run_id)")
    op.execute(f"DELETE FROM stock_changes WHERE run_pk IN ({older})")
    op.execute(f"DELETE FROM sync_runs WHERE id IN ({older})")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_constraint("uq_sync_runs_dag_run_attempt", type_="unique")
        batch.create_unique_constraint("uq_sync_runs_dag_run", ["dag_id", "run_id"])
        batch.drop_column("attempt")
