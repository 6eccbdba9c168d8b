"""Several worker processes, one set of metrics: the directory where prometheus_client's multiprocess
mode keeps each worker's counts, made before `ivr serve` starts its workers and removed after.

Without it each worker counts alone and a scrape reaches one of them at random, so Prometheus sees
a counter jump back and forth between workers' totals (and takes each drop for a restart).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ivr.ops.metrics import MULTIPROCESS_DIR


@contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """For more than one worker: a fresh directory in PROMETHEUS_MULTIPROC_DIR, which the workers
    (started afresh, with this environment) find when they first import prometheus_client. A
    directory given by the operator is used instead, emptied of a previous run's counts."""
    if workers <= 1:
        yield
        return
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    directory = tempfile.mkdtemp(prefix="ivr-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)
