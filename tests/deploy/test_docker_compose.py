"""docker-compose.yaml is valid Compose and runs commands the installed Airflow has.

No Docker engine runs on these machines, so the file is held against the Compose Specification's
JSON Schema (vendored in shared/vendor) and its commands against Airflow's own CLI parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "vendor" / "compose-spec.json"


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
    assert set(commands.values()) == {"api-server", "scheduler", "dag-processor", "triggerer"}
    for command in commands.values():
        assert command in subcommands, command
    init = "\n".join(compose["services"]["airflow-init"]["command"])
    for line in init.splitlines():
        words = line.split()
        if words[:1] == ["airflow"]:
            parser.parse_args(_shell_words(line)[1:])  # raises SystemExit on an unknown command or flag


def test_every_airflow_service_runs_the_project_image_on_postgres_with_the_local_executor(compose):
    for name, svc in compose["services"].items():
        if not name.startswith("airflow-"):
            continue
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
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
