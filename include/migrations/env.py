"""Alembic environment for the ledger. ``officeguy_woocommerce.include.ledger.migrate`` passes the connection in."""

from alembic import context

from officeguy_woocommerce.include.ledger import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  version_table="ledger_version")
with context.begin_transaction():
    context.run_migrations()
