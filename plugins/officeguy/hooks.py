"""``OfficeGuyHook``: the one place that talks to the OfficeGuy (SUMIT) API.

Connection ``officeguy_default`` (type ``officeguy``): host = API base URL (default
``https://api.sumit.co.il``), login = CompanyID, password = APIKey; the extras are the
``extra_field``s of `OfficeGuySettings` (``rate_limit_per_minute``, ``rate_limit_hold_seconds``,
``timeout``, ``max_attempts``, ``backoff_seconds``, ``language``), each declared in the connection
form (provider_info.py) and the README. The connection is parsed once, into ``hook.settings``.

What it owns (officeguy-api.md): every call is a JSON POST with ``Credentials`` in the body (1.2);
the answer is an envelope whose integer ``Status`` decides, not the HTTP code (1.3: 0 ok, 1 business
error — never retried, 2 technical error); an empty HTTP 403 is the rate limit (1.6), so calls are
paced below ``rate_limit_per_minute`` and a 403 holds every call back before a retry; paging with
``Paging{StartIndex, PageSize}`` and ``HasNextPage`` (1.5b). Writes (documents, income items) have
no idempotency key on the server (1.5d), so an unclear failure of a write is raised as
``AmbiguousWriteError`` and never resent here: the caller looks the document up first.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import requests
from airflow.sdk import BaseHook

import officeguy_woocommerce.common.http as api_http
from officeguy_woocommerce.common.http import (
    AmbiguousWriteError,
    AuthError,
    Backoff,
    BusinessError,
    ConnectionConfigError,
    TransientError,
)

log = logging.getLogger(__name__)

SYSTEM = "OfficeGuy"
DEFAULT_BASE_URL = "https://api.sumit.co.il"
PAGE_SIZE = 1000  # the largest PageSize OfficeGuy accepts (1.5b)
RATE_LIMIT_HOLD_S = 15.0  # how long every call stays quiet after a 403 (the pacer waits it out)
LANGUAGES = ("en", "he")  # Content-Language of OfficeGuy's error messages

# Messages that mean the credentials themselves were refused (Status 1 on HTTP 200, section 7).
_CREDENTIAL_HINTS = ("credential", "apikey", "api key", "companyid", "company id", "פרטי הזדהות", "מפתח")


@dataclass(frozen=True)
class OgStockItem:
    id: int
    name: str
    external_identifier: str
    stock: Any  # a float; None, or the raw value as sent (true, "5") when it is not a number


@dataclass(frozen=True)
class OgIncomeItem:
    id: int
    name: str
    sku: str
    external_identifier: str
    price: float | None


@dataclass(frozen=True)
class OgDocument:
    document_id: int
    document_number: int | None
    type: int | None
    date: str
    external_reference: str
    description: str
    is_draft: bool
    value: float | None


@dataclass(frozen=True)
class CreatedDocument:
    document_id: int
    document_number: int | None
    customer_id: int | None
    download_url: str


@dataclass(frozen=True)
class OfficeGuySettings(api_http.ConnectionSettings):
    """Connection ``officeguy_default`` parsed once (``OfficeGuyHook.settings``)."""

    company_id: int = field(repr=False)
    api_key: str = api_http.secret_field()
    timeout: float = api_http.extra_field("timeout", 60, minimum=0.001)
    max_attempts: int = api_http.extra_field("max_attempts", 6, minimum=1, integer=True)
    backoff_seconds: float = api_http.extra_field("backoff_seconds", 1.0, minimum=0)
    rate_limit_per_minute: float = api_http.extra_field("rate_limit_per_minute", 90, minimum=1)
    rate_limit_hold_seconds: float = api_http.extra_field("rate_limit_hold_seconds", RATE_LIMIT_HOLD_S, minimum=0)
    language: str = api_http.extra_field("language", "en")
    # the SQL connection whose database every worker reaches: the rate budget is shared there (several
    # hosts); empty: shared by the processes of this host (plugins/common/rate_limit.py)
    rate_limit_conn_id: str = api_http.extra_field("rate_limit_conn_id", "")

    system = SYSTEM
    default_url = DEFAULT_BASE_URL

    @classmethod
    def _parse(cls, conn: Any, extra: dict, conn_id: str, url: str) -> dict[str, Any]:
        try:
            company_id = int(str(conn.login or "").strip())
        except ValueError:
            raise ConnectionConfigError(
                f"Connection {conn_id!r}: the Company ID (login) must be a number, as shown at "
                "app.sumit.co.il/developers/keys/.", system=SYSTEM) from None
        if not conn.password:
            raise ConnectionConfigError(f"Connection {conn_id!r} has no API key (password).", system=SYSTEM)
        language = str(extra.get("language") or "en").strip().lower()
        if language not in LANGUAGES:
            raise ConnectionConfigError(f"Connection {conn_id!r}: extra 'language' must be en or he, not "
                                        f"{extra.get('language')!r}.", system=SYSTEM)
        shared = extra.get("rate_limit_conn_id") or ""
        if not isinstance(shared, str) or (shared.strip() and not _shared_budget_reachable(shared.strip())):
            raise ConnectionConfigError(
                f"Connection {conn_id!r}: extra 'rate_limit_conn_id' must name an Airflow connection to a SQL "
                f"database every worker reaches (e.g. stock_sync_db); {shared!r} is not one. Leave it empty to "
                "share the rate budget between the processes of this host only.", system=SYSTEM)
        shared = shared.strip()
        return {"company_id": company_id, "api_key": conn.password, "language": language,
                "rate_limit_conn_id": shared}


_PACERS: dict[tuple[str, float, str], Any] = {}


def _shared_budget_reachable(conn_id: str) -> bool:
    """``conn_id`` is an Airflow connection with a SQL URL (it is only opened by the first call)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return bool(conn.extra_dejson.get("sqlalchemy_url") or conn.conn_type in {"postgres", "mysql", "sqlite"})


def shared_pacer(account: str, per_minute: float, conn_id: str = "") -> Any:
    """One pacer object per account and process (its threads share it); the budget itself lives
    outside the process. ``conn_id``: an Airflow SQL connection (its extra ``sqlalchemy_url`` or URI)."""
    from officeguy_woocommerce.common.rate_limit import HostPacer, SqlPacer

    key = (account, per_minute, conn_id)
    if key not in _PACERS:
        if conn_id:
            conn = BaseHook.get_connection(conn_id)
            url = conn.extra_dejson.get("sqlalchemy_url") or conn.get_uri()
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://"):]
            _PACERS[key] = SqlPacer(url, account, per_minute)
        else:
            _PACERS[key] = HostPacer(account, per_minute)
    return _PACERS[key]


class OfficeGuyHook(api_http.ApiHookMixin, BaseHook):
    """Talks to one OfficeGuy (SUMIT) company through its JSON API: ``with OfficeGuyHook() as hook:``
    (the session is closed on the way out); ``hook.settings`` holds the parsed connection."""

    conn_name_attr = "officeguy_conn_id"
    default_conn_name = "officeguy_default"
    conn_type = "officeguy"
    hook_name = "OfficeGuy (SUMIT)"
    settings_class = OfficeGuySettings
    backoff_cap = 60.0

    def __init__(self, officeguy_conn_id: str = default_conn_name, *, max_attempts: int | None = None,
                 backoff: Backoff | None = None) -> None:
        super().__init__(officeguy_conn_id, max_attempts=max_attempts, backoff=backoff)
        self.rejected_stock_rows: list[dict] = []  # malformed stock rows of the last list_stock(), with reasons
        self.rejected_item_rows: list[dict] = []  # malformed rows of the last list_income_items()

    # ----------------------------------------------------------------- connection
    @cached_property
    def pacer(self) -> Any:
        """The company's call budget, shared by every process that calls it (plugins/common/rate_limit.py):
        on this host by default, across hosts through the SQL connection ``rate_limit_conn_id``."""
        s = self.settings
        # the rate is part of the account's key: a budget paced at another rate is another budget
        return shared_pacer(f"{s.base_url}|{s.company_id}|{s.rate_limit_per_minute:g}", s.rate_limit_per_minute,
                            s.rate_limit_conn_id)

    @property
    def rate_limit_hold(self) -> float:
        return self.settings.rate_limit_hold_seconds

    def _new_session(self, settings: OfficeGuySettings) -> requests.Session:
        session = requests.Session()
        session.headers.update({
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Content-Language": settings.language,
            "User-Agent": "officeguy-woocommerce-sync/0.1",
        })
        return session

    # ----------------------------------------------------------------- one call
    def call(self, path: str, body: dict | None = None, *, idempotent: bool = True, what: str = "") -> Any:
        """POST ``path`` with ``body`` + Credentials; returns ``Data`` of a Status 0 answer."""
        session = self.get_conn()
        what = what or path
        url = f"{self.base_url}{path}"
        credentials = {"CompanyID": self.settings.company_id, "APIKey": self.settings.api_key}

        def once() -> Any:
            self.pacer.wait()
            self._count_call()
            started = time.monotonic()
            try:
                resp = session.post(url, json={**(body or {}), "Credentials": credentials},
                                    timeout=self.timeout, verify=True)
            except requests.RequestException as exc:
                raise self._transport_error(exc, idempotent=idempotent, what=what) from None
            log.debug("OfficeGuy %s -> HTTP %s in %.2fs", path, resp.status_code, time.monotonic() - started)
            return self._data_or_raise(resp, what, idempotent)

        return self._retrying(once)

    def _data_or_raise(self, resp: requests.Response, what: str, idempotent: bool) -> Any:
        if resp.status_code == 403:
            # 1.6: an empty 403 is the rate limit; the request was refused before it was processed.
            self.pacer.hold_off(self.rate_limit_hold)
            raise TransientError(f"OfficeGuy rate limit (HTTP 403) on {what}; slowing down and retrying.",
                                 system=SYSTEM, status=403, retry_after=0)
        if resp.status_code >= 500 or resp.status_code == 429:
            text = f"OfficeGuy answered HTTP {resp.status_code} to {what}"
            if not idempotent and resp.status_code >= 500:
                raise AmbiguousWriteError(text + "; the document or item may have been created", system=SYSTEM,
                                          status=resp.status_code)
            raise TransientError(text, system=SYSTEM, status=resp.status_code)
        if resp.status_code != 200:
            raise BusinessError(f"OfficeGuy answered HTTP {resp.status_code} to {what}.", system=SYSTEM,
                                status=resp.status_code)
        try:
            envelope = resp.json()
        except ValueError:
            raise (AmbiguousWriteError if not idempotent else TransientError)(
                f"OfficeGuy answered {what} with something that is not JSON.", system=SYSTEM) from None
        status = envelope.get("Status")
        message = self._redact(str(envelope.get("UserErrorMessage") or ""))
        if status in (0, "0", "Success"):  # 1.3: accept either form
            return envelope.get("Data")
        if status in (1, "1", "BusinessError"):
            if any(h in message.lower() for h in _CREDENTIAL_HINTS):
                raise AuthError(
                    f"OfficeGuy refused the credentials of connection {self.officeguy_conn_id!r}: {message}. Check "
                    "the Company ID and API key (app.sumit.co.il/developers/keys/); repeated failures get the "
                    "IP blocked, so fix them before retrying.", system=SYSTEM, code="1")
            raise BusinessError(f"OfficeGuy refused {what}: {message}", system=SYSTEM, code="1")
        # Status 2 (technical error) or anything unknown: retry reads; a write may have half-happened.
        text = f"OfficeGuy technical error on {what}: {message or envelope.get('TechnicalErrorDetails') or status}"
        if not idempotent:
            raise AmbiguousWriteError(text, system=SYSTEM, code=str(status))
        raise TransientError(text, system=SYSTEM, code=str(status))

    def _paged(self, path: str, body: dict, key: str, what: str) -> list[dict]:
        out: list[dict] = []
        start = 0
        while True:
            data = self.call(path, {**body, "Paging": {"StartIndex": start, "PageSize": PAGE_SIZE}},
                             what=f"{what} from {start}") or {}
            page = data.get(key) or [] if isinstance(data, dict) else None
            if not isinstance(page, list):
                raise BusinessError(
                    f"OfficeGuy answered the {what} of connection {self.officeguy_conn_id!r} in a shape it does not "
                    f"document (expected Data.{key} as a list): nothing was written. If it repeats, send SUMIT "
                    "support the request time.", system=SYSTEM)
            out.extend(page)
            if not data.get("HasNextPage") or not page:
                return out
            start += len(page)

    # ----------------------------------------------------------------- typed calls
    def list_stock(self, item_ids: list[int] | None = None) -> list[OgStockItem]:
        """Every item's stock in one answer. Never ``ExcludeZeroStock``: a sold-out item must reach 0."""
        body = {"ItemIDs": item_ids} if item_ids else {}
        data = self.call("/stock/stock/list/", body, what="stock list")
        if data is None:
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("Stock") or [], list):
            shape = type(data).__name__ if not isinstance(data, dict) else f"Stock as {type(data['Stock']).__name__}"
            raise BusinessError(
                f"OfficeGuy answered the stock list of connection {self.officeguy_conn_id!r} in a shape it does not "
                f"document ({shape}; expected Data.Stock as a list): nothing was written. If it repeats, send "
                "SUMIT support the request time.", system=SYSTEM)
        items, self.rejected_stock_rows = [], []
        rows = data.get("Stock") or []
        ids = [_whole(row.get("ID")) if isinstance(row, dict) else None for row in rows]
        listed = Counter(ids)  # once: a count per row would be quadratic (100,000 items: bench/RESULTS.md)
        for n, (row, item_id) in enumerate(zip(rows, ids, strict=True), start=1):
            if not isinstance(row, dict):
                self.rejected_stock_rows.append({"og_item_id": None, "name": "", "raw": repr(row)[:200],
                                                 "reason": f"stock row {n} is not an object"})
                continue
            name = str(row.get("Name") or "")
            if item_id is None:
                self.rejected_stock_rows.append({"og_item_id": None, "name": name, "raw": repr(row.get("ID"))[:100],
                                                 "reason": f"stock row {n} ('{name}') has no usable ID "
                                                           f"({row.get('ID')!r}); fix the item in OfficeGuy"})
                continue
            if listed[item_id] > 1:
                self.rejected_stock_rows.append({"og_item_id": item_id, "name": name, "raw": repr(row.get("Stock")),
                                                 "reason": f"OfficeGuy listed item {item_id} {listed[item_id]} times "
                                                           "with its stock; none of them is trusted"})
                continue
            items.append(OgStockItem(id=item_id, name=name,
                                     external_identifier=str(row.get("ExternalIdentifier") or "").strip(),
                                     stock=_stock(row.get("Stock"))))
        return items

    def list_income_items(self) -> list[OgIncomeItem]:
        rows = self._paged("/accounting/incomeitems/list/", {}, "IncomeItems", "income items list")
        items, self.rejected_item_rows = [], []
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                self.rejected_item_rows.append({
                    "og_item_id": None, "name": "", "raw": repr(row)[:200], "list": "income items",
                    "reason": f"row {n} of OfficeGuy's income items list (Data.IncomeItems) is not an object "
                              f"({repr(row)[:60]}); left out, so no SKU can be joined from it"})
                continue
            item_id = _whole(row.get("ID"))
            if item_id is None:
                name = str(row.get("Name") or "")
                self.rejected_item_rows.append({
                    "og_item_id": None, "name": name, "raw": repr(row.get("ID"))[:100], "list": "income items",
                    "reason": f"item card row {n} ('{name}') of OfficeGuy's income items list (IncomeItems) has no "
                              f"usable ID ({row.get('ID')!r}); its SKU cannot be joined: fix the card in OfficeGuy"})
                continue
            items.append(OgIncomeItem(
                id=item_id, name=str(row.get("Name") or ""), sku=str(row.get("SKU") or "").strip(),
                external_identifier=str(row.get("ExternalIdentifier") or "").strip(), price=_number(row.get("Price"))))
        return items

    def create_income_item(self, *, name: str, sku: str = "", external_identifier: str = "",
                           price: float | None = None, currency: str = "ILS") -> int:
        """A new item card. Not idempotent: an unclear failure raises AmbiguousWriteError."""
        item = {"Name": name, "SKU": sku, "ExternalIdentifier": external_identifier, "Currency": currency}
        if price is not None:
            item["Price"] = price
        data = self.call("/accounting/incomeitems/create/", {"IncomeItem": item}, idempotent=False,
                         what=f"create item card {name!r} (SKU {sku or '-'})")
        return int(data["EntityID"])

    def create_document(self, payload: dict, *, what: str = "create document") -> CreatedDocument:
        """``documents/create`` once. Not idempotent (no server-side key): never resent here."""
        data = self.call("/accounting/documents/create/", payload, idempotent=False, what=what)
        return CreatedDocument(
            document_id=int(data["DocumentID"]), document_number=_int(data.get("DocumentNumber")),
            customer_id=_int(data.get("CustomerID")), download_url=str(data.get("DocumentDownloadURL") or ""),
        )

    def list_documents(self, date_from: date, date_to: date, *, types: list[int] | None = None,
                       include_drafts: bool = True) -> list[OgDocument]:
        """Documents dated in [date_from, date_to], every page, sorted by id (the API's order is neither)."""
        body: dict[str, Any] = {"DateFrom": date_from.isoformat(), "DateTo": date_to.isoformat(),
                                "IncludeDrafts": include_drafts}
        if types:
            body["DocumentTypes"] = types
        rows = self._paged("/accounting/documents/list/", body, "Documents", "documents list")
        docs = [OgDocument(
            document_id=int(r["DocumentID"]), document_number=_int(r.get("DocumentNumber")), type=_int(r.get("Type")),
            date=str(r.get("Date") or ""), external_reference=str(r.get("ExternalReference") or ""),
            description=str(r.get("Description") or ""), is_draft=bool(r.get("IsDraft")),
            value=_number(r.get("DocumentValue")),
        ) for r in rows]
        return sorted(docs, key=lambda d: d.document_id)

    def get_document(self, document_id: int) -> dict:
        return self.call("/accounting/documents/getdetails/", {"DocumentID": document_id},
                         what=f"document {document_id} details")

    def get_company(self) -> dict:
        data = self.call("/website/companies/getdetails/", {}, what="company details") or {}
        return data.get("Company") or data

    # ----------------------------------------------------------------- UI
    def _probe(self) -> str:
        company = self.get_company()
        return f"Connected to OfficeGuy company {company.get('Name') or company.get('ID') or ''}".strip()


def _whole(value: Any) -> int | None:
    """An id: an int, or a string of digits; anything else (None, "A-17", True, 1.5) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _stock(value: Any) -> Any:
    """A stock figure as a float; anything that is not a real number (true, "5", {}) is kept as it came,
    so the plan skips the item and the report shows the raw value (never `true` written as 1)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a number of items


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
