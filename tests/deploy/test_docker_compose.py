"""docker-compose.yaml is valid Compose and runs commands the installed Airflow has.

No Docker engine runs on these machines, so the file is held against the Compose Specification's
JSON Schema (vendored in shared/vendor) and its commands against Airflow's own CLI parser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(os.environ.get("STOCK_SYNC_SHARED", "/work/shared")) / "vendor" / "compose-spec.json"  # as the recordings


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_the_file_is_valid_compose(compose):
    if not SCHEMA.exists():
        pytest.fail(f"the vendored Compose schema is missing at {SCHEMA}")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_airflow_services_use_commands_of_the_installed_airflow(compose):
    from airflow.cli.cli_parser import get_parser

    parser = get_parser()
    subcommands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    airflow_services = {name: svc for name, svc in compose["services"].items() if name.startswith("airflow-")}
    commands = {name: svc["command"] for name, svc in airflow_services.items() if isinstance(svc.get("command"), str)}
    assert set(commands.values()) == {"api-server", "scheduler", "dag-processor", "triggerer", "celery worker"}
    for command in commands.values():
        if command.startswith("celery"):
            continue  # the executor's own commands: checked below with the CeleryExecutor configured
        assert command in subcommands, command
    for command in ("celery worker", compose["services"]["flower"]["command"]):
        done = subprocess.run([sys.executable, "-m", "airflow", *command.split(), "--help"], capture_output=True,
                              text=True, timeout=180, env={**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"})
        assert done.returncode == 0, done.stderr[-2000:]
    init = "\n".join(compose["services"]["airflow-init"]["command"])
    for line in init.splitlines():
        words = line.split()
        if words[:1] == ["airflow"]:
            parser.parse_args(_shell_words(line)[1:])  # raises SystemExit on an unknown command or flag


def test_every_airflow_service_runs_the_project_image_on_postgres_local_executor_by_default(compose):
    for name, svc in compose["services"].items():
        if not name.startswith("airflow-"):
            continue
        env = svc["environment"]
        # LocalExecutor unless the operator chooses Celery (AIRFLOW_EXECUTOR=CeleryExecutor, profile celery)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert svc["build"] == "." and svc["image"].startswith("stock-sync-airflow")
        assert "./dags:/opt/airflow/dags" in svc["volumes"]
        # the project is installed in the image: its folders are not mounted where Airflow would scan them
        assert not [v for v in svc["volumes"] if v.startswith(("./plugins", "./include"))]
        assert "deploy/connections.env" in svc["env_file"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in dockerfile and "pip install" in dockerfile


def test_connections_come_from_an_env_file_with_placeholders_only():
    env = (ROOT / "deploy" / "connections.env").read_text()
    conns = dict(line.split("=", 1) for line in env.splitlines() if line.startswith("AIRFLOW_CONN_"))
    assert {"AIRFLOW_CONN_OFFICEGUY_DEFAULT", "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"} <= set(conns)
    for key in ("AIRFLOW_CONN_OFFICEGUY_DEFAULT", "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"):
        conn = json.loads(conns[key])
        assert conn["password"].startswith("<") and conn["login"].startswith("<")


def test_the_sandboxes_are_an_optional_profile(compose):
    for name in ("woocommerce-sandbox", "officeguy-sandbox"):
        svc = compose["services"][name]
        assert svc["profiles"] == ["sandbox"]
        assert svc["entrypoint"] == ["python", "-m", "sandbox"]
        from sandbox.__main__ import main

        with pytest.raises(SystemExit) as done:
            main([*svc["command"], "--help"])
        assert done.value.code == 0


def _shell_words(line: str) -> list[str]:
    import shlex

    return shlex.split(line)


def test_celery_is_an_optional_profile_with_redis_and_two_workers(compose):
    services = compose["services"]
    assert services["redis"]["profiles"] == ["celery"] and "healthcheck" in services["redis"]
    worker = services["airflow-worker"]
    assert worker["profiles"] == ["celery"] and worker["command"] == "celery worker"
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["flower"]["profiles"] == ["flower"] and services["flower"]["command"] == "celery flower"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert "profiles" not in services[name], name  # the default (LocalExecutor) layout starts without Redis
