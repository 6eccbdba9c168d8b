"""The package's layers: a top level of `cli`, `config` and packages, each on a floor, and every
import between them going down a floor, never sideways or up.

Imports are read from the source (every `import` and `from ... import` outside a string, at any
depth, so an import inside a function counts too); a package here that is on no floor fails the
test, so a new one must be placed. The pure core's own rule (nothing but the standard library) is
tests/unit/test_core_purity.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ivr

PACKAGE = Path(ivr.__file__).resolve().parent
SOURCE_ROOT = PACKAGE.parent

# Lowest first. Units on the same floor do not import each other.
FLOORS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),  # the domain: flow model, engine, answers (pure)
    frozenset({"channels", "store", "flows"}),  # adapters: Twilio, Redis, flow files
    frozenset({"application", "simulator", "config"}),  # the turn, Twilio's stand-in, settings
    frozenset({"authoring", "training"}),  # tools over flows: the checker, drawings, the model
    frozenset({"ops"}),  # operating the line: metrics, reports, the doctor
    frozenset({"web", "bench"}),  # the HTTP app, and the benchmark that drives it
    frozenset({"cli"}),  # the `ivr` command
)
FLOOR_OF = {unit: level for level, units in enumerate(FLOORS) for unit in units}
TOP_LEVEL_MODULES = {"__init__.py", "config.py"}


def unit_of(module: str) -> str:
    """The top-level unit a dotted module name belongs to (`ivr.store.keys` -> `store`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """Every ivr module a source file imports, with its line."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            from_package = node.module == "ivr"  # `from ivr import store` names the unit itself
            names = [f"ivr.{alias.name}" for alias in node.names] if from_package else [node.module]
        else:
            continue
        yield from ((node.lineno, name) for name in names if name.startswith("ivr."))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SOURCE_ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_the_top_level_is_cli_config_and_packages() -> None:
    """Besides `config`, every top-level name is a package (the `cli` command is one too)."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in TOP_LEVEL_MODULES)
    assert loose == [], f"modules at the top level of ivr/ that belong in a package: {loose}"
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert "cli" in packages


def test_every_package_is_on_a_floor() -> None:
    """A new package is placed on a floor before it is used."""
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    units = packages | {"config"}
    assert units - FLOOR_OF.keys() == set(), "packages on no floor in tests/unit/test_layers.py"
    assert FLOOR_OF.keys() - units == set(), "floors name packages that do not exist"


def test_imports_only_go_down_a_floor() -> None:
    """No package imports one on its own floor or above it."""
    wrong: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        if source == "":  # ivr/__init__.py
            continue
        for line, name in imported(path):
            target = unit_of(name)
            if target == source:
                continue
            if FLOOR_OF[target] >= FLOOR_OF[source]:
                side = "sideways" if FLOOR_OF[target] == FLOOR_OF[source] else "up"
                wrong.append(f"{path.relative_to(SOURCE_ROOT)}:{line} imports {name} ({side})")
    assert wrong == []


def test_the_floor_check_sees_a_sideways_import(tmp_path: Path) -> None:
    """The reader finds imports wherever they are written, so the check above can fail."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ivr import store\n"
        "def later() -> None:\n"
        "    import ivr.flows.flowfile\n"
        "    from ivr.channels.sms import render\n"
        "text = 'from ivr.web import app'\n"
    )
    found = [unit_of(name) for _, name in imported(sample)]
    assert found == ["store", "flows", "channels"]
    assert FLOOR_OF["store"] == FLOOR_OF["flows"] == FLOOR_OF["channels"]


def test_the_admission_gate_loads_nothing_of_the_app() -> None:
    """The web package's modules load what they use: importing the admission gate, in a fresh
    interpreter, loads no other part of the line (it loaded 58 modules when the package's
    `__init__` built the app)."""
    probe = (
        "import sys, ivr.web.admission; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('ivr'))))"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=SOURCE_ROOT
    ).stdout.split()
    assert loaded == ["ivr", "ivr.web", "ivr.web.admission"]
