"""Start a sandbox from the shell.

    python -m sandbox woocommerce --port 8081 --dataset demo --db var/woo.sqlite [--tls] [--cost-model [--php-workers 4]]
    python -m sandbox officeguy   --port 8082 --dataset demo --db var/og.sqlite [--rate-limit 100]

It prints ``SANDBOX READY <url>`` once it listens, and stops on Ctrl-C or SIGTERM.
``--port 0`` picks a free port. The state lives in ``--db`` (SQLite) and survives restarts;
``--dataset`` is loaded only into an empty database. ``--cost-model`` makes the WooCommerce sandbox
cost what a real WooCommerce 9.4.3 store costs, ``--php-workers`` requests at a time
(sandbox/woocommerce/cost.py; the costs can be changed through ``PATCH /__sandbox/config``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sandbox.common.server import serve_forever
from sandbox.common.tls import SelfSignedCert


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    for which in ("woocommerce", "officeguy"):
        p = sub.add_parser(which)
        p.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 inside a container)")
        p.add_argument("--port", type=int, default=0)
        p.add_argument("--dataset", default="empty", help="empty | demo | bench:N")
        p.add_argument("--db", default="", help="SQLite file for the state (default: a temporary file)")
        p.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed certificate")
        p.add_argument("--tls-dir", default="", help="where cert.pem/key.pem are kept (default: beside --db)")
        if which == "woocommerce":
            p.add_argument("--cost-model", action="store_true",
                           help="cost what a real WooCommerce 9.4.3 store costs (sandbox/woocommerce/cost.py)")
            p.add_argument("--php-workers", type=int, default=4, help="requests served at once with --cost-model")
            p.add_argument("--webhook-delivery", choices=["cron", "immediate"], default="cron",
                           help="how queued webhook deliveries are sent (sandbox/woocommerce/webhooks.py)")
            p.add_argument("--webhook-cron-interval", type=float, default=60.0, help="seconds between queue runs")
            p.add_argument("--webhook-allow-any-port", action="store_true",
                           help="deliver to any port (WordPress: only 80, 443, 8080 or the store's own)")
        if which == "officeguy":
            p.add_argument("--rate-limit", type=int, default=100, help="calls a minute before 403 (0 = off)")
    args = parser.parse_args(argv)

    db_path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix=f"sandbox-{args.which}-")) / "state.sqlite"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{db_path}"
    tls = None
    if args.tls:
        tls = SelfSignedCert(Path(args.tls_dir) if args.tls_dir else db_path.parent / f"{args.which}-tls")
        print(f"SANDBOX CERT {tls.cert_path}", flush=True)

    if args.which == "woocommerce":
        from sandbox.woocommerce.app import create_app

        app = create_app(db_url, dataset=args.dataset, cost_model=args.cost_model, php_workers=args.php_workers,
                         webhook_delivery=args.webhook_delivery, webhook_cron_interval=args.webhook_cron_interval,
                         webhook_allow_any_port=args.webhook_allow_any_port)
    else:
        from sandbox.officeguy.app import create_app

        app = create_app(db_url, dataset=args.dataset, rate_limit_per_minute=args.rate_limit)
    serve_forever(app, args.port, tls, host=args.host)


if __name__ == "__main__":
    main()
