"""docker-compose.yml and Dockerfile, read as data (no Docker engine on the test machines)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import temoin.cli.app

ROOT = Path(__file__).resolve().parents[2]
TEMOIN_SERVICES = ("migrate", "worker", "bot", "web")
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _is_reference(value: str) -> bool:
    return value.startswith(("file:", "env:", "/run/secrets/"))


def inline_secrets(node: Any, path: str = "") -> list[str]:
    """Paths of secret-looking keys whose value is not a reference; URLs with a password."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                text = str(value)
                if any(w in str(key).upper() for w in SECRET_WORDS) and not _is_reference(text):
                    found.append(where)
            found += inline_secrets(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, str) and "=" in item:  # environment in list form
                key, _, value = item.partition("=")
                found += inline_secrets({key: value}, f"{path}[{i}]")
            else:
                found += inline_secrets(item, f"{path}[{i}]")
    elif isinstance(node, str) and re.search(r"://[^/@\s:]+:[^/@\s]+@", node):
        found.append(f"{path} (password in a URL)")
    return found


def test_services_exist(compose: dict[str, Any]) -> None:
    assert {"postgres", *TEMOIN_SERVICES} <= set(compose["services"])


def test_postgres_is_healthchecked_with_a_named_volume_and_a_secret(
    compose: dict[str, Any],
) -> None:
    pg = compose["services"]["postgres"]
    assert pg["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    named = {v.split(":", 1)[0] for v in pg["volumes"]}
    assert named & set(compose["volumes"]), "data must live on a named volume"
    password_file = environment(pg)["POSTGRES_PASSWORD_FILE"]
    assert password_file == "/run/secrets/postgres_password"
    assert "POSTGRES_PASSWORD" not in environment(pg)


def test_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "bot", "web"):
        dep = services[name]["depends_on"]["migrate"]
        assert dep["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["worker"]["command"] == ["worker"]
    assert services["bot"]["command"] == ["bot"]
    assert services["migrate"].get("restart") in ("no", None), "a one-shot job"


def test_migrate_command_is_a_real_cli_command(compose: dict[str, Any]) -> None:
    args = compose["services"]["migrate"]["command"]
    result = CliRunner().invoke(temoin.cli.app.app, [*args, "--help"])
    assert result.exit_code == 0, result.output


def test_web_service(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    args = web["command"]
    assert args[0] == "web" and "--workers" in args
    result = CliRunner().invoke(temoin.cli.app.app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    env = environment(web)
    assert env["TEMOIN_WEB__SECRET_KEY"] == "file:/run/secrets/web_secret_key"
    assert env["TEMOIN_WEB__PUBLIC_URL"].startswith("https://")
    # reachable from the host's loopback only: the TLS reverse proxy is the way in
    assert all(str(p).startswith("127.0.0.1:") for p in web["ports"])
    assert "/sante" in " ".join(web["healthcheck"]["test"])


def test_temoin_services_use_postgres_and_secret_references(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    for name in TEMOIN_SERVICES:
        service = compose["services"][name]
        env = environment(service)
        assert env["TEMOIN_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:" in env["TEMOIN_DATABASE_URL"]
        mounted = set(service.get("secrets", []))
        for key, value in env.items():
            found = re.search(r"/run/secrets/([\w.-]+)", value)
            if found:
                secret = found.group(1)
                assert secret in mounted, f"{name}: {key} needs secret {secret} mounted"
                assert "file" in declared[secret], f"secret {secret} must come from a file"
    assert environment(compose["services"]["bot"])["TEMOIN_BOT_TOKEN"] == (
        "file:/run/secrets/bot_token"
    )


def test_no_secret_inline(compose: dict[str, Any]) -> None:
    assert inline_secrets(compose) == []


def test_inline_secret_checker_finds_them() -> None:
    bad = {
        "services": {
            "postgres": {"environment": {"POSTGRES_PASSWORD": "hunter2"}},
            "bot": {"environment": ["TEMOIN_BOT_TOKEN=123:abc", "TEMOIN_LOCALE=fr"]},
            "worker": {"environment": {"TEMOIN_DATABASE_URL": "postgresql://u:pw@db/x"}},
        }
    }
    assert inline_secrets(bad) == [
        "services.postgres.environment.POSTGRES_PASSWORD",
        "services.bot.environment[0].TEMOIN_BOT_TOKEN",
        "services.worker.environment.TEMOIN_DATABASE_URL (password in a URL)",
    ]


def _final_stage(dockerfile: str) -> list[str]:
    lines = [line.strip() for line in dockerfile.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    return [line for line in lines[starts[-1] :] if line and not line.startswith("#")]


def test_dockerfile_runs_the_console_script_as_non_root() -> None:
    stage = _final_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert stage[0].split()[1] == "python:3.11-slim-bookworm"  # the release is named
    entrypoint = [line for line in stage if line.upper().startswith("ENTRYPOINT ")]
    assert len(entrypoint) == 1
    command = json.loads(entrypoint[0].split(None, 1)[1])  # exec form, so signals reach it
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] in scripts
    users = [line.split()[1] for line in stage if line.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def test_dockerignore_keeps_secrets_and_the_venv_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"secrets", ".venv", ".git", "temoin.toml"} <= ignored
