"""Fault injection and request accounting shared by both sandboxes.

A fault is armed over HTTP (``POST /__sandbox/faults``) and fires on the next requests that match
it.  Kinds, and whether the request's change is committed before the fault shows:

=================  ===========  =====================================================
kind               committed?   what the client sees
=================  ===========  =====================================================
``latency``        yes          the normal answer, ``seconds`` late
``status``         no           ``status`` with ``body`` (JSON, text or empty) and
                                ``headers`` (e.g. ``Retry-After``); nothing was done
``timeout``        yes          nothing for ``seconds`` (longer than the client's
                                timeout), then the normal answer
``drop``           yes          status line and headers, then the connection closes
                                before the body: an ambiguous failure
``error_after``    yes          HTTP ``status`` (default 500) although the change
                                was committed
=================  ===========  =====================================================

Matching: ``method`` (optional) and ``path`` (a regular expression searched in the URL path,
optional). ``after`` lets that many matching requests through first; ``times`` is how many
requests the fault hits (default 1; 0 means until cleared).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

KINDS = {"latency", "status", "timeout", "drop", "error_after"}


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    after: int = 0
    times: int = 1
    seconds: float = 0.0
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {sorted(KINDS)}")
        self._path_re = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self._path_re and not self._path_re.search(path))

    def public(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "method": self.method, "path": self.path, "after": self.after,
            "times": self.times, "seconds": self.seconds, "status": self.status,
            "seen": self.seen, "fired": self.fired,
        }


class FaultBook:
    """The armed faults and the request counters of one sandbox process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()

    def arm(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(**{k: v for k, v in spec.items() if k not in {"seen", "fired"}})
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault that hits this request, if any (and count it)."""
        with self._lock:
            for fault in self.faults:
                if fault.times and fault.fired >= fault.times:
                    continue
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.fired += 1
                return fault
        return None

    def count(self, key: str) -> None:
        with self._lock:
            self.calls[key] += 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def reset_stats(self) -> None:
        with self._lock:
            self.calls.clear()


def _encode_body(body: Any) -> tuple[bytes, bytes]:
    if body is None or body == "":
        return b"", b"text/plain"
    if isinstance(body, str):
        return body.encode(), b"text/plain; charset=UTF-8"
    return json.dumps(body).encode(), b"application/json; charset=UTF-8"


class FaultMiddleware:
    """Pure ASGI middleware: counts requests and fires armed faults.

    ``classify(method, path)`` names the kind of call for the counters (e.g. ``GET products``);
    paths under ``/__sandbox`` are never counted nor faulted.
    """

    def __init__(self, app, book: FaultBook, classify) -> None:
        self.app = app
        self.book = book
        self.classify = classify

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/__sandbox"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.book.count(self.classify(method, path))
        fault = self.book.take(method, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "status":
            body, ctype = _encode_body(fault.body)
            headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), str(v).encode()) for k, v in fault.headers.items()]
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
            return
        # The remaining kinds let the request do its work (commit) and then misbehave.
        messages: list[dict] = []

        async def capture(message):
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        if fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "drop":
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(max(len(body), 1)).encode()))
            await send({"type": "http.response.start", "status": start["status"], "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            return  # uvicorn closes the connection: the body never arrives
        elif fault.kind == "error_after":
            err, ctype = _encode_body(fault.body)
            headers = [(b"content-type", ctype), (b"content-length", str(len(err)).encode())]
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": err})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})

