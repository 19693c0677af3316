"""``python -m officeguy_woocommerce.app.migrate_ledger [URL]``: bring the ledger's schema to the newest revision.

The deploy step (docker-compose's ``airflow-init`` runs it after ``create_database``): task
processes never migrate a server database, they refuse to run on an old schema and name this
command. Without ``URL`` it migrates the ledger the tasks use (the ``stock_sync_db`` connection,
else the SQLite file under ``STOCK_SYNC_HOME``). It prints the revision, never the URL (it may hold
a password).
"""

from __future__ import annotations

import argparse

from officeguy_woocommerce.include.ledger import Ledger


def migrate_ledger(url: str | None = None) -> tuple[str | None, str]:
    """Migrate the ledger at ``url`` (default: the tasks' ledger); returns (revision before, after)."""
    if url is None:
        from officeguy_woocommerce.app.ledger_connection import ledger_url

        url = ledger_url()
    ledger = Ledger(url, migrate=False)
    try:
        before = ledger.schema_revision()
        ledger.migrate()
        return before, ledger.schema_revision()
    finally:
        ledger.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m officeguy_woocommerce.app.migrate_ledger",
                                     description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("url", nargs="?", help="the ledger's SQLAlchemy URL (default: the stock_sync_db connection)")
    before, after = migrate_ledger(parser.parse_args(argv).url)
    change = "already there" if before == after else f"was {before or 'empty'}"
    print(f"ledger schema at revision {after} ({change})")  # noqa: T201


if __name__ == "__main__":
    main()
