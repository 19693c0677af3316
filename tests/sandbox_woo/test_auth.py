"""Authentication as woocommerce-api.md A1 describes it, checked against the real recordings and live."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, SIGNATURE_TYPE_QUERY
from requests_oauthlib import OAuth1
from woo_replay import HTTP_HOME, load

from sandbox.common.server import ThreadServer
from sandbox.woocommerce import products as P
from sandbox.woocommerce.app import RECORDED_CONSUMER_SECRET, create_app
from sandbox.woocommerce.auth import base_string, php_params, sign

RECS = {r.number: r for r in load()}
ACCEPTED = [0, 57, 67]  # OAuth 1.0a requests the real store accepted


@pytest.mark.parametrize("number", ACCEPTED)
def test_signature_matches_real_woocommerce(number):
    """Our base string + HMAC reproduce the signature a real store accepted (and so verify it)."""
    rec = RECS[number]
    url = urllib.parse.urlsplit(rec.request["url"])
    params = php_params(urllib.parse.parse_qsl(url.query))
    base = base_string(rec.request["method"], HTTP_HOME, "http", url.path, params)
    assert sign(base, RECORDED_CONSUMER_SECRET, params["oauth_signature_method"]) == params["oauth_signature"]
    params["per_page"] = "6"  # any change to a signed parameter breaks it
    tampered = base_string(rec.request["method"], HTTP_HOME, "http", url.path, params)
    assert sign(tampered, RECORDED_CONSUMER_SECRET, params["oauth_signature_method"]) != params["oauth_signature"]


@pytest.fixture
def frozen(tmp_path):
    """A fresh HTTP sandbox (fresh nonce store) whose home URL is the recorded one, with product 10."""
    app = create_app(f"sqlite:///{tmp_path / 'oauth.sqlite'}", home_url=HTTP_HOME)
    store = app.state.store
    with store.engine.begin() as conn:
        P.create_product(P.Ctx(store, HTTP_HOME), conn, {"name": "Widget A", "manage_stock": True, "stock_quantity": 5})
    with ThreadServer(app) as server:
        yield app, server


def _send(server, rec, body=None):
    url = server.url + rec.request["url"][len(HTTP_HOME):]
    return requests.request(rec.request["method"], url, json=body if body is not None else rec.request.get("body"),
                            timeout=10)


@pytest.mark.parametrize("number", ACCEPTED)
def test_recorded_oauth_requests_accepted_with_frozen_clock(frozen, number):
    app, server = frozen
    rec = RECS[number]
    app.state.store.clock = lambda: rec.date
    response = _send(server, rec)
    assert response.status_code == 200, response.text


def test_recorded_oauth_failures(frozen):
    app, server = frozen
    for number, message in [
        (58, "Invalid signature - provided signature does not match."),
        (61, "Invalid timestamp."),
    ]:
        app.state.store.clock = lambda when=RECS[number].date: when
        response = _send(server, RECS[number])
        assert response.status_code == 401
        assert response.json()["code"] == "woocommerce_rest_authentication_error"
        assert response.json()["message"] == message
    missing = _send(server, RECS[59])
    assert missing.status_code == 401 and missing.json() == RECS[59].json


def test_nonce_replay_refused_and_clock_window(frozen):
    app, server = frozen
    rec = RECS[60]
    app.state.store.clock = lambda: rec.date
    assert _send(server, rec).status_code == 200
    again = _send(server, rec)
    assert again.status_code == 401 and again.json()["message"] == "Invalid nonce - nonce has already been used."
    app.state.store.clock = lambda: rec.date + 15 * 60 + 60  # 16 minutes later the timestamp is too old
    assert _send(server, RECS[57]).json()["message"] == "Invalid timestamp."


def test_oauth_over_wrong_home_url_fails(frozen):
    """The base string uses the configured home URL, not the Host the client used (A1)."""
    app, server = frozen
    app.state.config["home_url"] = "http://localhost:8480"
    app.state.store.clock = lambda: RECS[57].date
    assert _send(server, RECS[57]).json()["message"] == "Invalid signature - provided signature does not match."


@pytest.mark.parametrize("signature_type", [SIGNATURE_TYPE_QUERY, SIGNATURE_TYPE_AUTH_HEADER])
@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256])
def test_live_oauth_with_requests_oauthlib(woo, signature_type, method):
    auth = OAuth1(woo.consumer_key, woo.consumer_secret, signature_type=signature_type, signature_method=method)
    created = requests.post(f"{woo.api}/products", json={"name": "Mug", "sku": "MUG 1", "regular_price": "3"},
                            auth=auth, timeout=10)
    assert created.status_code == 201, created.text
    # parameters that need percent-encoding (":" "," " ") go into the signature too
    params = {"sku": "MUG 1", "modified_after": "2000-01-01T00:00:00", "_fields": "id,sku", "orderby": "id"}
    listed = requests.get(f"{woo.api}/products", params=params, auth=auth, timeout=10)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [{"id": created.json()["id"], "sku": "MUG 1"}]


def test_basic_and_query_keys_ignored_over_http(woo):
    """Plain HTTP runs unauthenticated when no OAuth is sent (rec 55, 56)."""
    basic = requests.get(f"{woo.api}/products", auth=(woo.consumer_key, woo.consumer_secret), timeout=10)
    query = requests.get(f"{woo.api}/products", timeout=10,
                         params={"consumer_key": woo.consumer_key, "consumer_secret": woo.consumer_secret})
    for response in (basic, query):
        assert response.status_code == 401
        assert response.json()["code"] == "woocommerce_rest_cannot_view"
        assert "WWW-Authenticate" not in response.headers
    post = requests.post(f"{woo.api}/products/batch", json={}, auth=(woo.consumer_key, woo.consumer_secret), timeout=10)
    assert post.json()["code"] == "woocommerce_rest_cannot_batch"


def test_https_keys_and_permissions(api):
    woo, session = api
    verify = str(woo.cert_path)
    assert session.get(f"{woo.api}/products").status_code == 200
    query = requests.get(f"{woo.api}/products", verify=verify, timeout=10,
                         params={"consumer_key": woo.consumer_key, "consumer_secret": woo.consumer_secret})
    assert query.status_code == 200
    wrong = requests.get(f"{woo.api}/products", auth=(woo.consumer_key, "cs_wrong"), verify=verify, timeout=10)
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Consumer secret is invalid.")
    unknown = requests.get(f"{woo.api}/products", auth=("ck_unknown", "cs_x"), verify=verify, timeout=10)
    assert (unknown.status_code, unknown.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    readonly = (woo.readonly_key, woo.readonly_secret)
    assert requests.get(f"{woo.api}/products", auth=readonly, verify=verify, timeout=10).status_code == 200
    denied = requests.post(f"{woo.api}/products", json={"name": "x"}, auth=readonly, verify=verify, timeout=10)
    assert denied.status_code == 401
    assert denied.json()["message"] == "The API key provided does not have write permissions."


def test_oauth_clock_is_checked_live(woo):
    """A signature made 20 minutes ago is refused even though it is correct."""
    client_auth = OAuth1(woo.consumer_key, woo.consumer_secret, signature_type=SIGNATURE_TYPE_QUERY,
                         timestamp=str(int(time.time()) - 20 * 60))
    response = requests.get(f"{woo.api}/products", auth=client_auth, timeout=10)
    assert response.json()["message"] == "Invalid timestamp."
