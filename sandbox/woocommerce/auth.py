"""WooCommerce REST authentication (``includes/class-wc-rest-authentication.php``, woocommerce-api.md A1).

* HTTPS: query ``consumer_key``/``consumer_secret`` first, else HTTP Basic. A known key with a
  wrong secret is an error; an unknown key is simply "nobody" (rec 52). If that fails, the OAuth
  branch still runs (it finds no OAuth parameters and leaves the state alone).
* Plain HTTP: only OAuth 1.0a one-legged. Basic and query keys are ignored (rec 55, 56).
* The key's permissions are checked afterwards on ``rest_pre_dispatch`` (read for GET/HEAD,
  write for the rest; OPTIONS always passes).

The OAuth base string is WooCommerce's own: ``METHOD&rawurlencode(home_url(path))&P`` where the
home URL takes the request's scheme, parameters (query + form + ``Authorization: OAuth``, minus
``oauth_signature``) are sorted by raw key with ``strcmp``, keys and values rawurlencoded, and each
``key=value`` pair rawurlencoded again and joined with ``%26``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.store import Store, api_keys, wc_api_hash

OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
WINDOW = 15 * 60  # seconds a timestamp may be off, and a nonce is remembered


@dataclass
class Auth:
    key: dict[str, Any] | None = None  # the api_keys row of the caller, None if unauthenticated
    error: RestError | None = None


def _auth_error(message: str) -> RestError:
    return RestError("woocommerce_rest_authentication_error", message, 401)


def _key_row(store: Store, consumer_key: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.consumer_key_hash == wc_api_hash(consumer_key.strip()))).mappings().first()
    return dict(row) if row else None


def rawurlencode(value: str) -> str:
    """PHP ``rawurlencode`` (RFC 3986): everything but ``A-Za-z0-9-_.~`` is percent-encoded."""
    return urllib.parse.quote(value, safe="")


def php_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """How PHP fills ``$_GET``/``$_POST``: the last value of a key wins, ``k[]``/``k[x]`` make arrays."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)\[([^\[\]]*)\]", key)
        if match:
            base, sub = match.groups()
            bucket = out.get(base)
            if not isinstance(bucket, dict):
                bucket = out[base] = {}
            bucket[sub if sub != "" else str(len(bucket))] = value
        else:
            out[key] = value
    return out


def parse_oauth_header(header: str) -> dict[str, str]:
    """``WC_REST_Authentication::parse_header`` (its regex and its ``urldecode``)."""
    if not header.startswith("OAuth "):
        return {}
    params = {}
    for name, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(?::?"([^"]*)"|([^,]*))', header):
        params[name] = urllib.parse.unquote_plus(quoted or bare)
    return params


def base_string(method: str, home_url: str, scheme: str, path: str, params: dict[str, Any]) -> str:
    """The string WooCommerce signs (A1)."""
    home = urllib.parse.urlsplit(home_url)
    home_path = home.path.rstrip("/")
    if home_path and path.startswith(home_path + "/"):
        path = path[len(home_path):]
    url = f"{scheme}://{home.netloc}{home_path}{path}"
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    pairs: list[str] = []
    for key in sorted(signed, key=lambda k: k.encode()):
        value = signed[key]
        enc_key = rawurlencode(key)
        if isinstance(value, dict):  # join_with_equals_sign for PHP arrays
            for sub, inner in value.items():
                pairs.append(rawurlencode(f"{enc_key}%5B{rawurlencode(sub)}%5D={rawurlencode(str(inner))}"))
        else:
            pairs.append(rawurlencode(f"{enc_key}={rawurlencode(str(value))}"))
    return f"{method.upper()}&{rawurlencode(url)}&{'%26'.join(pairs)}"


def sign(base: str, consumer_secret: str, method: str) -> str:
    digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(f"{consumer_secret}&".encode(), base.encode(), digest).digest()).decode()


def _oauth(store: Store, method: str, scheme: str, path: str, params: dict[str, Any]) -> Auth:
    missing = [name for name in OAUTH_PARAMS if not params.get(name)]
    if len(missing) == len(OAUTH_PARAMS):
        return Auth()  # not an OAuth request at all
    if missing:
        word = "parameter" if len(missing) == 1 else "parameters"
        return Auth(error=RestError(
            "woocommerce_rest_authentication_missing_parameter", f"Missing OAuth {word} {', '.join(missing)}", 401,
        ))
    key = _key_row(store, str(params["oauth_consumer_key"]))
    if key is None:
        return Auth(error=_auth_error("Consumer key is invalid."))
    sig_method = params["oauth_signature_method"]
    if sig_method not in ("HMAC-SHA1", "HMAC-SHA256"):
        return Auth(error=_auth_error("Invalid signature - signature method is invalid."))
    base = base_string(method, store.config["home_url"], scheme, path, params)
    provided = urllib.parse.unquote(str(params["oauth_signature"]).replace(" ", "+"))
    if not hmac.compare_digest(sign(base, key["consumer_secret"], sig_method), provided):
        return Auth(error=_auth_error("Invalid signature - provided signature does not match."))
    # check_oauth_timestamp_and_nonce
    now = int(store.clock())
    try:
        timestamp = int(str(params["oauth_timestamp"]))
    except ValueError:
        timestamp = 0
    if timestamp < now - WINDOW or timestamp > now + WINDOW:
        return Auth(error=_auth_error("Invalid timestamp."))
    nonce = str(params["oauth_nonce"])
    with store.lock, store.engine.begin() as conn:
        used = dict(conn.execute(select(api_keys.c.nonces).where(
            api_keys.c.consumer_key_hash == key["consumer_key_hash"])).scalar() or {})
        if nonce in used.values():
            return Auth(error=_auth_error("Invalid nonce - nonce has already been used."))
        used[str(timestamp)] = nonce  # keyed by timestamp, as WooCommerce keeps them
        used = {ts: n for ts, n in used.items() if int(ts) >= now - WINDOW}
        conn.execute(update(api_keys).where(api_keys.c.consumer_key_hash == key["consumer_key_hash"]).values(nonces=used))
    return Auth(key=key)


def authenticate(
    store: Store, method: str, scheme: str, path: str, query: list[tuple[str, str]],
    form: list[tuple[str, str]], headers: dict[str, str],
) -> Auth:
    """Who is calling (``determine_current_user`` at priority 15)."""
    get = php_params(query)
    if scheme == "https":
        ck, cs = get.get("consumer_key"), get.get("consumer_secret")
        if not (ck and cs):
            ck = cs = None
            basic = headers.get("authorization", "")
            if basic[:6].lower() == "basic ":
                try:
                    ck, _, cs = base64.b64decode(basic[6:].strip()).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    ck = cs = None
        if ck and cs and isinstance(ck, str) and isinstance(cs, str):
            key = _key_row(store, ck)
            if key is not None:
                if hmac.compare_digest(key["consumer_secret"].encode(), cs.encode()):
                    return Auth(key=key)
                # rec 51/54: the OAuth branch that runs next finds no OAuth parameters and keeps this
                return Auth(error=_auth_error("Consumer secret is invalid."))
    params = {**get, **php_params(form), **parse_oauth_header(headers.get("authorization", "").strip())}
    return _oauth(store, method, scheme, path, params)


def check_permissions(key: dict[str, Any], method: str) -> RestError | None:
    """The key's own permissions (``check_permissions``, l.572-598; rec 62)."""
    if method in ("GET", "HEAD") and key["permissions"] not in ("read", "read_write"):
        return _auth_error("The API key provided does not have read permissions.")
    if method in ("POST", "PUT", "PATCH", "DELETE") and key["permissions"] not in ("write", "read_write"):
        return _auth_error("The API key provided does not have write permissions.")
    return None
