"""Run a sandbox app: in this process (a thread) or as a child process, on loopback.

Both sandboxes are FastAPI apps built by a ``create_app(db_url, dataset, **options)`` factory;
``python -m sandbox <woocommerce|officeguy> --port N --dataset NAME`` starts one from the shell.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvicorn

from sandbox.common.tls import SelfSignedCert

READY_RE = re.compile(r"SANDBOX READY (\S+)")


class ThreadServer:
    """A uvicorn server on 127.0.0.1 in a daemon thread. ``port=0`` picks a free port."""

    def __init__(self, app, port: int = 0, tls: SelfSignedCert | None = None, host: str = "127.0.0.1") -> None:
        kwargs = {}
        if tls is not None:
            kwargs = {"ssl_certfile": str(tls.cert_path), "ssl_keyfile": str(tls.key_path)}
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False,
            lifespan="off", timeout_graceful_shutdown=1,
            date_header=False,  # the apps send their own Date, from their clock (sandbox/common/dates.py)
            **kwargs,
        )
        self.server = uvicorn.Server(config)
        self.scheme = "https" if tls else "http"
        self.host = host
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.02)
        # the WooCommerce sandbox signs OAuth base strings with its home URL, known only now
        config = getattr(getattr(self.server.config.app, "state", None), "config", None)
        if isinstance(config, dict) and "home_url" in config and not config["home_url"]:
            config["home_url"] = self.url
        return self

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in {"0.0.0.0", "127.0.0.1"} else self.host  # noqa: S104
        return f"{self.scheme}://{host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ThreadServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ProcessServer:
    """``python -m sandbox ...`` as a child process; ready when it prints its URL."""

    def __init__(self, which: str, *args: str, log_path: Path | None = None) -> None:
        self.cmd = [sys.executable, "-m", "sandbox", which, "--port", "0", *args]
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> ProcessServer:
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=root,
        )
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            match = READY_RE.search(line)
            if match:
                self.url = match.group(1)
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError(f"sandbox {' '.join(self.cmd)} did not start:\n{''.join(seen)[-3000:]}")

    def _drain(self) -> None:
        sink = open(self.log_path, "a", encoding="utf-8") if self.log_path else None  # noqa: SIM115
        try:
            for line in self.proc.stdout:
                if sink:
                    sink.write(line)
                    sink.flush()
        finally:
            if sink:
                sink.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ProcessServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(app, port: int, tls: SelfSignedCert | None, host: str = "127.0.0.1") -> None:
    """The CLI's loop: print ``SANDBOX READY <url>`` once listening, stop on SIGTERM/SIGINT."""
    server = ThreadServer(app, port=port, tls=tls, host=host).start()
    print(f"SANDBOX READY {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        if not server._thread.is_alive():
            break
    server.stop()
