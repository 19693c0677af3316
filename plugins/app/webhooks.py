"""The WooCommerce webhook endpoint of the plugin app: ``POST /stock-sync/webhooks/woocommerce/{store}``.

Outside Airflow's login (WooCommerce cannot log in): each delivery authenticates itself by its HMAC
signature, checked against the store's connection extra ``webhook_secret`` (include/webhooks.py has
the rules). A good delivery becomes an Airflow **asset event** on the store's asset
(``woocommerce-orders://<store>``) with the order's id in its extra; the orders DAG is scheduled on
those assets beside its cron, so a run starts at once and documents just those orders (one run takes
every event queued meanwhile). The endpoint answers as soon as the event is recorded; it never reads
the order, never calls OfficeGuy and never waits for the run.

What it answers: 200 for a ping, an ignored topic, a recorded or a repeated delivery; 401 for a bad or
missing signature, and for a store that has no webhook secret (nothing recorded); 404 for a store not
in STOCK_SYNC_STORES; 400 for a signed body that is not an order; 413 for an over-long body.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Request  # this module is imported only when the plugin's app is built
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)
REPEAT_WINDOW = timedelta(hours=24)  # how far back a repeated delivery is recognised
PATH = "/webhooks/woocommerce/{store}"


def create_router():
    """The router (no Airflow auth dependency: the signature is the authentication). FastAPI resolves
    the route's annotations in this module's globals (postponed annotations), hence the imports above."""
    router = APIRouter()

    @router.post(PATH, response_model=None)
    async def woocommerce_webhook(store: str, request: Request):
        from officeguy_woocommerce.include import config
        from officeguy_woocommerce.include.webhooks import MAX_BODY_BYTES

        try:
            settings = config.load()
            known = {s.name for s in settings.stores}
        except config.ConfigError as exc:
            return JSONResponse({"error": f"the sync's settings are wrong: {exc}"}, status_code=500)
        if store not in known:
            return JSONResponse({"error": f"no store {store!r} (STOCK_SYNC_STORES: {', '.join(sorted(known))})"},
                                status_code=404)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"error": "body too large"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        from starlette.concurrency import run_in_threadpool

        status, answer = await run_in_threadpool(handle, settings.store(store), headers, body)
        return JSONResponse(answer, status_code=status)

    return router


def handle(store, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    """One delivery for ``store`` (include/config.Store): classify, then record the asset event."""
    from officeguy_woocommerce.include.webhooks import BadDelivery, Ignored, Ping, read_delivery

    secret = _secret(store.woocommerce_conn_id)
    try:
        delivery = read_delivery(headers, body, secret)
    except BadDelivery as exc:
        log.warning("Webhook for store %s refused (%s): %s", store.name, exc.status, exc)
        return exc.status, {"error": str(exc)}
    if isinstance(delivery, Ping):
        log.info("Webhook %s of store %s pinged", delivery.webhook_id, store.name)
        return 200, {"ping": "ok"}
    if isinstance(delivery, Ignored):
        return 200, {"ignored": delivery.topic}
    try:
        recorded = record_event(store.name, delivery.event_extra())
    except LookupError as exc:  # WooCommerce counts the failure; the poll still documents the order
        log.error("Webhook for store %s: %s", store.name, exc)
        return 503, {"error": str(exc)}
    log.info("Webhook %s: order %s of store %s (%s)", delivery.topic, delivery.order_id, store.name,
             "queued for the orders DAG" if recorded else "a repeated delivery, already queued")
    return 200, {"order": delivery.order_id, "queued": recorded}


def _secret(conn_id: str) -> str:
    """The store's webhook secret ("" when it has none, or no such connection: every delivery is 401)."""
    from officeguy_woocommerce.common.http import ConnectionConfigError
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    try:
        return WooCommerceHook(conn_id).settings.webhook_secret
    except ConnectionConfigError as exc:
        log.error("Webhook: connection %s cannot be used (%s); deliveries are refused until it is fixed",
                  conn_id, exc)
        return ""
    except Exception as exc:  # noqa: BLE001 - no such connection: the same answer, said in the log
        log.error("Webhook: no usable connection %s (%s); deliveries are refused", conn_id, type(exc).__name__)
        return ""


def record_event(store: str, extra: dict) -> bool:
    """An asset event on the store's orders asset, unless this delivery was recorded already. In the
    api-server's process, through Airflow's own asset manager (as ``POST /api/v2/assets/events``)."""
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from officeguy_woocommerce.include.webhooks import orders_asset_name

    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == orders_asset_name(store),
                                                        AssetModel.active.has()).limit(1))
        if asset is None:
            raise LookupError(f"no active asset {orders_asset_name(store)}: the orders DAG has not been parsed with "
                              "this store (check STOCK_SYNC_STORES on the dag-processor and the api-server)")
        since = timezone.utcnow() - REPEAT_WINDOW
        recent = session.scalars(select(AssetEvent.extra).where(AssetEvent.asset_id == asset.id,
                                                                AssetEvent.timestamp >= since)).all()
        if any((e or {}).get("delivery_key") == extra["delivery_key"] for e in recent):
            return False
        asset_manager.register_asset_change(asset=asset, extra=extra, source_is_api=True, session=session)
    return True
