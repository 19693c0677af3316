"""The main job on the embedded default: ``make demo``.

1. Starts the WooCommerce and OfficeGuy sandboxes on loopback with the demo catalogue (300
   products with Hebrew names, simple and variable, managed and unmanaged, some without SKU).
2. Reads both sides through the hooks and prints what it found.
3. Runs the stock DAG once with ``airflow dags test`` (SQLite metadata DB under var/demo) to bring
   the store in line with OfficeGuy.
4. The seed's first direction: a purchase order in OfficeGuy raises an item's stock, the stock DAG
   runs again, and the changed Woo products are printed before and after.
5. The second direction: a customer pays for an order in the store (one product has no OfficeGuy
   card yet); the orders DAG makes it an invoice-receipt in OfficeGuy with its lines, a new card,
   and the stock deducted there; the stock DAG then leaves the new card's product alone, "waiting
   for opening stock in OfficeGuy", instead of writing OfficeGuy's -1 into the store.
6. The books: the store charges 18 % VAT (prices include it); an export order carries none and
   becomes a document with VATRate 0 and a VAT-exempt customer; a domestic order is refunded in part
   and then cancelled: the refund's credit and the cancellation's credit together equal the sale.
   Every document is printed as OfficeGuy recorded it.
Then it stops what it started. Everything it writes is under ``var/demo/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "demo"
DAG_ID = "officeguy_stock_to_woocommerce"


def main() -> None:
    from sandbox.common.server import ProcessServer

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    _airflow_env()
    woo = ProcessServer("woocommerce", "--dataset", "demo", "--db", str(VAR / "woo.sqlite"), log_path=VAR / "woo.log")
    og = ProcessServer("officeguy", "--dataset", "demo", "--db", str(VAR / "og.sqlite"), log_path=VAR / "og.log")
    with woo, og:
        print(f"WooCommerce sandbox: {woo.url}/wp-json/wc/v3   OfficeGuy sandbox: {og.url}")
        _connections(woo.url, og.url)
        read_both_sides()
        _airflow("db", "migrate")
        _airflow("pools", "set", "stock_sync_writes", "1", "stock sync writers")

        print("\n== First stock sync: the store follows OfficeGuy ==")
        _run_stock_dag()
        print(_last_run_line())

        print("\n== A purchase order in OfficeGuy, then the stock sync ==")
        purchase_order_story()

        print("\n== A paid order in the store becomes an OfficeGuy document ==")
        order_story()

        print("\n== The books: an export order without VAT, a refund, then a cancellation ==")
        accounting_story()

        reports = sorted((VAR / "stock_sync" / "reports").rglob("*.html"))
        print(f"\nRun reports ({len(reports)} pages, one per DAG run): {VAR / 'stock_sync' / 'reports'}")


def read_both_sides() -> None:
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    products = woo_hook.list_stock_items()
    stock = og_hook.list_stock()
    items = og_hook.list_income_items()
    variations = [p for p in products if p.type == "variation"]
    print(f"\nWooCommerce: {len(products) - len(variations)} products "
          f"({sum(1 for p in products if p.type == 'variable')} variable) and {len(variations)} variations; "
          f"{sum(1 for p in products if p.manage_stock is True)} manage a quantity, "
          f"{sum(1 for p in products if p.manage_stock is False and p.type == 'simple')} simple ones do not, "
          f"{sum(1 for p in products if p.manage_stock == 'parent')} variations are managed by their parent, "
          f"{sum(1 for p in products if not p.sku)} have no SKU ({woo_hook.calls} API calls).")
    print(f"OfficeGuy:   {len(stock)} stock items and {len(items)} item cards; "
          f"{sum(1 for i in items if i.external_identifier)} carry a Woo id, "
          f"{sum(1 for i in items if i.sku)} a SKU ({og_hook.calls} API calls).")


def purchase_order_story() -> None:
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    og_hook, woo_hook = OfficeGuyHook(), WooCommerceHook()
    before = {p.id: p for p in woo_hook.list_stock_items()}
    lines = [s for s in og_hook.list_stock()
             if s.external_identifier.isdigit() and before.get(int(s.external_identifier))
             and before[int(s.external_identifier)].manage_stock is True][:3]
    doc = og_hook.create_document({
        "Details": {"Type": 11, "Customer": {"Name": "ספק ראשי בע\"מ"}, "Description": "הזמנת רכש לחידוש מלאי"},
        "Items": [{"Quantity": 24, "UnitPrice": 10, "Item": {"ID": s.id}} for s in lines],
        "VATIncluded": True,
    }, what="purchase order")
    print(f"Purchase order #{doc.document_number} (type 11) in OfficeGuy: +24 of "
          + ", ".join(f"'{s.name}'" for s in lines))

    _run_stock_dag()
    after = {p.id: p for p in woo_hook.list_stock_items()}
    changed = [pid for pid in after if (after[pid].stock_quantity, after[pid].stock_status)
               != (before[pid].stock_quantity, before[pid].stock_status)]
    print(_last_run_line())
    print(f"\n{'Woo product':<36} {'SKU':<12} {'before':>7} {'after':>7}  status")
    for pid in changed:
        b, a = before[pid], after[pid]
        print(f"{a.name[:36]:<36} {a.sku or '-':<12} {_qty(b):>7} {_qty(a):>7}  {b.stock_status} -> {a.stock_status}")
    if not changed:
        raise SystemExit("The purchase order did not reach the store: see var/demo/*.log")


def order_story() -> None:
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    og_hook, woo_hook = OfficeGuyHook(), WooCommerceHook()
    products = {p.id: p for p in woo_hook.list_stock_items()}
    items = og_hook.list_income_items()
    carded = {int(i.external_identifier) for i in items if i.external_identifier.isdigit()} | {
        p.id for p in products.values() if p.sku and p.sku in {i.sku for i in items}}
    managed = [p for p in products.values() if p.type == "simple" and p.manage_stock is True and (p.stock_quantity or 0) > 2]
    known = next(p for p in managed if p.id in carded)
    unknown = next(p for p in managed if p.id not in carded)
    order = woo_hook.request("POST", "/orders", json={
        "set_paid": True, "currency": "ILS", "payment_method": "bacs", "payment_method_title": "העברה בנקאית",
        "billing": {"first_name": "נועה", "last_name": "לוי", "email": "noa@example.co.il", "city": "חיפה"},
        "line_items": [{"product_id": known.id, "quantity": 2}, {"product_id": unknown.id, "quantity": 1}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "שליח", "total": "25.00"}],
    }, what="demo order").json()
    print(f"Order #{order['number']} paid in the store: 2 × '{known.name}', 1 × '{unknown.name}' "
          f"(no OfficeGuy card yet), shipping; total {order['total']} {order['currency']}. "
          f"Store stock: {known.stock_quantity} -> {woo_hook.get_product(known.id).stock_quantity}")

    _airflow("dags", "test", "woocommerce_orders_to_officeguy")
    order = woo_hook.get_order(order["id"])
    meta = {m["key"]: m["value"] for m in order["meta_data"]}
    details = og_hook.get_document(int(meta["OfficeGuyDocumentID"]))
    print(f"OfficeGuy invoice-receipt #{meta.get('OfficeGuyDocumentNumber')} for order #{order['number']}:")
    for line in details["Items"]:
        print(f"   {line['Quantity']:>4g} × {line.get('Description') or line['Item'].get('Name', '')[:40]:<40} "
              f"{line['UnitPrice']:>9.2f}  (item card {line['Item'].get('ID')})")
    card = next(i for i in og_hook.list_income_items() if i.external_identifier == str(unknown.id))
    stock = {s.id: s.stock for s in og_hook.list_stock()}
    print(f"New OfficeGuy card {card.id} '{card.name}' (ExternalIdentifier {unknown.id}); OfficeGuy stock now "
          f"{stock[card.id]:g} for it.")

    _run_stock_dag()
    print(_last_run_line())
    for product in (known, unknown):
        print(f"   '{product.name}': store {woo_hook.get_product(product.id).stock_quantity}, "
              f"OfficeGuy {stock[card.id if product is unknown else _og_id(items, known)]:g}")
    for row in _last_run_skipped("waiting for opening stock in OfficeGuy"):
        print(f"   {row.reason}: '{row.name}' (SKU {row.sku or '-'}); the store keeps its own quantity until a "
              "purchase order (or a stock count) in OfficeGuy gives the new card its stock.")


def accounting_story() -> None:
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    og_hook, woo_hook = OfficeGuyHook(), WooCommerceHook()
    woo_hook.request("PUT", "/settings/general/woocommerce_calc_taxes", json={"value": "yes"})
    woo_hook.request("PUT", "/settings/tax/woocommerce_prices_include_tax", json={"value": "yes"})
    woo_hook.request("POST", "/taxes", json={"country": "IL", "rate": "18.0000", "name": "מע\"מ", "shipping": True})
    print("The store now charges 18 % VAT in Israel, prices including VAT (WooCommerce → Settings → Tax).")
    products = [p for p in woo_hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                and (p.stock_quantity or 0) > 3]
    export = woo_hook.request("POST", "/orders", json={
        "set_paid": True, "currency": "ILS", "payment_method": "paypal", "payment_method_title": "PayPal",
        "billing": {"first_name": "John", "last_name": "Smith", "company": "Acme Inc", "email": "john@acme.example",
                    "city": "Boston", "country": "US", "postcode": "02110"},
        "shipping": {"first_name": "John", "last_name": "Smith", "city": "Boston", "country": "US"},
        "line_items": [{"product_id": products[0].id, "quantity": 1}],
    }).json()
    home = woo_hook.request("POST", "/orders", json={
        "set_paid": True, "currency": "ILS", "payment_method": "bacs", "payment_method_title": "העברה בנקאית",
        "billing": {"first_name": "יעל", "last_name": "כהן", "email": "yael@example.co.il", "city": "ירושלים",
                    "country": "IL"},
        "line_items": [{"product_id": products[1].id, "quantity": 2}],
    }).json()
    print(f"Order #{export['number']} to Boston: total {export['total']}, tax {export['total_tax']} (export: no VAT). "
          f"Order #{home['number']} in Jerusalem: total {home['total']}, of which VAT {home['total_tax']}.")
    _airflow("dags", "test", "woocommerce_orders_to_officeguy")
    for order in (export, home):
        _print_documents(og_hook, woo_hook, order)

    line = home["line_items"][0]
    unit = f"{float(line['total']) / 2:.2f}"
    unit_tax = f"{float(line['total_tax']) / 2:.2f}"
    rate_id = line["taxes"][0]["id"] if line.get("taxes") else None
    refund = woo_hook.request("POST", f"/orders/{home['id']}/refunds", json={
        "reason": "פריט אחד הוחזר", "api_refund": False, "api_restock": True,
        "line_items": [{"id": line["id"], "quantity": 1, "refund_total": unit,
                        "refund_tax": [{"id": rate_id, "refund_total": unit_tax}] if rate_id else []}]}).json()
    woo_hook.update_order(home["id"], {"status": "cancelled"})
    print(f"\nOrder #{home['number']}: one unit returned (refund {refund['amount']}, restocked), then the order "
          "was cancelled in the store.")
    _airflow("dags", "test", "woocommerce_orders_to_officeguy")
    _print_documents(og_hook, woo_hook, home)


def _print_documents(og_hook, woo_hook, order) -> None:
    """Every OfficeGuy document of an order (sale, credits), as OfficeGuy recorded it."""
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    names = {0: "Invoice", 1: "Invoice-receipt", 2: "Receipt", 5: "Credit invoice", 6: "Credit invoice-receipt",
             7: "Credit receipt"}
    from officeguy_woocommerce.include.documents import external_reference

    woo_hook.get_conn()
    reference = external_reference(woo_hook.base_url, order["id"])
    mine = [d for d in og_hook.list_documents(today - timedelta(days=3), today + timedelta(days=1))
            if d.external_reference == reference or d.external_reference.startswith(reference + ":")]
    total = 0.0
    for listed in sorted(mine, key=lambda d: d.document_id):
        doc = og_hook.get_document(listed.document_id)
        head, customer = doc["Document"], doc["Document"]["Customer"]
        vat_mode = ("VAT per line" if head.get("VATPerItem") else
                    "no VAT (customer VAT-exempt)" if customer.get("NoVAT") else f"VAT {head.get('VATRate'):g} % included")
        total += head["DocumentValue"]
        print(f"  {names.get(head['Type'], head['Type'])} #{head['DocumentNumber']} for order #{order['number']}: "
              f"total {head['DocumentValue']:.2f}, VAT {head['VAT']:.2f} ({vat_mode}); customer '{customer['Name']}'"
              + (f", {customer['City']}" if customer.get("City") else ""))
        for line in doc["Items"]:
            print(f"     {line['Quantity']:>3g} × {str(line.get('Description') or '')[:38]:<38} "
                  f"{line['TotalPrice']:>9.2f}  VAT {line.get('VAT') or 0:>7.2f}")
        for payment in doc.get("Payments") or ():
            kind = next((k[len("Details_"):] for k in payment if k.startswith("Details_")), "?")
            print(f"     payment {payment['Amount']:.2f} ({kind})")
    if len(mine) > 1:
        print(f"  Sale and credits together: {total:.2f} (the credits equal the sale once it is cancelled)")


def _og_id(items, product) -> int:
    return next(i.id for i in items if i.external_identifier == str(product.id) or (product.sku and i.sku == product.sku))


def _qty(product) -> str:
    return "-" if product.stock_quantity is None else str(product.stock_quantity)


def _last_run_skipped(reason: str) -> list:
    from officeguy_woocommerce.app.ledger_connection import get_ledger
    from officeguy_woocommerce.include import config
    from officeguy_woocommerce.include.staging import Stage

    run = get_ledger().runs(flow="stock", limit=1)[0]
    skipped = Stage.read(str(Stage(config.load().home, DAG_ID, run.run_id).dir / "skipped.json"))
    return list(skipped[skipped["reason"] == reason].itertuples())


def _last_run_line() -> str:
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    run = get_ledger().runs(flow="stock", limit=1)[0]
    c = run.counts
    return (f"stock DAG run: {run.status}; matched {c.get('matched')}, changed {c.get('changed')}, "
            f"unchanged {c.get('unchanged')}, unmatched OfficeGuy items {c.get('unmatched_og')}, "
            f"skipped {c.get('skipped')}, service cards ignored {c.get('service_cards', 0)}, "
            f"API calls {c.get('api_calls')}")


# ----------------------------------------------------------------------------- Airflow plumbing
def _airflow_env() -> None:
    home = VAR / "airflow"
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),  # none: the project is an installed provider
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "STOCK_SYNC_HOME": str(VAR / "stock_sync"),
    })


def _connections(woo_url: str, og_url: str) -> None:
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID
    from sandbox.woocommerce.app import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET

    os.environ["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"] = json.dumps({
        "conn_type": "woocommerce", "host": woo_url, "login": SANDBOX_CONSUMER_KEY,
        "password": SANDBOX_CONSUMER_SECRET, "extra": {"auth": "oauth1"},
    })
    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = json.dumps({
        "conn_type": "officeguy", "host": og_url, "login": str(SANDBOX_COMPANY_ID), "password": SANDBOX_API_KEY,
        "extra": {"rate_limit_per_minute": 90},
    })


def _airflow(*args: str) -> None:
    started = time.monotonic()
    log = VAR / "airflow-cli.log"
    with open(log, "a", encoding="utf-8") as out:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], stdout=out, stderr=subprocess.STDOUT,
                              cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {done.returncode}); see {log}")
    print(f"  airflow {' '.join(args)}  ({time.monotonic() - started:.0f} s)")


def _run_stock_dag() -> None:
    _airflow("dags", "test", DAG_ID)


if __name__ == "__main__":
    main()
