"""Alert state: the level (ok, low, out) each product was last alerted or re-armed at.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "stock_alerts",
        sa.Column("store", sa.String(500), primary_key=True),
        sa.Column("woo_id", sa.BigInteger, primary_key=True),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("quantity", sa.BigInteger),
        sa.Column("threshold", sa.Integer),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_alerts")
