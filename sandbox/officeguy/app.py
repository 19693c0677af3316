"""The OfficeGuy sandbox: a faithful OfficeGuy (SUMIT) API server with persistent state.

It follows ``/work/shared/reference/officeguy-api.md`` section 1, SUMIT's own Swagger as
summarised in ``sumit-swagger-facts.md`` beside it (which wins where they differ) and, where the
facts run out, the project's assumptions in section 7. Endpoints (POST, JSON body, with or
without the trailing slash and an ``/api`` prefix, case-insensitive like SUMIT's ASP.NET routing)::

    /stock/stock/list/               /accounting/documents/create/
    /accounting/incomeitems/list/    /accounting/documents/list/
    /accounting/incomeitems/create/  /accounting/documents/getdetails/
    /website/companies/getdetails/

Every answer is HTTP 200 with ``{Status, UserErrorMessage, TechnicalErrorDetails, Data}``
(Status 0 success, 1 business error, 2 technical error; Data null on error), except the rate
limit's empty HTTP 403, a 404 for an unknown path and a 405 for a method other than POST.

Runtime options (``app.state.config``, also ``PATCH /__sandbox/config``):

- ``rate_limit_per_minute`` (100; 0 = off): calls per company in a sliding 60 s window.
- ``block_seconds`` (60): how long the empty 403 lasts once the limit is passed.
- ``enable_custom_document_dates`` (False): the company setting that lifts the 3-day rule.
- ``today`` (""): the server's date as ISO text; "" is the real UTC date.
- ``write_delay`` (0): seconds slept by each create call, to model a slow server.
- ``vat_rate`` (18.0): the company's default VAT rate in percent (Israel's since 2025).

Choices made where the reference is silent (a strict accounting API is the model):

- **Credentials** are checked before anything else in the body; ``CompanyID`` may be a number or
  a digit string. A body that is not JSON is a business error (Status 1), not a crash.
- **Rate limit**: calls are counted per ``Credentials.CompanyID`` as sent (calls without one share
  a bucket per client address), whether or not the key is right. Call number limit+1 within 60 s
  starts a block; while it lasts every call gets the empty 403 and is not counted; when it ends
  the company starts with an empty window. ``/__sandbox`` calls never count.
- **Enums in answers** (Type, Language, Currency) are integers, the wire form of 1.4.
- **Empty strings** in text fields mean "absent"; absent texts are returned as null.
- **Items** (no uniqueness of SKU or ExternalIdentifier, as far as is known of SUMIT): the pipeline
  must guard against duplicates itself. ``incomeitems/create`` makes a new card with stock 0;
  with an explicit ``SearchMode`` it returns the first matching card (lowest ID) instead, the
  "create or find existing" the spec describes for customers.
- **Item resolution in documents** (section 7): ``Item.ID`` (unknown → refused), else SearchMode
  2 ExternalIdentifier, 4 SKU, 3 Name, 5 Description (no match → refused, naming the line);
  0 Automatic tries ExternalIdentifier, SKU, Name and creates a card from the line when none
  matches; 1 None always creates one. A line without SearchMode means None, the documented
  default for customers. Several matches resolve to the lowest ID. A found card is not updated
  from the line. A new card's price is the line's unit price unless ``Item.Price`` is given.
- **Customers**: ``Customer.ID`` (unknown → refused), else SearchMode (default None → a new
  customer; Automatic tries ExternalIdentifier, CompanyNumber, EmailAddress, Phone, Name);
  an explicit mode with no match creates the customer. A new customer needs a Name.
- **Strict requests** (Swagger: ``additionalProperties: false``): documents/create refuses a key
  it does not know, case-sensitively, naming it (``Details.Foo``, ``Items[2].Bar``,
  ``Payments[1].Details_Cash.X``) at the top level, in ``Details``, each ``Items[]`` entry, each
  ``Payments[]`` entry, each ``Details_*`` object (Cash, General and TaxWithholding are empty) and
  ``SendByEmail``. ``Customer`` and ``Items[].Item`` are open and take anything. A null value
  counts as absent everywhere.
- **Document validation**: Details, Type and Customer are required; types 15-22 are "not
  supported"; at least one line, each with an Item, a Quantity other than 0 (absent = 1) and a
  price (both a unit and a total price given must agree within 0.01); only the pure receipts
  (2, 4, 7, 14) may leave ``Items`` out and be payments only. A Date more than 3 days before
  today is refused unless ``enable_custom_document_dates``; a future date is allowed. A line of
  price 0 is accepted (and marked ``zero_value`` by the testing helpers).
- **Currencies**: all 155 of Swagger 3.1, as the number or the ISO code (EUR is 2; 978 is
  refused), in ``Details.Currency`` and ``Item.Currency``. An ILS document reads
  ``DocumentCurrency_UnitPrice``/``TotalPrice`` when given, else ``UnitPrice``/``TotalPrice``;
  any other document reads only the ``DocumentCurrency_*`` prices and refuses a line that gives
  only the ILS ones ("leave this empty for non-ILS documents"), and likewise a payment with only
  ``Amount``. Fixed rates (``wire.ILS_RATES``: USD 3.6, EUR 3.9, GBP 4.6, JPY 0.024, ..., 1.0 for
  the rest) give ``CompanyValue`` and the ILS fields of getdetails.
- **VAT**: the rate is ``VATRate`` (0-100) or the company's ``vat_rate``, and 0 for a customer
  with ``NoVAT`` (as sent, else the card's). With ``VATIncluded`` the line prices are gross and
  the document's VAT is gross − gross/(1+rate); otherwise they are net and VAT = net × rate. VAT
  is computed once on the document's sum, rounded half up to the agora, and split over the
  lines (the rounding difference on the last line with an amount). ``VATPerItem`` needs
  ``VATRate`` empty and ``VATIncluded`` empty or false; its prices are net and each line's VAT
  is its ``DocumentCurrency_VAT`` (or ``VAT`` in ILS, converted; absent = 0): the document's VAT
  is their sum. ``VAT``/``DocumentCurrency_VAT`` on a line without VATPerItem is refused, as are,
  naming the line: VAT on a NoVAT customer's line, a negative VAT on a line that is not itself
  negative, a VAT of the other sign than a (discount) line's amount, and a VAT above half the
  line's net amount. ``DocumentValue`` is net + VAT.
- **Payments** (receipt types 1, 2, 4, 6, 7, 14 only, required there; never ``[]``): each has
  exactly one ``Details_*`` object holding only its own fields and an amount; ``Type`` (0-8 or
  its name) other than 0/Automatic must match that object. The payments must add up to the
  document's gross total within 0.01. The kind (Cash, Other, ...) is stored and returned.
- **SendByEmail** needs ``Original`` and ``SendAsPaymentRequest`` (booleans); the address is
  ``EmailAddress`` or else the customer's, and neither is refused. Recorded, not sent.
- **Credits** (5, 6, 7, 14): the Swagger gives no sign, so both are accepted: every price, total,
  VAT and payment amount positive, or every one negative (quantities may then be either sign);
  a mix is refused. Credits are always stored, listed and returned negative (values, unit and
  total prices, VAT, payments), quantities as |quantity|. Every other type refuses a negative
  document total; negative (discount) lines are fine on them. ``OriginalDocumentID``, on any
  type, must name an existing document (of any customer) and is returned by getdetails.
- **getdetails** returns Swagger's create schema for items (``UnitPrice``/``TotalPrice``/``VAT`` in
  ILS, ``DocumentCurrency_*`` in the document's currency) and payments (``Amount`` in ILS,
  ``DocumentCurrency_Amount``, ``Type`` as a number), and adds ``VAT``, ``NetValue``,
  ``VATIncluded``, ``VATRate`` (applied; null with VATPerItem), ``VATPerItem``,
  ``OriginalDocumentID``, ``SendByEmail`` and ``Customer.NoVAT``/``CompanyNumber`` to ``Document``.
- **Stock** (section 7): final documents of types 0, 1, 2, 9 take the line quantities out;
  5, 6, 7, 10, 11 put them back in (a credit by |quantity|, whatever sign was sent); drafts and
  other types change nothing. Stock may go negative.
- **Numbers**: DocumentNumber is a gap-free sequence per type from 10001; drafts get none (null)
  since Israeli numbering must not skip. IDs: items from 1001, customers from 50,000,001,
  documents from 80,000,001.
- **documents/list**: DocumentTypes filters by numeric codes only (names match nothing, as CFO
  observed); DateFrom/DateTo are inclusive calendar dates; IncludeDrafts defaults to false;
  the order is a fixed scramble of the document IDs (neither date nor number, 1.5d), so clients
  must sort; there is no filter on ExternalReference. Invoices (0), proformas (3) and payment
  requests (13) are open (``IsClosed`` false, with a payment URL); everything else is closed.
- **Download URLs** look like SUMIT's but are not served by the sandbox.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from sandbox.common.control import control_router
from sandbox.common.dates import DateHeaderMiddleware
from sandbox.common.faults import FaultBook, FaultMiddleware
from sandbox.officeguy import documents, items, wire
from sandbox.officeguy.store import Store
from sandbox.officeguy.wire import ApiError

SANDBOX_COMPANY_ID = 12345678
SANDBOX_API_KEY = "og-sbx-7Qk2mV9rXc4LpT8wZ1nB6hJ3sD5fG0yA"
COMPANY_NAME = "ארגז חול בע\"מ (Sandbox Ltd)"
TEST_CORPORATE_NUMBER = "999999998"  # the marker of a SUMIT test company (1.1)
RATE_WINDOW_SECONDS = 60.0

DEFAULT_CONFIG: dict[str, Any] = {
    "rate_limit_per_minute": 100,
    "block_seconds": 60.0,
    "enable_custom_document_dates": False,
    "today": "",
    "write_delay": 0.0,
    "vat_rate": 18.0,
}

log = logging.getLogger(__name__)


class Context:
    """What a handler needs: the state, the runtime options and the caller's company."""

    def __init__(self, store: Store, config: dict[str, Any], company_id: int) -> None:
        self.store = store
        self.config = config
        self.company_id = company_id

    def read(self, handler: Callable[..., dict], body: dict, *args: Any) -> dict:
        with self.store.reading() as session:
            return handler(session, body, *args)

    def write(self, handler: Callable[..., dict], body: dict, *args: Any) -> dict:
        if self.config["write_delay"]:
            time.sleep(float(self.config["write_delay"]))
        with self.store.writing() as session:
            return handler(session, body, *args)


def _company(ctx: Context, _body: dict) -> dict:
    return {
        "Company": {
            "ID": ctx.company_id, "Name": COMPANY_NAME, "CorporateNumber": TEST_CORPORATE_NUMBER,
            "Phone": "03-0000000", "EmailAddress": "sandbox@example.com", "Address": "רחוב הבדיקות 1",
            "City": "תל אביב", "ZipCode": "6100000",
        }
    }


ENDPOINTS: dict[str, Callable[[Context, dict], dict]] = {
    "/stock/stock/list/": lambda ctx, body: ctx.read(items.stock_list, body),
    "/accounting/incomeitems/list/": lambda ctx, body: ctx.read(items.list_items, body),
    "/accounting/incomeitems/create/": lambda ctx, body: ctx.write(items.create_item, body),
    "/accounting/documents/create/": lambda ctx, body: ctx.write(
        documents.create, body, ctx.config, ctx.company_id),
    "/accounting/documents/list/": lambda ctx, body: ctx.read(documents.list_documents, body, ctx.company_id),
    "/accounting/documents/getdetails/": lambda ctx, body: ctx.read(documents.get_details, body, ctx.company_id),
    "/website/companies/getdetails/": _company,
}


def endpoint_path(path: str) -> str:
    """``/API/Stock/Stock/List`` -> ``/stock/stock/list/``: the key of ENDPOINTS and the counters."""
    path = path.lower()
    if path.startswith("/api/"):
        path = path[len("/api"):]
    return path if path.endswith("/") else path + "/"


class RateLimiter:
    """About 100 calls a minute per company, then an empty 403 for a while (1.6, section 7)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self.admitted: list[float] = []  # wall-clock times of the calls let through (GET /__sandbox/rate-limit)
        self.refused = 0  # empty 403s answered

    def admit(self, key: str) -> bool:
        limit = int(self.config["rate_limit_per_minute"] or 0)
        if limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self._blocked_until.get(key, 0.0):
                self.refused += 1
                return False
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - RATE_WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                self._blocked_until[key] = now + float(self.config["block_seconds"])
                window.clear()
                self.refused += 1
                return False
            window.append(now)
            self.admitted.append(time.time())
            return True


def create_app(db_url: str, dataset: str = "empty", rate_limit_per_minute: int = 100, **options: Any) -> FastAPI:
    unknown = set(options) - set(DEFAULT_CONFIG)
    if unknown:
        raise TypeError(f"unknown OfficeGuy sandbox options {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}")
    config = {**DEFAULT_CONFIG, "rate_limit_per_minute": rate_limit_per_minute, **options}
    store = Store(db_url)
    store.load(dataset)
    book = FaultBook()
    limiter = RateLimiter(config)

    api = FastAPI(title="OfficeGuy sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.book = book
    api.state.config = config
    api.state.store = store
    api.include_router(control_router(book, config))

    @api.get("/__sandbox/rate-limit")
    def rate_limit_log() -> dict[str, Any]:
        """What the limit saw: when each admitted call came (epoch seconds) and how many 403s it gave."""
        with limiter._lock:
            return {"admitted": list(limiter.admitted), "refused": limiter.refused,
                    "limit_per_minute": int(config["rate_limit_per_minute"] or 0)}

    @api.api_route("/{path:path}", methods=["POST"])
    async def dispatch(request: Request, path: str) -> Response:
        handler = ENDPOINTS.get(endpoint_path(request.url.path))
        if handler is None:
            return Response(status_code=404)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = None
        credentials = body.get("Credentials") if isinstance(body, dict) else None
        company = credentials.get("CompanyID") if isinstance(credentials, dict) else None
        if not limiter.admit(f"company:{company}" if company is not None else f"client:{request.client.host}"):
            return Response(status_code=403)  # SUMIT's throttle answer: no body at all (1.6)
        english = request.headers.get("content-language", "he").strip().lower().startswith("en")
        envelope = await run_in_threadpool(_answer, handler, store, config, body, english)
        return Response(json.dumps(envelope, ensure_ascii=False), media_type="application/json; charset=utf-8")

    # Faults and call counts wrap the whole API, so a fault fires before the rate limit sees it.
    api.add_middleware(FaultMiddleware, book=book, classify=lambda _method, path: endpoint_path(path))
    api.add_middleware(DateHeaderMiddleware, clock=time.time)
    return api


def _answer(handler, store: Store, config: dict[str, Any], body: Any, english: bool) -> dict[str, Any]:
    try:
        if not isinstance(body, dict):
            raise ApiError("bad_json")
        ctx = Context(store, config, _authenticate(body))
        return {"Status": 0, "UserErrorMessage": None, "TechnicalErrorDetails": None, "Data": handler(ctx, body)}
    except ApiError as exc:
        return {"Status": 1, "UserErrorMessage": exc.message(english), "TechnicalErrorDetails": None, "Data": None}
    except Exception as exc:  # a sandbox bug shows as SUMIT's technical error, and in the log
        log.exception("OfficeGuy sandbox: technical error")
        return {
            "Status": 2, "UserErrorMessage": wire.message("technical", english),
            "TechnicalErrorDetails": f"{type(exc).__name__}: {exc}", "Data": None,
        }


def _authenticate(body: dict[str, Any]) -> int:
    credentials = body.get("Credentials")
    if not isinstance(credentials, dict) or credentials.get("CompanyID") in (None, "") or not credentials.get("APIKey"):
        raise ApiError("credentials_missing")
    company = credentials["CompanyID"]
    if isinstance(company, str) and company.strip().isdigit():
        company = int(company)
    if company != SANDBOX_COMPANY_ID or isinstance(company, bool) or credentials["APIKey"] != SANDBOX_API_KEY:
        raise ApiError("credentials_invalid")
    return SANDBOX_COMPANY_ID
