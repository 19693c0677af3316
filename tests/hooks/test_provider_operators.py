"""The generic provider operators, ``execute`` called directly (no DAG run) with their hooks talking real
HTTP to the sandboxes: templated inputs in, a JSON file and a small summary out. They import only their
own hook and Airflow (checked below); the real DAG runs cover them wired together (tests/dags)."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from officeguy_woocommerce.officeguy.operators import OfficeGuyStockExtractOperator
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from officeguy_woocommerce.woocommerce.operators import (
    WooCommerceOrdersExtractOperator,
    WooCommerceStockApplyOperator,
    WooCommerceStockExtractOperator,
)

ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict = {}  # the operators read nothing from the context: every input is an argument


def _read(path: str):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.mark.parametrize("package", ["officeguy", "woocommerce"])
def test_a_provider_imports_only_its_own_hook_and_airflow(package):
    for module in (ROOT / "plugins" / package).glob("*.py"):
        tree = ast.parse(module.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        ours = {n for n in names if n.startswith("officeguy_woocommerce")}
        # their own hook, the HTTP helpers the hooks share, and the providers' common Airflow pieces
        allowed = {f"officeguy_woocommerce.{package}.hooks", "officeguy_woocommerce.common.http",
                   "officeguy_woocommerce.common.rate_limit", "officeguy_woocommerce.common.file_output"}
        assert not [n for n in names if n.startswith("officeguy_woocommerce.include")], module.name
        ours = {n for n in ours if not n.startswith(f"officeguy_woocommerce.{package}.")}  # its own modules
        assert ours <= allowed, f"{module.name} imports {sorted(ours - allowed)}"


def test_officeguy_stock_extract_writes_stock_and_cards_to_the_templated_path(og, og_conn, tmp_path):
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

    og_conn(og)
    with OfficeGuyHook() as hook:
        hook.create_income_item(name="Mug", sku="MUG-1", external_identifier="77", price=25)
    out = tmp_path / "run" / "og_stock.json"
    result = OfficeGuyStockExtractOperator(task_id="t", output_path=str(out)).execute(CONTEXT)
    data = _read(result["path"])
    assert result["path"] == str(out) and result["items"] == len(data["stock"]) > 0
    assert {"id", "name", "external_identifier", "stock"} <= set(data["stock"][0])
    assert {"id", "sku", "external_identifier"} <= set(data["income_items"][0])
    assert [(i["sku"], i["external_identifier"]) for i in data["income_items"]] == [("MUG-1", "77")]
    assert result["api_calls"] >= 2 and data["rejected"] == result["rejected"] == []


def test_woocommerce_stock_extract_writes_every_product_and_variation(woo, woo_conn, tmp_path):
    woo_conn(woo)
    hook = WooCommerceHook()
    hook.batch("/products", create=[{"name": f"P{i}", "sku": f"P-{i}", "manage_stock": True, "stock_quantity": i}
                                    for i in range(3)])
    result = WooCommerceStockExtractOperator(task_id="t", output_path=str(tmp_path / "woo.json")).execute(CONTEXT)
    products = _read(result["path"])["products"]
    assert result["products"] == len(products) and {"P-0", "P-1", "P-2"} <= {p["sku"] for p in products}
    assert result["store"] == hook.base_url and result["conn_id"] == "woocommerce_default"


def test_orders_extract_reads_its_window_and_named_orders_and_reports_unknown_ids(woo, woo_conn, tmp_path):
    woo_conn(woo)
    hook = WooCommerceHook()
    product = hook.batch("/products", create=[{"name": "P", "sku": "P-1", "regular_price": "10",
                                               "manage_stock": True, "stock_quantity": 50}]).created[0]
    paid = hook.request("POST", "/orders", json={"status": "processing", "set_paid": True,
                                                 "line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    pending = hook.request("POST", "/orders", json={"line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    now = datetime.now(UTC)
    op = WooCommerceOrdersExtractOperator(
        task_id="t", output_path=str(tmp_path / "orders.json"), modified_after=(now - timedelta(hours=1)).isoformat(),
        modified_before=(now + timedelta(hours=1)).isoformat(), statuses="processing,completed",
        order_ids=f"{pending['id']},999999")  # as a Jinja template renders them: text
    result = op.execute(CONTEXT)
    ids = {o["id"] for o in _read(result["path"])}
    assert ids == {paid["id"], pending["id"]}  # the window in its statuses, plus the named one whatever its status
    assert result["unknown_order_ids"] == [999999] and result["window"] is not None

    named_only = WooCommerceOrdersExtractOperator(task_id="t", output_path=str(tmp_path / "o2.json"),
                                                  order_ids=[paid["id"]]).execute(CONTEXT)
    assert [o["id"] for o in _read(named_only["path"])] == [paid["id"]] and named_only["window"] is None


def test_stock_apply_writes_checks_what_the_store_kept_and_honours_dry_run(woo, woo_conn, tmp_path):
    woo_conn(woo)
    hook = WooCommerceHook()
    created = hook.batch("/products", create=[{"name": f"P{i}", "sku": f"A-{i}", "manage_stock": True,
                                               "stock_quantity": 1} for i in range(2)]).created
    payloads = tmp_path / "payloads.json"
    payloads.write_text(json.dumps({"products": [{"id": created[0]["id"], "stock_quantity": 7},
                                                 {"id": 999999, "stock_quantity": 3}], "variations": {}}))

    dry = WooCommerceStockApplyOperator(task_id="t", payloads_path=str(payloads), output_path=str(tmp_path / "d.json"),
                                        dry_run="True").execute(CONTEXT)
    assert dry["dry_run"] and dry["api_calls"] == 0 and hook.get_product(created[0]["id"]).stock_quantity == 1

    result = WooCommerceStockApplyOperator(task_id="t", payloads_path=str(payloads),
                                           output_path=str(tmp_path / "a.json"), dry_run=False).execute(CONTEXT)
    outcomes = {o["id"]: o for o in _read(result["outcome_path"])}
    assert outcomes[created[0]["id"]]["outcome"] == "applied" and hook.get_product(created[0]["id"]).stock_quantity == 7
    assert outcomes[999999]["outcome"] == "failed" and outcomes[999999]["error"]  # the store refused that item
    assert (result["applied"], result["failed"]) == (1, 1)


@pytest.mark.parametrize("concurrency,rounds", [(1, 3), (2, 2)])
def test_stock_apply_sends_write_concurrency_batches_at_once(tmp_path, woo_conn, concurrency, rounds):
    """A store that serves 4 requests at once and takes 1.5 s per batch (the sandbox's cost model): 250
    changes are 3 batches; one at a time they take 3 rounds, two at a time 2. The calls stay at 3."""
    import time

    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(tmp_path / "slow", cost_model=True, php_workers=4, cost_batch=1.5, cost_batch_item=0.0,
                     cost_batch_create_item=0.0, cost_list=0.0, cost_list_full=0.0, cost_read=0.0,
                     cost_write=0.0, cost_variations=0.0) as woo:
        woo_conn(woo, write_concurrency=concurrency)
        hook = WooCommerceHook()
        made = hook.batch("/products", create=[{"name": f"P{i}", "sku": f"C-{i}", "manage_stock": True,
                                                "stock_quantity": 1} for i in range(250)]).created
        payloads = tmp_path / "payloads.json"
        payloads.write_text(json.dumps({"products": [{"id": p["id"], "stock_quantity": 9} for p in made]}))
        woo.reset_stats()
        started = time.monotonic()
        result = WooCommerceStockApplyOperator(task_id="t", payloads_path=str(payloads),
                                               output_path=str(tmp_path / "out.json")).execute(CONTEXT)
        elapsed = time.monotonic() - started
    assert result["applied"] == 250 and sum(v for k, v in woo.stats().items() if "batch" in k) == 3
    assert elapsed >= rounds * 1.5  # never faster than the store allows
    assert elapsed < (rounds + 0.8) * 1.5, elapsed  # and not a round more: the batches overlapped as allowed
