"""Dockerfile, compose.yaml and .env.example, checked as files (no Docker daemon here): the
services and images, healthchecks and start order, a non-root image built with the
constraints, and every setting documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from engine.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# Read by compose.yaml, not by FaultMaven.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if i.strip()]


def instructions(dockerfile: list[str], keyword: str) -> list[str]:
    return [i[len(keyword) :].strip() for i in dockerfile if i.upper().startswith(keyword + " ")]


def settings_env_names() -> set[str]:
    """The environment variable each setting is read from."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.add(str(alias.choices[0]))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(name.upper())
    return names


def documented() -> set[str]:
    """Variables .env.example sets, or shows commented out with their default."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_compose_runs_bot_worker_postgres_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "worker", "db", "redis"}
    assert services["db"]["image"] == "pgvector/pgvector:pg17"
    assert services["redis"]["image"].split(":")[0] == "redis"
    assert services["redis"]["image"].split(":")[1].startswith("7")
    for role in ("bot", "worker"):
        service = services[role]
        assert service["build"] == "."
        assert service["command"] == ["faultmaven", "run", "--role", role]
        assert service["env_file"] == ".env"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        # One evidence key for all replicas: none may make its own in its container.
        assert service["environment"]["FAULTMAVEN_EVIDENCE_KEY"].startswith(
            "${FAULTMAVEN_EVIDENCE_KEY:?"
        )
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        # Scalable: no fixed host port or container name that a second replica would clash on.
        assert "ports" not in service and "container_name" not in service


def test_compose_services_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # bot and worker use the image's HEALTHCHECK (/healthz) unless they override it.
    for role in ("bot", "worker"):
        check = compose["services"][role].get("healthcheck")
        assert check is None or "/healthz" in str(check["test"])


def test_dockerfile_is_slim_non_root_with_constraints_and_a_healthcheck(
    dockerfile: list[str],
) -> None:
    [base] = instructions(dockerfile, "FROM")
    assert re.fullmatch(r"python:3\.12(\.\d+)?-slim(-\w+)?", base)
    users = instructions(dockerfile, "USER")
    assert users and users[-1] not in ("root", "0")
    installs = [r for r in instructions(dockerfile, "RUN") if "pip install" in r]
    assert installs and all("-c constraints.txt" in r for r in installs)
    assert any(re.search(r"pip install -c constraints.txt \.(\s|$)", r) for r in installs)
    [healthcheck] = instructions(dockerfile, "HEALTHCHECK")
    assert "/healthz" in healthcheck and "urllib" in healthcheck
    assert instructions(dockerfile, "CMD") == ['["faultmaven", "run"]']
    # The data dir belongs to the user the process runs as.
    assert any("chown" in r and "/data" in r for r in instructions(dockerfile, "RUN"))
    assert any("FAULTMAVEN_DATA_DIR=/data" in e for e in instructions(dockerfile, "ENV"))


def test_the_image_leaves_out_the_env_file() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored


def test_every_setting_is_documented_in_env_example() -> None:
    missing = settings_env_names() - documented()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_documents_only_real_settings() -> None:
    unknown = documented() - settings_env_names() - COMPOSE_ONLY
    assert not unknown, f"not read by Settings: {sorted(unknown)}"


def test_env_example_loads_as_settings(tmp_path: Path) -> None:
    """A copied .env.example is a valid configuration (empty values mean "default")."""
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.http_port == 8080 and settings.log_format == "text"
    assert settings.database_url is None and settings.llm_model is None
    assert settings.missing_slack_settings() == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]
