"""The webhook rules (include/webhooks.py) against every delivery a real WooCommerce 9.4.3 sent
(woocommerce-recordings/webhooks/, secret ``whsec-test-123``): pings, signed deliveries, topics."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from officeguy_woocommerce.include.webhooks import (
    MAX_BODY_BYTES,
    BadDelivery,
    Ignored,
    OrderChanged,
    Ping,
    order_ids_of,
    read_delivery,
    webhook_warnings,
)

RECORDINGS = Path(os.environ.get("WOO_RECORDINGS", "/work/shared/reference/woocommerce-recordings")) / "webhooks"
SECRET = "whsec-test-123"
DELIVERIES = sorted(RECORDINGS.glob("delivery-*.json"))


def _load(path: Path) -> tuple[dict[str, str], bytes]:
    record = json.loads(path.read_text())
    return {k.lower(): v for k, v in record["headers"]}, base64.b64decode(record["body_b64"])


def test_the_recordings_are_there():
    assert len(DELIVERIES) >= 40


@pytest.mark.parametrize("path", DELIVERIES, ids=lambda p: p.stem)
def test_every_recorded_delivery_is_read_as_woocommerce_meant_it(path):
    headers, body = _load(path)
    got = read_delivery(headers, body, SECRET)
    if "-ping-" in path.name:
        assert isinstance(got, Ping) and got.webhook_id == int(path.stem.rsplit("wh", 1)[1])
    elif headers["x-wc-webhook-topic"] in ("order.created", "order.updated"):
        assert isinstance(got, OrderChanged)
        assert got.order_id == json.loads(body)["id"] and got.topic == headers["x-wc-webhook-topic"]
        assert set(got.event_extra()) == {"order_id", "topic", "webhook_id", "delivery_key"}  # no personal data
    else:
        assert isinstance(got, Ignored) and got.topic == headers["x-wc-webhook-topic"]


@pytest.mark.parametrize("path", [p for p in DELIVERIES if "-ping-" not in p.name][:8], ids=lambda p: p.stem)
def test_a_wrong_secret_a_changed_body_or_no_signature_is_refused(path):
    headers, body = _load(path)
    for h, b, secret in ((headers, body, "whsec-test-124"), (headers, body + b" ", SECRET),
                         ({k: v for k, v in headers.items() if k != "x-wc-webhook-signature"}, body, SECRET),
                         (headers, body, "")):
        with pytest.raises(BadDelivery) as caught:
            read_delivery(h, b, secret)
        assert caught.value.status == 401 and SECRET not in str(caught.value)


def test_a_repeated_delivery_has_the_same_key_and_two_in_one_second_do_not():
    first, second = [p for p in DELIVERIES if "order_created" in p.name][:2]
    h1, b1 = _load(first)
    h2, b2 = _load(second)
    again = read_delivery(h1, b1, SECRET)
    assert read_delivery(dict(h1), bytes(b1), SECRET).delivery_key == again.delivery_key
    # WooCommerce's delivery id repeats within a second (A8): the body tells two orders apart
    assert read_delivery({**h2, "x-wc-webhook-delivery-id": h1["x-wc-webhook-delivery-id"]}, b2,
                         SECRET).delivery_key != again.delivery_key


def test_a_signed_body_that_is_not_an_order_and_an_over_long_body_are_refused():
    import base64 as b64
    import hashlib
    import hmac

    def signed(body: bytes) -> dict[str, str]:
        sig = b64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return {"x-wc-webhook-topic": "order.updated", "x-wc-webhook-signature": sig, "content-type": "application/json"}

    for body in (b"[]", b'{"no": "id"}', b"not json", b'{"id": -3}'):
        with pytest.raises(BadDelivery) as caught:
            read_delivery(signed(body), body, SECRET)
        assert caught.value.status == 400
    big = b'{"id": 1, "x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    with pytest.raises(BadDelivery) as caught:
        read_delivery(signed(big), big, SECRET)
    assert caught.value.status == 413


def test_an_unsigned_json_body_pretending_to_be_a_ping_is_not_one():
    with pytest.raises(BadDelivery):
        read_delivery({"content-type": "application/json"}, b"webhook_id=3", SECRET)
    with pytest.raises(BadDelivery):  # a ping has no topic header
        read_delivery({"content-type": "application/x-www-form-urlencoded", "x-wc-webhook-topic": "order.updated"},
                      b"webhook_id=3", SECRET)


def test_the_order_ids_of_a_runs_events_once_each_in_order():
    assert order_ids_of([{"order_id": 5}, {"order_id": "7"}, {"order_id": 5}, {"nothing": 1}, {"order_id": "x"}]) \
        == [5, 7]


URL = "https://airflow.example/stock-sync/webhooks/woocommerce/main"


@pytest.mark.parametrize("hooks, words", [
    ([{"topic": "order.created", "delivery_url": URL, "status": "active"},
      {"topic": "order.updated", "delivery_url": URL, "status": "active"}], []),
    ([{"topic": "order.created", "delivery_url": URL, "status": "active"}], ["no order.updated webhook"]),
    ([{"topic": "order.created", "delivery_url": URL, "status": "disabled"},
      {"topic": "order.updated", "delivery_url": URL, "status": "active"}], ["order.created webhook is disabled"]),
    ([{"topic": "order.created", "delivery_url": URL.replace("main", "outlet"), "status": "active"},
      {"topic": "order.updated", "delivery_url": URL, "status": "paused"}],
     ["no order.created webhook", "order.updated webhook is paused"]),
    ([], ["no order.created webhook", "no order.updated webhook"]),
])
def test_a_missing_or_disabled_webhook_is_warned_about(hooks, words):
    warnings = webhook_warnings(hooks, "main")
    assert len(warnings) == len(words)
    for warning, word in zip(warnings, words, strict=True):
        assert word in warning


def _signed(body: bytes, topic: str = "order.updated") -> dict[str, str]:
    import hashlib
    import hmac

    sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"x-wc-webhook-topic": topic, "x-wc-webhook-signature": sig, "content-type": "application/json"}


DOCUMENTED = [{"key": "OfficeGuyDocumentID", "value": "501"}, {"key": "OfficeGuyDocumentNumber", "value": "40001"}]


@pytest.mark.parametrize("order, topic, ignored", [
    ({"id": 7, "status": "processing", "meta_data": DOCUMENTED, "refunds": []}, "order.updated", True),  # the echo
    ({"id": 7, "status": "processing", "meta_data": DOCUMENTED, "refunds": []}, "order.created", False),
    ({"id": 7, "status": "processing", "meta_data": [], "refunds": []}, "order.updated", False),  # not documented yet
    ({"id": 7, "status": "completed", "meta_data": DOCUMENTED, "refunds": []}, "order.updated", False),  # a Receipt?
    ({"id": 7, "status": "cancelled", "meta_data": DOCUMENTED, "refunds": []}, "order.updated", False),  # a credit
    ({"id": 7, "status": "processing", "meta_data": DOCUMENTED, "refunds": [{"id": 9, "total": "-5.00"}]},
     "order.updated", False),  # a refund: a credit
])
def test_the_write_back_echo_is_ignored_and_every_change_with_work_is_not(order, topic, ignored):
    body = json.dumps(order).encode()
    got = read_delivery(_signed(body, topic), body, SECRET)
    assert isinstance(got, Ignored) is ignored, got
