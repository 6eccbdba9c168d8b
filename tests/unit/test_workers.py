"""`ivr serve --workers N` gives its workers one directory to add their metrics up in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.ops.metrics import MULTIPROCESS_DIR
from ivr.ops.workers import shared_metrics


def test_one_worker_counts_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A single worker needs no shared directory, and none is set."""
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with shared_metrics(1):
        assert MULTIPROCESS_DIR not in os.environ


def test_several_workers_get_a_fresh_directory_removed_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory exists and is empty while the workers run; it and the variable are gone after."""
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with shared_metrics(2):
        directory = Path(os.environ[MULTIPROCESS_DIR])
        assert directory.is_dir()
        assert not any(directory.iterdir())
    assert MULTIPROCESS_DIR not in os.environ
    assert not directory.exists()


def test_a_directory_given_by_the_operator_is_emptied_of_old_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A previous run's counts would be added to this run's: they are removed; the directory stays."""
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))
    with shared_metrics(2):
        assert os.environ[MULTIPROCESS_DIR] == str(tmp_path)
        assert not (tmp_path / "counter_123.db").exists()
    assert (tmp_path / "notes.txt").exists()
