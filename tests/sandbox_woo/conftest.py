"""Fixtures of the WooCommerce sandbox's own tests (the root conftest has ``woo``/``woo_https``)."""

from __future__ import annotations

import pytest
import requests
from woo_replay import Replayed, Replayer, load


@pytest.fixture(scope="session")
def replayed(tmp_path_factory) -> dict[int, Replayed]:
    """Every recording replayed in order against one fresh sandbox, by recording number."""
    out: dict[int, Replayed] = {}
    with Replayer(tmp_path_factory.mktemp("replay")) as replayer:
        for rec in load():
            if rec.number == 60:
                # the recorder sent this nonce once before (accepted, not recorded); rec 60 is the replay
                first = replayer.send(rec)
                assert first.response.status_code == 200, first.body
            out[rec.number] = replayer.send(rec)
    return out


@pytest.fixture
def api(woo_https):
    """(sandbox, session) over HTTPS with the read_write key as HTTP Basic."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify=
    session.auth = (woo_https.consumer_key, woo_https.consumer_secret)
    session.verify = str(woo_https.cert_path)
    yield woo_https, session
    session.close()
