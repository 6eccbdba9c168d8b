"""The core (everything under ivr/core/) loads nothing but the pure standard library and itself.

Each core module is imported in a fresh interpreter that sees the source tree and the standard
library only (no site-packages), and every module that import pulls in is compared with an
allowlist. Following real imports, rather than reading import statements, sees every form of
import (`from ivr import store` too); finding the modules by walking the folder sees every module;
an allowlist, rather than a list of banned packages, refuses asyncio, socket or subprocess as
surely as redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ivr

SOURCE_ROOT = Path(ivr.__file__).resolve().parent.parent

# Standard-library modules that compute and nothing else (and what they load in turn), plus the
# file reading the flow loader needs (os, through pathlib). No network, processes, threads or
# event loops.
PURE_STDLIB = frozenset(
    {
        "__future__",
        "_stat",
        "errno",
        "genericpath",
        "importlib",  # inspect loads importlib.machinery to describe modules
        "ipaddress",  # urllib.parse loads it to parse hosts
        "os",
        "posixpath",
        "stat",
        "_ast",
        "_blake2",
        "_collections_abc",
        "_datetime",
        "_hashlib",
        "_json",
        "_opcode",
        "_sha2",
        "_string",
        "_struct",
        "_typing",
        "_weakrefset",
        "array",
        "ast",
        "base64",
        "binascii",
        "collections",
        "contextlib",
        "copy",
        "copyreg",
        "dataclasses",
        "datetime",
        "dis",
        "enum",
        "fnmatch",
        "functools",
        "hashlib",
        "hmac",
        "inspect",
        "itertools",
        "json",
        "keyword",
        "linecache",
        "math",
        "ntpath",
        "opcode",
        "operator",
        "pathlib",
        "re",
        "reprlib",
        "sre_compile",
        "sre_constants",
        "sre_parse",
        "string",
        "struct",
        "textwrap",
        "token",
        "tokenize",
        "tomllib",
        "types",
        "typing",
        "zlib",  # crc32: the answer model hashes its features with it
        "unicodedata",
        "urllib",  # pathlib loads urllib.parse, a pure parser; urllib.request would be refused below
        "warnings",
        "weakref",
    }
)
REFUSED_EVEN_IF_THEIR_PACKAGE_IS_ALLOWED = frozenset({"urllib.request", "urllib.response", "http"})

PROBE = textwrap.dedent(
    """
    import importlib, json, sys
    before = set(sys.modules)
    importlib.import_module(sys.argv[1])
    print(json.dumps(sorted(set(sys.modules) - before)))
    """
)


def core_modules(root: Path, package: str) -> list[str]:
    """Every module under the package's core folder, found by walking it."""
    core = root / package / "core"
    return sorted(
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in core.rglob("*.py")
    )


def loaded_by(module: str, root: Path) -> list[str]:
    """The modules a fresh interpreter loads to import `module` from `root`, without site-packages
    (so a third-party import fails to load, which is reported as the failure it is)."""
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
        [sys.executable, "-S", "-c", PROBE, module],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PYTHONSAFEPATH": "1"},
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return [f"<import failed: {last}>"]
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def impure(module: str, root: Path, package: str) -> list[str]:
    """What `module` loads beyond the pure standard library and the core itself."""
    allowed_own = (package, f"{package}.core")
    return [
        name
        for name in loaded_by(module, root)
        if not (name in allowed_own or name.startswith(f"{package}.core."))
        and (name.split(".")[0] not in PURE_STDLIB or name in REFUSED_EVEN_IF_THEIR_PACKAGE_IS_ALLOWED)
    ]


@pytest.mark.parametrize("module", core_modules(SOURCE_ROOT, "ivr"))
def test_a_core_module_loads_only_the_pure_standard_library_and_the_core(module: str) -> None:
    """No core module reaches redis, fastapi, twilio, pydantic, asyncio, socket or any other
    adapter or I/O library, directly or through another module."""
    assert impure(module, SOURCE_ROOT, "ivr") == []


def test_the_core_is_found_by_walking_its_folder() -> None:
    """Every module in the folder is checked, the small ones included."""
    found = core_modules(SOURCE_ROOT, "ivr")
    assert {"ivr.core.engine", "ivr.core.carrier", "ivr.core.recorded", "ivr.core.flow"} <= set(found)
    assert len(found) == len(list((SOURCE_ROOT / "ivr" / "core").rglob("*.py")))


def _fake_package(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A throwaway package `probe` with an adapter (`probe.store`) and the given core modules."""
    package = tmp_path / "probe"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text("")
    (package / "store.py").write_text("import socket\n")  # stands for an adapter doing I/O
    for name, body in modules.items():
        (package / "core" / f"{name}.py").write_text(body)
    return tmp_path


@pytest.mark.parametrize(
    ("body", "caught"),
    [
        ("from probe import store\n", "socket"),  # the `from package import module` form
        ("import asyncio\n", "asyncio"),  # an I/O library no ban list named
        ("import subprocess\n", "subprocess"),
        ("import urllib.request\n", "urllib.request"),
        ("import redis\n", "<import failed"),  # third-party: not even importable here
    ],
)
def test_the_check_catches_what_the_old_one_let_through(tmp_path: Path, body: str, caught: str) -> None:
    """An engine that imports an adapter by `from package import module`, or a standard-library
    module that does I/O, is caught."""
    root = _fake_package(tmp_path, {"engine": "from probe.core import words\n" + body, "words": ""})
    assert any(name.startswith(caught) for name in impure("probe.core.engine", root, "probe"))


def test_a_module_no_list_names_is_checked_too(tmp_path: Path) -> None:
    """A new module dropped into the core folder is found and checked without editing any list."""
    root = _fake_package(tmp_path, {"engine": "", "carrier": "import threading\n"})
    modules = core_modules(root, "probe")
    assert "probe.core.carrier" in modules
    assert "threading" in impure("probe.core.carrier", root, "probe")
    assert impure("probe.core.engine", root, "probe") == []
