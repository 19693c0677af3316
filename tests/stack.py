"""A real Airflow on loopback, for tests and benches: ``AirflowStack``.

api-server, scheduler, dag-processor (and, on request, a triggerer) as separate processes bound to
127.0.0.1, on a fresh PostgreSQL database (127.0.0.1:5432, trust auth) that is dropped afterwards,
with the LocalExecutor or the CeleryExecutor (``workers`` ``airflow celery worker`` processes, Redis on
127.0.0.1:6379 as the broker, the same database as Celery's result backend). The project is the
installed provider; ``PYTHONPATH`` holds the repository (the sandboxes). The ledger is migrated into
the same database and ``AIRFLOW_CONN_STOCK_SYNC_DB`` points at it (several workers share it);
``ledger_in_db=False`` leaves the default SQLite ledger under ``STOCK_SYNC_HOME`` instead. Sign-in is a
real simple-auth-manager user (``USER``/``PASSWORD``); ``all_admins=True`` makes every caller an admin,
as the existing tests do.

    with AirflowStack(tmp_path, executor="celery", env={...}, dag_ids=[STOCK]) as stack:
        stack.cli("dags", "unpause", STOCK)
        run_id = stack.trigger(STOCK, {"dry_run": True})     # REST, with a token from POST /auth/token
        state = stack.wait_run(STOCK, run_id, timeout=600)

Every process runs in its own session and is stopped (SIGTERM, then SIGKILL) on ``stop()``, also
when start-up fails. Nothing here imports airflow: the processes read their configuration from the
environment this class builds.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
REDIS = "127.0.0.1:6379"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
USER, PASSWORD = "stack-admin", "stack-admin-password-for-this-run"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection_env(conn_type: str, host: str, login: str, password: str, **extra: Any) -> str:
    """An Airflow connection as the JSON an ``AIRFLOW_CONN_*`` variable holds (as tests/conftest.py)."""
    return json.dumps({"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra})


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(f"redis://{REDIS}/0", socket_timeout=2).ping())
    except redis.RedisError:
        return False


class AirflowStack:
    """Start with ``start()`` (or ``with``); ``api`` is the api-server's URL, ``engine`` the metadata DB."""

    def __init__(self, workdir: Path, *, executor: str = "local", env: dict[str, str] | None = None,
                 dag_ids: tuple[str, ...] | list[str] = (), workers: int = 2, worker_concurrency: int = 2,
                 parallelism: int | None = None, triggerer: bool | None = None, pools: dict[str, int] | None = None,
                 all_admins: bool = False, ledger_in_db: bool = True, db_prefix: str = "stack") -> None:
        if executor not in ("local", "celery"):
            raise ValueError(f"executor {executor!r}: use local or celery")
        self.workdir = Path(workdir)
        self.executor = executor
        self.extra_env = dict(env or {})
        self.dag_ids = tuple(dag_ids)
        self.workers = workers if executor == "celery" else 0
        self.worker_concurrency = worker_concurrency
        self.parallelism = parallelism or (4 if executor == "local" else 8)
        self.triggerer = executor == "celery" if triggerer is None else triggerer
        self.pools = {"stock_sync_writes": 1} if pools is None else pools
        self.all_admins = all_admins
        self.ledger_in_db = ledger_in_db
        self.db_name = f"{db_prefix}_{uuid.uuid4().hex[:10]}"
        self.db_url = f"postgresql://postgres@127.0.0.1:5432/{self.db_name}"
        self.logs = self.workdir / "logs"
        self.home = self.workdir / "airflow"
        self.port = 0
        self.env: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self._outs: list[Any] = []
        self.engine: sa.Engine | None = None
        self._token: str | None = None
        self._db_created = False

    # ------------------------------------------------------------------ life cycle
    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, ready_timeout: float = 240) -> AirflowStack:
        try:
            self._start(ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, ready_timeout: float) -> None:
        if self.executor == "celery" and not redis_up():
            raise RuntimeError(f"Redis is not running on {REDIS} (the CeleryExecutor's broker)")
        self.logs.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self._db_created = True
        if self.ledger_in_db:
            from officeguy_woocommerce.include.ledger import Ledger

            Ledger(self.db_url, migrate=True).engine.dispose()  # the deploy step (compose's airflow-init)
        self.port = free_port()
        self.env = self._environment()
        self.cli("db", "migrate")
        for pool, slots in self.pools.items():
            self.cli("pools", "set", pool, str(slots), f"{pool} (AirflowStack)")
        components = [("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(self.port)]),
                      ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"])]
        if self.triggerer:
            components.append(("triggerer", ["triggerer"]))
        components += [(f"worker-{n}", ["celery", "worker", "--celery-hostname", f"worker{n}@%h",
                                         "--concurrency", str(self.worker_concurrency)])
                       for n in range(1, self.workers + 1)]
        for name, args in components:
            out = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
            self._outs.append(out)
            penv = {**self.env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
            self.procs[name] = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=penv, stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        self.engine = sa.create_engine(self.db_url)
        if self.dag_ids:
            marks = ", ".join(f":d{i}" for i in range(len(self.dag_ids)))
            params = {f"d{i}": d for i, d in enumerate(self.dag_ids)}
            self.wait(lambda: self.scalar(f"SELECT count(*) FROM dag WHERE dag_id IN ({marks})", **params)
                      == len(self.dag_ids), ready_timeout, "the dag-processor never parsed the DAGs")
        self.wait(self._api_up, ready_timeout, "the api-server never answered")

    def _environment(self) -> dict[str, str]:
        metadata = self.db_url.replace("postgresql://", "postgresql+psycopg2://")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor" if self.executor == "local" else "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.home / "plugins"),  # none: the project is an installed provider
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": f"stack-jwt-secret-{uuid.uuid4().hex}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "PYTHONPATH": str(ROOT),  # the sandboxes; the project itself is installed
            "AIRFLOW_CONN_STOCK_SYNC_DB": self.db_url,
        }
        if not self.ledger_in_db:  # the default SQLite ledger under STOCK_SYNC_HOME
            env.pop("AIRFLOW_CONN_STOCK_SYNC_DB")
        if self.all_admins:
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
        else:  # a real user with a password, as an operator signs in (the simple auth manager)
            passwords = self.home / "simple_auth_manager_passwords.json"
            passwords.write_text(json.dumps({USER: PASSWORD}))
            env.update({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)})
        if self.executor == "celery":
            env.update({
                "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS}/{random.randint(1, 15)}",  # noqa: S311
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.db_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            })
        env.update(self.extra_env)
        return env

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):  # what the component left in its session (task processes)
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()
        for out in self._outs:
            out.close()
        self._outs.clear()
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self._db_created:
            admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
            admin.dispose()
            self._db_created = False

    # ------------------------------------------------------------------ using it
    def cli(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())

    def wait(self, predicate: Callable[[], bool], seconds: float, message: str, every: float = 1.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (sa.exc.SQLAlchemyError, requests.RequestException):
                pass
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{message}: {', '.join(dead)} exited\n{self.log_tails()}")
            time.sleep(every)
        raise RuntimeError(f"{message}\n{self.log_tails()}")

    def log_tails(self, chars: int = 2500) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(self.logs.glob("*.log")))

    def _api_up(self) -> bool:
        return requests.get(f"{self.api}/api/v2/monitor/health", timeout=5).status_code == 200

    def token(self) -> str:
        """``POST /auth/token`` with the user's name and password (what the UI's sign-in does)."""
        if self._token is None:
            answer = requests.post(f"{self.api}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30)
            if answer.status_code not in (200, 201):
                raise RuntimeError(f"POST /auth/token: {answer.status_code} {answer.text[:500]}")
            self._token = answer.json()["access_token"]
        return self._token

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """What the UI's Trigger button does: ``POST /api/v2/dags/{dag_id}/dagRuns``; the run's id."""
        answer = requests.post(f"{self.api}/api/v2/dags/{dag_id}/dagRuns", timeout=60,
                               json={"logical_date": None, "conf": conf or {}},
                               headers={"Authorization": f"Bearer {self.token()}"})
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"trigger {dag_id}: {answer.status_code} {answer.text[:500]}")
        return answer.json()["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        return self.scalar("SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=dag_id, r=run_id)

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600, every: float = 1.0) -> str:
        """Wait until the run is success or failed; its state."""
        self.wait(lambda: self.run_state(dag_id, run_id) in ("success", "failed"), timeout,
                  f"run {run_id} of {dag_id} did not finish in {timeout:.0f} s", every=every)
        return self.run_state(dag_id, run_id)
