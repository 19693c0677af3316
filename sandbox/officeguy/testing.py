"""Run the OfficeGuy sandbox inside a test: ``og_sandbox(tmp_path)``.

Usage::

    from sandbox.officeguy.testing import og_sandbox

    def test_something(tmp_path):
        with og_sandbox(tmp_path, dataset="demo", rate_limit_per_minute=0, today="2026-03-01") as og:
            hook_conn = (og.url, og.company_id, og.api_key)   # base URL http://127.0.0.1:PORT
            og.arm_fault(kind="drop", path="/accounting/documents/create")
            stock = og.call("/stock/stock/list/", {})["Data"]["Stock"]
            og.stats()         # {"/accounting/documents/create/": 3, ...}
            og.set_config(rate_limit_per_minute=5, block_seconds=1)

Stable interface (hook tests depend on it):

- ``og_sandbox(tmp_path, dataset="empty", rate_limit_per_minute=0, **config)``: a fresh app on
  ``tmp_path/officeguy.sqlite`` (the same ``tmp_path`` again finds the state left before, like a
  restarted server), served by a ``ThreadServer`` on 127.0.0.1. ``config`` keys are those of
  ``sandbox.officeguy.app.DEFAULT_CONFIG`` (``block_seconds``, ``enable_custom_document_dates``,
  ``today``, ``write_delay``, ``vat_rate``); an unknown key is a ``TypeError``.
  The rate limit is off unless asked for, so tests are not throttled by accident.
- The yielded ``OgSandbox``: ``url``, ``company_id``, ``api_key``, ``app``;
  ``arm_fault(**spec)`` (see ``sandbox.common.faults``) returns the armed fault;
  ``clear_faults()``; ``stats()`` (calls by endpoint path); ``reset_stats()``;
  ``set_config(**kw)``; ``call(path, body, language="en")`` posts ``body`` plus the right
  Credentials and returns the parsed envelope (raises ``requests.HTTPError`` on a non-200);
  ``post(path, body, credentials=True, language="en")`` returns the raw ``requests.Response``.

State helpers (read the database directly, no API call; amounts in the document's currency,
negative on credits, as stored):

- ``documents()``: every document (drafts too) in ID order, each a dict ``{id, number, type,
  is_draft, date, currency, currency_code, customer_id, customer_name, no_vat, company_number,
  external_reference, description, original_id, vat_included, vat_per_item, vat_rate, net, vat,
  gross, company_value, send_by_email, lines, payments}``; ``vat_rate`` is the rate applied (0 for a
  NoVAT customer, None with VATPerItem); ``send_by_email`` is None or ``{EmailAddress, Original,
  SendAsPaymentRequest}``; ``lines``: ``[{position, item_id, description, quantity, unit_price,
  total_price, vat, zero_value}]`` (unit/total as sent: gross with VATIncluded, net otherwise;
  quantity is |quantity| on credits); ``payments``: ``[{position, kind, type, method, amount,
  details}]`` (kind "Cash", "Other", ...; type its number).
- ``document(document_id)``: one of those.
- ``item_stock(item_id)``: the card's stock (KeyError for an unknown card).
- ``credits_of(document_id)``: ``{original_id, original_type, original_gross, credit_ids,
  credited_gross, credited_net, credited_vat, credited_quantities}``: the final (non-draft) credit
  documents (types 5, 6, 7, 14) whose OriginalDocumentID is ``document_id``; the sums are positive
  magnitudes, ``credited_quantities`` is ``{item_id: units}``.
- ``credit_totals()``: ``{original document id: credited gross}`` over all originals.
- ``sent_emails()``: ``[{document_id, email, original, send_as_payment_request}]``, ID order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from sandbox.common.server import ThreadServer
from sandbox.officeguy import queries
from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID, create_app

TIMEOUT = 30


class OgSandbox:
    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.company_id = SANDBOX_COMPANY_ID
        self.api_key = SANDBOX_API_KEY
        self._http = requests.Session()

    @property
    def credentials(self) -> dict[str, Any]:
        return {"CompanyID": self.company_id, "APIKey": self.api_key}

    def post(self, path: str, body: dict[str, Any], credentials: bool = True, language: str = "en") -> requests.Response:
        payload = {**body, "Credentials": self.credentials} if credentials else body
        return self._http.post(self.url + path, json=payload, headers={"Content-Language": language}, timeout=TIMEOUT)

    def call(self, path: str, body: dict[str, Any], language: str = "en") -> dict[str, Any]:
        response = self.post(path, body, language=language)
        response.raise_for_status()
        return response.json()

    def documents(self) -> list[dict[str, Any]]:
        return self._read(queries.documents)

    def document(self, document_id: int) -> dict[str, Any]:
        found = [doc for doc in self.documents() if doc["id"] == document_id]
        if not found:
            raise KeyError(f"no OfficeGuy sandbox document {document_id}")
        return found[0]

    def item_stock(self, item_id: int) -> float:
        return self._read(queries.item_stock, item_id)

    def credits_of(self, document_id: int) -> dict[str, Any]:
        return self._read(queries.credits_of, document_id)

    def credit_totals(self) -> dict[int, float]:
        return self._read(queries.credit_totals)

    def sent_emails(self) -> list[dict[str, Any]]:
        return self._read(queries.sent_emails)

    def _read(self, query, *args: Any) -> Any:
        with self.app.state.store.reading() as session:
            return query(session, *args)

    def arm_fault(self, **spec: Any) -> dict[str, Any]:
        return self._control("post", "/faults", json=spec)

    def clear_faults(self) -> None:
        self._control("delete", "/faults")

    def stats(self) -> dict[str, int]:
        return self._control("get", "/stats")

    def reset_stats(self) -> None:
        self._control("delete", "/stats")

    def set_config(self, **changes: Any) -> dict[str, Any]:
        return self._control("patch", "/config", json=changes)

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.url}/__sandbox{path}", timeout=TIMEOUT, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()


@contextmanager
def og_sandbox(tmp_path: Path, dataset: str = "empty", rate_limit_per_minute: int = 0,
               **config: Any) -> Iterator[OgSandbox]:
    Path(tmp_path).mkdir(parents=True, exist_ok=True)
    app = create_app(
        f"sqlite:///{Path(tmp_path) / 'officeguy.sqlite'}", dataset=dataset,
        rate_limit_per_minute=rate_limit_per_minute, **config,
    )
    try:
        with ThreadServer(app) as server:
            sandbox = OgSandbox(server.url, app)
            try:
                yield sandbox
            finally:
                sandbox.close()
    finally:
        app.state.store.dispose()
