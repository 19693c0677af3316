"""Register the store's order webhooks: ``python -m officeguy_woocommerce.app.register_webhooks --url URL``.

``URL`` is the api-server's public address (e.g. ``https://airflow.example.co.il``; WordPress delivers
only to ports 80, 443 and 8080). For each store (``--store``, default every store of STOCK_SYNC_STORES)
and each topic the sync handles (``order.created``, ``order.updated``), a webhook delivering to
``URL/stock-sync/webhooks/woocommerce/<store>`` signed with the connection's extra ``webhook_secret``
is created, or, when one exists, set ``active`` with that secret again (WooCommerce never shows a
secret, and it disables a webhook after repeated failed deliveries). Idempotent: a second run creates
nothing. Run it where the Airflow connections are defined (e.g. ``docker compose run airflow-cli``).
"""

from __future__ import annotations

import argparse
import sys

from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.webhooks import HANDLED_TOPICS, delivery_path


def register(store: config.Store, base_url: str) -> list[str]:
    """What was done for ``store``, a line per topic. Raises ValueError when it cannot be done."""
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    url = base_url.rstrip("/") + delivery_path(store.name)
    done = []
    with WooCommerceHook(store.woocommerce_conn_id) as hook:
        secret = hook.settings.webhook_secret
        if not secret:
            raise ValueError(f"connection {store.woocommerce_conn_id!r} has no extra 'webhook_secret': set one of at "
                             "least 16 random characters there first (the store signs every delivery with it)")
        existing = hook.list_webhooks()
        for topic in sorted(HANDLED_TOPICS):
            same = [w for w in existing if w.get("topic") == topic
                    and str(w.get("delivery_url") or "").rstrip("/") == url]
            if same:
                hook.update_webhook(same[0]["id"], {"secret": secret, "status": "active"})
                done.append(f"{store.name}: {topic} webhook {same[0]['id']} active (was {same[0].get('status')})")
            else:
                made = hook.create_webhook({"name": f"OfficeGuy stock sync: {topic}", "topic": topic,
                                            "delivery_url": url, "secret": secret, "status": "active"})
                done.append(f"{store.name}: {topic} webhook {made.get('id')} created, delivering to {url}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the api-server's public base URL (port 80, 443 or 8080)")
    parser.add_argument("--store", action="append", help="a store of STOCK_SYNC_STORES (default: every store)")
    args = parser.parse_args(argv)
    settings = config.load()
    stores = [settings.store(name) for name in args.store] if args.store else list(settings.stores)
    failed = False
    for store in stores:
        try:
            for line in register(store, args.url):
                print(line)  # noqa: T201 - a command's output
        except Exception as exc:  # noqa: BLE001 - one store's problem is reported, the others go on
            print(f"{store.name}: not registered: {exc}", file=sys.stderr)  # noqa: T201
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
