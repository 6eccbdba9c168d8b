"""The core (flow model, engine, answers, session) imports no I/O framework, directly or indirectly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ivr

PACKAGE = Path(ivr.__file__).parent
CORE = ["ivr.core.flow", "ivr.core.engine", "ivr.core.answers", "ivr.core.session", "ivr.core.gsm"]
FORBIDDEN = {
    "redis",
    "fastapi",
    "starlette",
    "twilio",
    "httpx",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "fakeredis",
    "prometheus_client",
}


def _imports(module: str) -> set[str]:
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _closure(module: str) -> set[str]:
    """Every module imported by `module`, following imports inside the ivr package."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in _imports(current):
            if name in seen:
                continue
            seen.add(name)
            if name.startswith("ivr.") and (PACKAGE.parent / (name.replace(".", "/") + ".py")).exists():
                todo.append(name)
    return seen


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io_framework(module: str) -> None:
    """No core module reaches redis, fastapi, starlette, twilio or another I/O library."""
    reached = {name.split(".")[0] for name in _closure(module)}
    assert not reached & FORBIDDEN, f"{module} reaches {sorted(reached & FORBIDDEN)}"


def test_the_check_sees_a_forbidden_import() -> None:
    """The same analysis does find the frameworks an adapter imports, so it can fail."""
    assert {"twilio"} <= {name.split(".")[0] for name in _closure("ivr.channels.sms")}
    assert {"redis"} <= {name.split(".")[0] for name in _closure("ivr.store.sessions")}
