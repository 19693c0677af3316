"""Replaying the recordings of a real WooCommerce 9.4.3 against the sandbox (used by the contract tests).

The recordings (``/work/shared/reference/woocommerce-recordings``, INDEX.txt) were made in sequence
against a fresh store whose first product got id 10. A fresh sandbox (dataset ``empty``, so the
post id sequence starts at 10) that is sent the same requests in the same order hands out the
same ids, so every id, ``Location`` and ``Link`` can be compared literally.

Two servers share one database: HTTPS with home URL ``https://127.0.0.1:8443`` for the Basic-auth
recordings, plain HTTP with home URL ``http://127.0.0.1:8480`` for the OAuth ones (their
signatures were made over that URL). Before each request the sandbox clock is set to the
recording's ``Date`` header, so OAuth timestamps are judged as the real server judged them and
the stored dates are those of the recording (to the second the response was sent).
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sandbox.common.server import ThreadServer
from sandbox.common.tls import SelfSignedCert
from sandbox.woocommerce.app import create_app

RECORDINGS = Path(os.environ.get("WOO_RECORDINGS", "/work/shared/reference/woocommerce-recordings"))
HTTPS_HOME = "https://127.0.0.1:8443"
HTTP_HOME = "http://127.0.0.1:8480"


@dataclass
class Recording:
    number: int
    name: str
    request: dict[str, Any]
    response: dict[str, Any]

    @property
    def date(self) -> float:
        return email.utils.parsedate_to_datetime(self.header("Date")).timestamp()

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.response["headers"] if k.lower() == name.lower()]
        return values[-1] if values else None

    def headers_named(self, name: str) -> list[str]:
        return [v for k, v in self.response["headers"] if k.lower() == name.lower()]

    @property
    def json(self) -> Any:
        return self.response.get("json")


def load() -> list[Recording]:
    out = []
    for path in RECORDINGS.glob("*.json"):
        number = int(path.name.split("-", 1)[0])
        data = json.loads(path.read_text())
        out.append(Recording(number, path.stem, data["request"], data["response"]))
    return sorted(out, key=lambda r: r.number)


def basic_key(rec: Recording) -> tuple[str, str]:
    """The (consumer key, secret) a recording sent as HTTP Basic."""
    user, _, password = base64.b64decode(rec.request["headers"]["Authorization"][6:]).decode().partition(":")
    return user, password


@dataclass
class Replayed:
    recording: Recording
    response: requests.Response
    body: Any


class Replayer:
    """Two sandbox servers (HTTPS and HTTP) on one fresh database; ``send`` replays a recording."""

    def __init__(self, tmp: Path) -> None:
        db = f"sqlite:///{tmp / 'replay.sqlite'}"
        self.https_app = create_app(db, home_url=HTTPS_HOME)
        self.http_app = create_app(db, home_url=HTTP_HOME)
        self.cert = SelfSignedCert(tmp / "tls")
        self.https = ThreadServer(self.https_app, tls=self.cert)
        self.http = ThreadServer(self.http_app)
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
        recs = {r.number: r for r in load()}
        # the recorded store's read-only key (rec 62/63), to replay them with their own headers
        self.https_app.state.store.add_key(*basic_key(recs[63]), "read")

    def __enter__(self) -> Replayer:
        self.https.start()
        self.http.start()
        return self

    def __exit__(self, *exc) -> None:
        self.https.stop()
        self.http.stop()

    def send(self, rec: Recording) -> Replayed:
        url = rec.request["url"]
        for app in (self.https_app, self.http_app):
            app.state.store.clock = lambda when=rec.date: when
        if url.startswith(HTTPS_HOME):
            url = self.https.url + url[len(HTTPS_HOME):]
        else:
            url = self.http.url + url[len(HTTP_HOME):]
        headers = {k: v for k, v in rec.request["headers"].items()
                   if k.lower() in ("authorization", "content-type", "accept")}
        body = rec.request.get("body")
        data = json.dumps(body).encode() if body is not None else None
        response = self.session.request(rec.request["method"], url, headers=headers, data=data,
                                        verify=str(self.cert.cert_path), timeout=30)
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        return Replayed(rec, response, parsed)
