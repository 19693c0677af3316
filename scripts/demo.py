"""The main job on the embedded default: ``make demo``.

Starts the WooCommerce and OfficeGuy sandboxes on loopback with the demo catalogue (a few hundred
products, simple and variable, managed and unmanaged, some without SKU, Hebrew names), points the
Airflow connections at them, reads both sides through the hooks and prints what it found. Then it
stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "demo"


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


def main() -> None:
    from sandbox.common.server import ProcessServer

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    woo = ProcessServer("woocommerce", "--dataset", "demo", "--db", str(VAR / "woo.sqlite"),
                        log_path=VAR / "woo.log")
    og = ProcessServer("officeguy", "--dataset", "demo", "--db", str(VAR / "og.sqlite"), log_path=VAR / "og.log")
    with woo, og:
        print(f"WooCommerce sandbox: {woo.url}/wp-json/wc/v3   OfficeGuy sandbox: {og.url}")
        _connections(woo.url, og.url)
        read_both_sides()


def read_both_sides() -> None:
    from officeguy.hooks import OfficeGuyHook
    from woocommerce.hooks import WooCommerceHook

    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    products = woo_hook.list_stock_items()
    stock = og_hook.list_stock()
    items = og_hook.list_income_items()

    parents = [p for p in products if p.type == "variable"]
    variations = [p for p in products if p.type == "variation"]
    managed = [p for p in products if p.manage_stock is True]
    print(f"\nWooCommerce: {len(products) - len(variations)} products ({len(parents)} variable), "
          f"{len(variations)} variations; {len(managed)} manage their quantity, "
          f"{sum(1 for p in products if p.manage_stock is False and p.type != 'variable')} do not, "
          f"{sum(1 for p in products if p.manage_stock == 'parent')} variations are managed by their parent, "
          f"{sum(1 for p in products if not p.sku)} have no SKU. API calls: {woo_hook.calls}.")
    print(f"OfficeGuy:   {len(stock)} stock items, {len(items)} item cards "
          f"({sum(1 for i in items if i.external_identifier)} carry a Woo id, "
          f"{sum(1 for i in items if i.sku)} a SKU). API calls: {og_hook.calls}.")

    by_woo_id = {p.id: p for p in products}
    sku_of = {i.id: i.sku for i in items}
    print("\nFirst items, side by side (OfficeGuy stock | WooCommerce stock):")
    print(f"{'OfficeGuy item':<34} {'SKU':<14} {'OG stock':>8}   {'Woo id':>6} {'Woo qty':>7} {'Woo status':<11}")
    for row in stock[:12]:
        woo = by_woo_id.get(int(row.external_identifier)) if row.external_identifier.isdigit() else None
        print(f"{row.name[:34]:<34} {sku_of.get(row.id, '')[:14]:<14} {row.stock:>8g}   "
              f"{(woo.id if woo else '-'):>6} {(woo.stock_quantity if woo and woo.stock_quantity is not None else '-'):>7} "
              f"{(woo.stock_status if woo else ''):<11}")


if __name__ == "__main__":
    main()
