"""compose.yaml runs the image against PostgreSQL, two replicas behind one port, the way the README
says. Read as compose reads it; no compose here to start it (.ci/image starts the image itself)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.store.db import async_url

ROOT = Path(__file__).parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
HAPROXY = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _interpolated(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:?message}` and `${NAME:-default}`, enough to read our own file."""

    def value(match: re.Match[str]) -> str:
        name, _, rest = match.group(1).partition(":")
        if name in env:
            return env[name]
        assert rest.startswith("-"), f"${{{name}}} must come from .env"
        return rest[1:]

    return re.sub(r"\$\{([^}]+)\}", value, text)


def test_the_bot_waits_for_a_healthy_postgresql_and_uses_it_as_its_store() -> None:
    services = COMPOSE["services"]
    postgres, bot = services["postgres"], services["deploybot"]
    assert bot["build"] == "."
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    url = _interpolated(bot["environment"]["DEPLOYBOT_DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"})
    pg = postgres["environment"]
    assert url == f"postgresql://{pg['POSTGRES_USER']}:pw@postgres:5432/{pg['POSTGRES_DB']}"
    assert async_url(url).startswith("postgresql+psycopg://")


def test_no_password_is_written_in_the_file() -> None:
    postgres = COMPOSE["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert postgres.startswith("${POSTGRES_PASSWORD:?")
    with pytest.raises(AssertionError, match=r"must come from \.env"):
        _interpolated(postgres, {})


def test_the_store_outlives_the_containers_and_a_stop_waits_for_the_handover() -> None:
    assert "pgdata" in COMPOSE["volumes"]
    assert any(v.startswith("pgdata:") for v in COMPOSE["services"]["postgres"]["volumes"])
    grace = COMPOSE["services"]["deploybot"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) >= 30  # above a trigger's retries (README, "Operations")


def test_two_replicas_share_one_port_through_a_load_balancer_that_asks_readiness() -> None:
    services = COMPOSE["services"]
    bot, balancer = services["deploybot"], services["loadbalancer"]
    assert bot["deploy"]["replicas"] == 2
    assert "ports" not in bot  # two replicas cannot both publish 3000
    assert balancer["ports"] == ["3000:3000"]
    assert balancer["depends_on"]["deploybot"]["condition"] == "service_healthy"
    [mount] = balancer["volumes"]
    source, target, mode = mount.split(":")
    assert (ROOT / source).resolve() == (ROOT / "deploy" / "haproxy.cfg").resolve()
    assert (target, mode) == ("/usr/local/etc/haproxy/haproxy.cfg", "ro")
    lines = [line.split("#")[0].split() for line in HAPROXY.splitlines()]
    assert ["bind", ":3000"] in lines
    assert ["http-check", "send", "meth", "GET", "uri", "/readyz"] in lines
    [template] = [line for line in lines if line[:1] == ["server-template"]]
    assert template[2:4] == ["4", "deploybot:3000"]  # the service's name: one address a replica
    assert {"check", "resolvers"} <= set(template)


def test_docker_restarts_a_replica_on_liveness_as_the_image_does() -> None:
    """Not on readiness: a Slack outage would restart every replica (README, "Endpoints")."""
    test = COMPOSE["services"]["deploybot"]["healthcheck"]["test"]
    joined = DOCKERFILE.replace("\\\n", " ")
    image = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])$", joined, re.MULTILINE)
    assert image
    assert test == ["CMD", *json.loads(image.group(1))]
    assert "/healthz" in test[-1]


def test_the_apps_file_and_env_go_in_and_the_store_has_its_volume() -> None:
    bot = COMPOSE["services"]["deploybot"]
    assert bot["env_file"] == ".env"
    assert "./deploybot.toml:/app/deploybot.toml:ro" in bot["volumes"]
    assert COMPOSE["services"]["postgres"]["image"].startswith("postgres:")
