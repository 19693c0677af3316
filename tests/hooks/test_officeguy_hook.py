"""OfficeGuyHook over real HTTP against the OfficeGuy sandbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from officeguy_woocommerce.common.http import AmbiguousWriteError, AuthError, BusinessError, ConnectionConfigError
from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from sandbox.officeguy.testing import og_sandbox
from tests.helpers import purchase_order, sale


def _today():
    return datetime.now(UTC).date()


def test_stock_and_income_items_are_read_across_pages(tmp_path, og_conn):
    with og_sandbox(tmp_path / "og", dataset="bench:1000") as og:  # 1,600 cards: two pages of 1,000
        hook = OfficeGuyHook(og_conn(og))
        og.reset_stats()
        items = hook.list_income_items()
        stock = hook.list_stock()
        stats = og.stats()
    assert len(items) == len({i.id for i in items}) == 1600
    assert {i.id for i in items} == {s.id for s in stock}
    assert sum(v for k, v in stats.items() if "incomeitems/list" in k) == 2
    assert sum(v for k, v in stats.items() if "stock/list" in k) == 1
    assert all(i.sku for i in items)


def test_a_purchase_order_raises_stock_and_a_sale_lowers_it(og, og_conn):
    hook = OfficeGuyHook(og_conn(og))
    item_id = hook.create_income_item(name="כוס קפה", sku="MUG-1", external_identifier="77", price=25)
    assert {s.id: s.stock for s in hook.list_stock()}[item_id] == 0

    hook.create_document(purchase_order(item_id, 10))
    sold = hook.create_document(sale(item_id, 3, "woo:test:1"))

    assert {s.id: s.stock for s in hook.list_stock()}[item_id] == 7
    docs = hook.list_documents(_today(), _today())
    assert [d.external_reference for d in docs if d.type == 1] == ["woo:test:1"]
    assert hook.get_document(sold.document_id)["DocumentID"] == sold.document_id


def test_a_business_error_is_not_retried_and_says_what_was_refused(og, og_conn):
    hook = OfficeGuyHook(og_conn(og))
    og.reset_stats()
    with pytest.raises(BusinessError, match="refused create document"):
        hook.create_document({"Details": {"Type": 1, "Customer": {"Name": "x"}}, "Items": []})
    assert sum(og.stats().values()) == 1


def test_a_technical_error_on_a_read_is_retried(og, og_conn):
    hook = OfficeGuyHook(og_conn(og))
    og.arm_fault(kind="status", path="stock/list", status=200, times=2,
                 body={"Status": 2, "UserErrorMessage": "temporary", "TechnicalErrorDetails": "db", "Data": None})
    og.reset_stats()
    assert hook.list_stock() == []
    assert sum(og.stats().values()) == 3


def test_a_technical_error_on_a_write_is_ambiguous(og, og_conn):
    hook = OfficeGuyHook(og_conn(og))
    og.arm_fault(kind="status", path="documents/create", status=200, times=1,
                 body={"Status": 2, "UserErrorMessage": "temporary", "Data": None})
    item_id = hook.create_income_item(name="A", sku="A")
    with pytest.raises(AmbiguousWriteError):
        hook.create_document(purchase_order(item_id, 1))


@pytest.mark.parametrize("kind", ["drop", "timeout", "error_after"])
def test_an_unclear_document_create_is_not_resent(og, og_conn, kind):
    hook = OfficeGuyHook(og_conn(og, timeout=0.5))
    item_id = hook.create_income_item(name="A", sku="A")
    og.arm_fault(kind=kind, path="documents/create", times=1, seconds=1.5, status=502)
    with pytest.raises(AmbiguousWriteError, match="may have been created|change may have been made"):
        hook.create_document(purchase_order(item_id, 4, "ref-1"))
    time.sleep(1.2 if kind == "timeout" else 0)
    # the sandbox committed it once; the hook did not send it again
    assert [d.external_reference for d in hook.list_documents(_today(), _today())] == ["ref-1"]
    assert {s.id: s.stock for s in hook.list_stock()}[item_id] == 4


def test_rate_limit_403_holds_back_then_succeeds(og, og_conn):
    og.set_config(rate_limit_per_minute=3, block_seconds=1)
    hook = OfficeGuyHook(og_conn(og, rate_limit_hold_seconds=1.1, rate_limit_per_minute=6000))
    for _ in range(5):
        hook.list_stock()  # the 4th call meets the empty 403, waits the block out, and goes on
    assert sum(og.stats().values()) >= 6


def test_pacing_keeps_calls_under_the_limit(og, og_conn):
    og.set_config(rate_limit_per_minute=60, block_seconds=30)
    hook = OfficeGuyHook(og_conn(og, rate_limit_per_minute=120))  # one call every 0.5 s
    started = time.monotonic()
    for _ in range(4):
        hook.list_stock()
    assert time.monotonic() - started >= 1.5


def test_wrong_credentials_give_a_clear_error_without_the_key(og, og_conn):
    wrong = "wrong-api-key-0123456789abcdef"
    hook = OfficeGuyHook(og_conn(og, api_key=wrong))
    with pytest.raises(AuthError) as caught:
        hook.list_stock()
    text = str(caught.value)
    assert wrong not in text and og.api_key not in text
    assert "officeguy_default" in text
    assert sum(og.stats().values()) == 1  # never retried: OfficeGuy blocks IPs after repeated bad keys


def test_company_id_must_be_a_number(og, og_conn):
    hook = OfficeGuyHook(og_conn(og, company_id="acme"))
    with pytest.raises(ConnectionConfigError, match="Company ID"):
        hook.list_stock()


def test_test_connection_answers_the_ui_button(og, og_conn):
    ok, message = OfficeGuyHook(og_conn(og)).test_connection()
    assert ok, message
    ok, message = OfficeGuyHook(og_conn(og, api_key="nope-nope-nope")).test_connection()
    assert not ok and "nope-nope-nope" not in message
