"""The simulator page's files: shipped with the package, plain (no build step), and self-contained."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from ivr.web.simulator import ASSETS, STATIC

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_of_the_page_ships_with_the_package() -> None:
    """pyproject's package data covers each file under ivr/web/static (the image is not editable)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = [p.relative_to(STATIC.parent).as_posix() for p in STATIC.iterdir()]
    assert files
    assert all(any(fnmatch(f, pattern) for pattern in patterns["ivr.web"]) for f in files)


def test_the_page_loads_only_its_own_assets() -> None:
    """index.html names exactly the served assets, and no file reaches outside this computer."""
    page = (STATIC / "index.html").read_text()
    assert set(re.findall(r"/local/static/([\w.]+)", page)) == set(ASSETS)
    for path in STATIC.iterdir():
        assert not re.search(r"(src|href)=\"?(https?:)?//", path.read_text()), path.name
        assert "@import" not in path.read_text()
