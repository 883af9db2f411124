"""The Dockerfile and compose.yaml name commands the CLI accepts, on ports their health checks ask.

scripts/container-smoke.sh builds and runs them for real (in CI); these checks keep them in
step with the CLI where no container engine runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from smolsql.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def compose_services() -> dict:
    """compose.yaml with every ${VAR:-default} replaced by its default, as compose would."""
    text = DEFAULT.sub(lambda m: m.group(2), (ROOT / "compose.yaml").read_text())
    assert "${" not in text, "compose.yaml uses a variable without a default"
    return yaml.safe_load(text)["services"]


def dockerfile_json(instruction: str) -> list[str]:
    """The exec-form argument list of the Dockerfile's last `instruction` line."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    found = [line for line in lines if line.startswith(instruction + " ")]
    assert found, f"the Dockerfile has no {instruction}"
    return json.loads(found[-1][found[-1].index("[") :])


def port_of(command: list[str]) -> str:
    return command[command.index("--port") + 1]


@pytest.mark.parametrize("service", ["api", "app"])
def test_compose_commands_parse_and_health_checks_ask_their_port(service: str) -> None:
    spec = compose_services()[service]
    command = spec["command"]
    assert command[0] == "smolsql"
    args = build_parser().parse_args(command[1:])
    assert args.command == command[1]
    port = port_of(command)
    assert spec["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/" in spec["environment"]["SMOLSQL_HEALTH_URL"]


def test_dockerfile_default_command_is_the_api_its_health_check_asks() -> None:
    command = dockerfile_json("CMD")
    args = build_parser().parse_args(command[1:])
    assert (command[0], args.command) == ("smolsql", "serve")
    dockerfile = (ROOT / "Dockerfile").read_text()
    health_url = re.search(r"^\s*SMOLSQL_HEALTH_URL=(\S+)", dockerfile, flags=re.M)  # the ENV
    assert health_url is not None
    assert health_url.group(1) == f"http://127.0.0.1:{port_of(command)}/healthz"
    assert "SMOLSQL_HEALTH_URL" in " ".join(dockerfile_json("HEALTHCHECK"))


def test_the_image_does_not_run_as_root() -> None:
    users = re.findall(r"^USER (\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert users and users[-1] not in ("root", "0")
