"""``python -m officeguy_woocommerce.app.create_database <server-url> <name>``: create the ledger's database once.

docker-compose's init step runs it so that the ledger has its own database beside Airflow's.
"""

from __future__ import annotations

import re
import sys

import sqlalchemy as sa

from officeguy_woocommerce.include.ledger import normalise_url


def create_database(server_url: str, name: str) -> bool:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"database name {name!r}: use lower-case letters, digits and _")
    engine = sa.create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return not exists


if __name__ == "__main__":
    created = create_database(sys.argv[1], sys.argv[2])
    print(f"database {sys.argv[2]} {'created' if created else 'already there'}")  # noqa: T201
