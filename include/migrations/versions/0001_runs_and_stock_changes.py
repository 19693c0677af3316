"""Runs, per-product stock changes (the audit trail) and the item map.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flow", sa.String(32), nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("store", sa.String(500), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("dag_id", "run_id", name="uq_sync_runs_dag_run"),
    )
    op.create_table(
        "stock_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("store", sa.String(500), nullable=False),
        sa.Column("woo_id", sa.BigInteger, nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.String(64)),
        sa.Column("new_value", sa.String(64), nullable=False),
        sa.Column("og_item_id", sa.BigInteger),
        sa.Column("matched_by", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False, server_default=""),
        sa.Column("name", sa.String(500), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stock_changes_product", "stock_changes", ["store", "woo_id"])
    op.create_index("ix_stock_changes_run", "stock_changes", ["run_pk"])
    # One row per Woo product/variation id with its OfficeGuy item card. A card the pipeline
    # creates is claimed here first (og_item_id NULL, state "claimed") so it is created once.
    op.create_table(
        "item_map",
        sa.Column("store", sa.String(500), primary_key=True),
        sa.Column("woo_id", sa.BigInteger, primary_key=True),
        sa.Column("og_item_id", sa.BigInteger),
        sa.Column("sku", sa.String(200), nullable=False, server_default=""),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="mapped"),
        sa.Column("needs_lookup", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("item_map")
    op.drop_index("ix_stock_changes_run", "stock_changes")
    op.drop_index("ix_stock_changes_product", "stock_changes")
    op.drop_table("stock_changes")
    op.drop_table("sync_runs")
