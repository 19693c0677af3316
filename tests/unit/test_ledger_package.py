"""include/ledger/: the states it stores, and who migrates its schema (the deploy step
``python -m officeguy_woocommerce.app.migrate_ledger``, never a task on a server database)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from officeguy_woocommerce.include.ledger import (
    MIGRATE_COMMAND,
    CardState,
    DocumentState,
    ItemMap,
    Ledger,
    LedgerNotMigrated,
    OrderDocument,
    RunStatus,
    head_revision,
    sqlite_url,
)

STORE = "https://shop.example"
SERVER = "postgresql://postgres@127.0.0.1:5432"


def _raw(ledger: Ledger, sql: str) -> list[tuple]:
    with ledger.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_the_states_are_the_strings_the_ledger_has_always_stored():
    assert [s.value for s in DocumentState] == [
        "pending", "claimed", "documented", "failed", "parked", "recorded", "skipped"]
    assert [s.value for s in CardState] == ["mapped", "claimed", "failed"]
    assert [s.value for s in RunStatus] == ["running", "succeeded", "failed", "blocked", "dry_run"]
    assert DocumentState.PARKED == "parked" and f"{DocumentState.PARKED}" == "parked"
    widths = {OrderDocument.__table__.c.state.type.length, ItemMap.__table__.c.state.type.length}
    assert max(len(s) for s in [*DocumentState, *CardState]) <= min(widths)
    assert ItemMap.__table__.c.state.server_default.arg == CardState.MAPPED  # as migration 0001 has it


def test_each_state_is_stored_as_its_plain_string(tmp_path):
    ledger = Ledger(sqlite_url(tmp_path / "ledger.sqlite"))
    keys = ["sale", "refund:1", "refund:2", "refund:3", "cancel", "changed", "refund:4"]
    ledger.ensure_documents([{"store": STORE, "woo_order_id": 7, "doc_key": k, "external_reference": f"woo:7:{k}"}
                             for k in keys])
    for key in keys[:5]:
        assert ledger.claim_document(STORE, 7, key, "t") is not None
    ledger.record_document(STORE, 7, "sale", "t", document_id=1, document_number=1)
    ledger.record_document(STORE, 7, "refund:1", "t", document_id=2, document_number=2, state=DocumentState.RECORDED)
    assert ledger.release_document(STORE, 7, "refund:2", "t", error="later") == "failed"
    assert ledger.release_document(STORE, 7, "refund:3", "t", error="never", park=True) == "parked"
    ledger.set_state(STORE, 7, "changed", DocumentState.SKIPPED)
    assert ledger.claim_card(STORE, 10, "A") is not None
    assert ledger.claim_card(STORE, 11, "B") is not None
    ledger.release_card(STORE, 11, ambiguous=False)
    ledger.record_card(STORE, 12, 1012)
    ledger.start_run(flow="orders", dag_id="d", run_id="r", store=STORE, dry_run=False)

    documents = dict(_raw(ledger, "SELECT doc_key, state FROM order_documents"))
    assert documents == {"sale": "documented", "refund:1": "recorded", "refund:2": "failed", "refund:3": "parked",
                         "cancel": "claimed", "changed": "skipped", "refund:4": "pending"}
    assert dict(_raw(ledger, "SELECT woo_id, state FROM item_map")) == {10: "claimed", 11: "failed", 12: "mapped"}
    assert _raw(ledger, "SELECT status FROM sync_runs") == [("running",)]
    assert set(documents.values()) == set(DocumentState)  # every state, stored as its plain string


def test_the_embedded_sqlite_ledger_is_migrated_on_first_use(tmp_path):
    assert Ledger(sqlite_url(tmp_path / "new.sqlite")).schema_revision() == head_revision()


# ----------------------------------------------------------------------------- PostgreSQL: the deploy step
@pytest.fixture
def empty_postgres_url():
    """A new, empty database (made as the deploy's create_database step makes it), dropped afterwards."""
    from officeguy_woocommerce.app.create_database import create_database

    name = f"ledger_pkg_test_{uuid.uuid4().hex[:10]}"
    assert create_database(f"{SERVER}/postgres", name)
    yield f"{SERVER}/{name}"
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def tasks_ledger(empty_postgres_url, monkeypatch):
    """The ``stock_sync_db`` connection names the empty database; ``get_ledger()`` as a task calls it."""
    import json

    from officeguy_woocommerce.app import ledger_connection

    monkeypatch.setenv("AIRFLOW_CONN_STOCK_SYNC_DB", json.dumps({"conn_type": "generic", "extra": {
        "sqlalchemy_url": empty_postgres_url}}))
    ledger_connection._ledger.cache_clear()
    yield ledger_connection.get_ledger
    ledger_connection._ledger.cache_clear()


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_task_refuses_an_unmigrated_postgres_ledger_and_names_the_command(tasks_ledger, empty_postgres_url):
    with pytest.raises(LedgerNotMigrated) as refused:
        tasks_ledger()
    assert f"`{MIGRATE_COMMAND}`" in str(refused.value)
    assert "not migrated" in str(refused.value) and head_revision() in str(refused.value)
    assert _tables(empty_postgres_url) == []  # the task ran no migration


@pytest.mark.postgres
def test_a_task_refuses_a_ledger_one_revision_behind(tasks_ledger, empty_postgres_url):
    older = Ledger(empty_postgres_url, migrate=False)
    older.migrate("0003")
    older.engine.dispose()
    with pytest.raises(LedgerNotMigrated, match=f"at revision 0003; this code needs revision {head_revision()}"):
        tasks_ledger()


@pytest.mark.postgres
def test_after_migrate_ledger_the_task_opens_it(tasks_ledger, empty_postgres_url, capsys):
    from officeguy_woocommerce.app.migrate_ledger import main

    main([])  # no URL: the stock_sync_db connection's ledger, as the tasks resolve it
    assert capsys.readouterr().out == f"ledger schema at revision {head_revision()} (was empty)\n"

    ledger = tasks_ledger()
    assert ledger.engine.dialect.name == "postgresql"
    assert ledger.schema_revision() == head_revision()
    assert ledger.start_run(flow="stock", dag_id="d", run_id="r", store=STORE, dry_run=True) == 1
    ledger.engine.dispose()


@pytest.mark.postgres
def test_the_cli_prints_the_head_revision(empty_postgres_url):
    def cli() -> str:
        done = subprocess.run([sys.executable, "-m", "officeguy_woocommerce.app.migrate_ledger", empty_postgres_url],
                              capture_output=True, text=True, timeout=300, check=True)
        assert empty_postgres_url not in done.stdout + done.stderr
        return done.stdout

    assert cli() == f"ledger schema at revision {head_revision()} (was empty)\n"
    assert cli() == f"ledger schema at revision {head_revision()} (already there)\n"


def test_a_retry_takes_over_its_dead_earlier_try_at_once_and_no_one_else_does(tmp_path):
    """A worker killed mid-write leaves a claim; Airflow runs one try of a task instance at a time, so
    the retry of the same run takes it over at once (and looks the document up first), while another
    run still waits for the lease."""
    ledger = Ledger(sqlite_url(tmp_path / "ledger.sqlite"))
    ledger.ensure_documents([{"store": "s", "woo_order_id": 7, "doc_key": "sale", "external_reference": "woo:s:7"}])
    first = ledger.claim_document("s", 7, "sale", "orders/run_1/1", earlier_tries="orders/run_1/")
    assert first is not None and first.attempts == 1
    # another run (a backfill beside it) cannot take it while the lease runs
    assert ledger.claim_document("s", 7, "sale", "orders/run_2/1", earlier_tries="orders/run_2/") is None
    # nor can a run whose id merely starts the same way
    assert ledger.claim_document("s", 7, "sale", "orders/run_1x/1", earlier_tries="orders/run_1x/") is None
    retry = ledger.claim_document("s", 7, "sale", "orders/run_1/2", earlier_tries="orders/run_1/")
    assert retry is not None and retry.attempts == 2 and retry.claimed_by == "orders/run_1/2"
    # the same try asking again does not win twice
    assert ledger.claim_document("s", 7, "sale", "orders/run_1/2", earlier_tries="orders/run_1/") is None
