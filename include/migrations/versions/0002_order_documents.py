"""Order documents (sale and credit), exactly once, and the orders flow's watermark.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # One row per OfficeGuy document a Woo order needs: doc_key "sale", "refund:<id>" or "cancel".
    # A row is claimed (state "claimed") before the OfficeGuy call and its result recorded after.
    op.create_table(
        "order_documents",
        sa.Column("store", sa.String(500), primary_key=True),
        sa.Column("woo_order_id", sa.BigInteger, primary_key=True),
        sa.Column("doc_key", sa.String(64), primary_key=True),
        sa.Column("order_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("woo_status", sa.String(32), nullable=False, server_default=""),
        sa.Column("order_modified_gmt", sa.String(32), nullable=False, server_default=""),
        sa.Column("external_reference", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("og_document_id", sa.BigInteger),
        sa.Column("og_document_number", sa.BigInteger),
        sa.Column("og_customer_id", sa.BigInteger),
        sa.Column("document_type", sa.Integer),
        sa.Column("document_date", sa.String(10), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("claimed_by", sa.String(250), nullable=False, server_default=""),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("documented_at", sa.DateTime(timezone=True)),
        sa.Column("written_back", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_documents_state", "order_documents", ["store", "state"])
    op.create_table(
        "watermarks",
        sa.Column("flow", sa.String(32), primary_key=True),
        sa.Column("store", sa.String(500), primary_key=True),
        sa.Column("value", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watermarks")
    op.drop_index("ix_order_documents_state", "order_documents")
    op.drop_table("order_documents")
