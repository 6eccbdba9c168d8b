"""The deployment files: docker-compose.yml and the Dockerfile say what production needs.

Docker itself may be missing where tests run, so these read the files rather than run them.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_runs_the_app_and_redis_with_healthchecks() -> None:
    """Two services by default (the others are in profiles), each with a healthcheck; the app starts
    only once Redis is healthy."""
    services = {name: s for name, s in _compose()["services"].items() if "profiles" not in s}
    assert set(services) == {"app", "redis"}
    for service in services.values():
        assert service["healthcheck"]["test"]
        assert service["restart"] == "unless-stopped"
    assert services["app"]["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "/healthz" in " ".join(services["app"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-1] == "ping"


def test_redis_persists_appends_to_a_volume() -> None:
    """Append-only persistence on a named volume, so a restart keeps every recorded answer."""
    compose = _compose()
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]
    assert "redis-data" in compose["volumes"]


def test_redis_never_evicts_a_conversation() -> None:
    """maxmemory-policy noeviction: out of memory, Redis refuses writes (the safety net answers)
    rather than dropping conversations in progress; `ivr doctor` fails on any other policy."""
    command = _compose()["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_app_is_published_and_pointed_at_redis() -> None:
    """Port 8000 is published, REDIS_URL names the redis service, secrets come from .env."""
    app = _compose()["services"]["app"]
    assert "8000:8000" in app["ports"]
    assert app["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert app["env_file"] == ".env"
    assert app["build"] == "."


def test_the_example_env_file_names_every_required_setting() -> None:
    """.env.example lists the two secrets and the public URL, with no value filled in for secrets."""
    example = (ROOT / ".env.example").read_text()
    for name in ("TWILIO_AUTH_TOKEN=", "IVR_HASH_KEY=", "PUBLIC_BASE_URL="):
        assert name in example
    assert "\nTWILIO_AUTH_TOKEN=\n" in example
    assert "\nIVR_HASH_KEY=\n" in example


def test_the_image_runs_unprivileged_with_a_healthcheck_and_graceful_stop() -> None:
    """The Dockerfile drops root, checks health, and stops on SIGTERM (uvicorn drains requests)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER ivr\n" in dockerfile
    assert "useradd --system" in dockerfile
    assert "\nHEALTHCHECK " in dockerfile
    assert "\nSTOPSIGNAL SIGTERM\n" in dockerfile
    assert '"ivr", "serve"' in dockerfile


def test_the_installed_package_holds_every_module() -> None:
    """The image installs the project as a package (not editable): every subpackage must be in it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "ivr").rglob("__init__.py")}
    # setuptools' `include` patterns match package names the way fnmatch does.
    left_out = {p for p in on_disk if not any(fnmatch(p, pattern) for pattern in config["include"])}
    assert not left_out
    assert {"ivr.web", "ivr.channels", "ivr.bench"} <= on_disk
