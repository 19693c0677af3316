"""Document amounts (credits never exceed the sale; edits after the document are detected) and the
opening-stock state of the item cards this project created.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("order_documents") as batch:
        # The document's total as sent (positive, document currency) and, for a sale, the order's
        # total when it was documented.
        batch.add_column(sa.Column("amount", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("order_total", sa.String(32), nullable=False, server_default=""))
    with op.batch_alter_table("item_map") as batch:
        # A card the orders flow created starts at 0 in OfficeGuy; it is "opened" once OfficeGuy shows
        # a stock movement other than this project's own documents (a purchase order, a count).
        batch.add_column(sa.Column("opened", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("item_map") as batch:
        batch.drop_column("opened")
    with op.batch_alter_table("order_documents") as batch:
        batch.drop_column("order_total")
        batch.drop_column("amount")
