"""Every answer of a sandbox carries a ``Date`` header from the sandbox's own clock, as a real web server's
answers carry its clock (RFC 9110 6.6.1). uvicorn's own header is off (server.py): it would give the machine's
time, while a test may run a sandbox on a clock of its own, and the project starts its next incremental
product read from the store's ``Date`` (plugins/woocommerce/snapshot.py)."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from typing import Any


class DateHeaderMiddleware:
    """ASGI middleware: ``Date`` = ``clock()`` (epoch seconds, read at each answer) on every HTTP answer,
    the faults' answers included when it is added last (outermost)."""

    def __init__(self, app: Any, clock: Callable[[], float]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", formatdate(self.clock(), usegmt=True).encode())]}
            await send(message)

        await self.app(scope, receive, send_dated)
