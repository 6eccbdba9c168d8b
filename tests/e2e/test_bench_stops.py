"""`ivr bench` as a person runs it: it shows its steps from the start, writes under bench/runs/
(never over the committed figures), stops everything it started on Ctrl-C or SIGTERM, and
`--profile` leaves a flame graph."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.bench import profile

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "bench" / "results" / "latest.json"


def descendants(root: int) -> set[int]:
    """Every live process under `root`, from /proc (children in sessions of their own included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def start_bench(tmp_path: Path, *argv: str) -> subprocess.Popen[str]:
    """`ivr bench ARGV` in a session of its own, as a terminal would run it, in a scratch folder."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own command
        [sys.executable, "-m", "ivr.cli", "bench", *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize(("how", "status"), [("Ctrl-C", 130), ("SIGTERM", 143)])
def test_a_stopped_bench_leaves_nothing_running(tmp_path: Path, how: str, status: int) -> None:
    """Once the line is being served and measured, Ctrl-C (SIGINT to the terminal's process
    group) or SIGTERM (to the process) stops the benchmark: every server and redis-server it
    started is gone, it says so in one line, nothing is written, no traceback."""
    bench = start_bench(tmp_path, "--smoke")
    deadline = time.monotonic() + 60
    started: set[int] = set()
    while time.monotonic() < deadline:
        started = descendants(bench.pid)
        if any("uvicorn" in command_line(pid) for pid in started) and any(
            "redis-server" in command_line(pid) for pid in started
        ):
            break
        assert bench.poll() is None, bench.communicate()
        time.sleep(0.1)
    else:
        pytest.fail("ivr bench never started its servers")
    time.sleep(0.5)  # under load now, or about to be
    if how == "Ctrl-C":
        os.killpg(bench.pid, signal.SIGINT)
    else:
        bench.send_signal(signal.SIGTERM)
    out, err = bench.communicate(timeout=60)
    assert bench.returncode == status, err
    assert "Traceback" not in out + err, err
    assert err.strip().splitlines()[-1] == (
        f"ivr bench: stopped by {how}; everything it started has been stopped, and nothing was written"
    )
    time.sleep(0.2)
    assert [command_line(pid) for pid in started if alive(pid)] == []
    assert not (tmp_path / "bench").exists()


def test_the_smoke_run_shows_its_steps_and_writes_under_bench_runs(tmp_path: Path) -> None:
    """`ivr bench --smoke` says at once how many steps and how long, then each step; its figures
    go to bench/runs/smoke.json, not to the committed bench/results/latest.json."""
    committed = COMMITTED.read_bytes()
    bench = start_bench(tmp_path, "--smoke")
    assert bench.stderr is not None
    first = bench.stderr.readline()
    out, err = bench.communicate(timeout=180)
    assert bench.returncode == 0, err
    assert first.startswith("ivr bench: 3 steps, about "), first
    assert [line for line in err.splitlines() if line.startswith("step ")] == [
        "step 1/3: the bare endpoint, 1 worker",
        "step 2/3: the line, 1 worker, 100 idle conversations",
        "step 3/3: the line, 1 worker, 1,000 idle conversations",
    ]
    written = json.loads((tmp_path / "bench" / "runs" / "smoke.json").read_text())
    assert len(written["runs"]) == 3
    assert out.rstrip().endswith("wrote bench/runs/smoke.json")
    assert not (tmp_path / "bench" / "results").exists()
    assert COMMITTED.read_bytes() == committed


def test_bench_runs_are_not_committed() -> None:
    """bench/runs/, where `ivr bench` writes by default, is ignored by git."""
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "bench/runs/latest.json"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0


@pytest.mark.redis
def test_the_profile_leaves_a_flame_graph(tmp_path: Path) -> None:
    """`ivr bench --profile`'s flame graph is a speedscope file with the line's own frames in it."""
    flame = tmp_path / "profile.speedscope.json"
    found = profile.profile(duration=1.0, connections=2, flame=flame)
    assert found.seconds_in_requests > 0
    data = json.loads(flame.read_text())
    assert data["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = data["shared"]["frames"]
    assert any("/ivr/" in (frame.get("file") or "") for frame in frames)
    assert data["profiles"]
    assert any(p["events"] for p in data["profiles"])
