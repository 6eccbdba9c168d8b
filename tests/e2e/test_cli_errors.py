"""Every `ivr` command, run as a real process against each broken setup a newcomer or an operator
meets, fails the same way: one sentence on stderr saying what is wrong and what to do, no
traceback, a non-zero exit status. The doctor, whose output is a table, says it in its redis row."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.bench.harness import free_port
from tests.redis_servers import RedisServer
from tests.support import AUTH_TOKEN, HASH_KEY, PUBLIC_BASE_URL

PASSWORD = "s3cret-for-tests"


@dataclass(frozen=True)
class Setup:
    """Where things stand: what REDIS_URL points at, and the ports that are taken."""

    not_redis: str  # a port where something answers, but not Redis
    down: str  # a port where nothing listens
    needs_password: str  # Redis with a password, and none in the URL
    wrong_password: str
    busy_port: int  # a port something already listens on


@dataclass(frozen=True)
class Case:
    """A command, the environment it runs in, and words its one line must contain."""

    argv: tuple[str, ...]
    expect: str
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A password-protected redis-server, a port that answers HTTP, and a port that is taken."""
    locked = RedisServer(tmp_path_factory.mktemp("locked"), password=PASSWORD).start(appendonly=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        answering = threading.Thread(target=answer_http, args=(listener,), daemon=True)
        answering.start()
        yield Setup(
            not_redis=f"redis://127.0.0.1:{port}/0",
            down=f"redis://127.0.0.1:{free_port()}/0",
            needs_password=locked.url,
            wrong_password=f"redis://:not-{PASSWORD}@127.0.0.1:{locked.port}/0",
            busy_port=port,
        )
    locked.stop()


def answer_http(listener: socket.socket) -> None:
    """Answer every connection as a web server would, whatever it sends: a port that is not Redis.
    Ends when the listener is closed."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                connection.recv(4096)
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def run_ivr(argv: tuple[str, ...], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`ivr ARGV` as a newcomer runs it: nothing set but what the case sets, in a folder without .env."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "IVR_", "REDIS_", "LOG_"))}
    keep.pop("PUBLIC_BASE_URL", None)
    return subprocess.run(  # noqa: S603 - this interpreter, our own command
        [sys.executable, "-m", "ivr.cli", *argv],
        env={**keep, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expect: str) -> None:
    shown = result.stdout + result.stderr
    assert result.returncode != 0, shown
    assert "Traceback" not in shown, shown
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, shown
    assert expect in lines[0], shown


def redis_cases(s: Setup) -> dict[str, Case]:
    """ivr report against each wrong REDIS_URL."""
    return {
        "report, REDIS_URL at a port that is not Redis": Case(
            ("report",), "but it is not Redis: point REDIS_URL at Redis's port", {"REDIS_URL": s.not_redis}
        ),
        "report, Redis down": Case(("report",), "does not answer: start Redis", {"REDIS_URL": s.down}),
        "report, NOAUTH": Case(
            ("report",), "needs a password and REDIS_URL has none", {"REDIS_URL": s.needs_password}
        ),
        "report, WRONGPASS": Case(
            ("report",), "refused the password in REDIS_URL", {"REDIS_URL": s.wrong_password}
        ),
    }


def other_cases(s: Setup, tmp: Path) -> dict[str, Case]:
    loud = {"LOG_LEVEL": "LOUD"}
    production = {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_HASH_KEY": HASH_KEY,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }
    missing = str(tmp / "no-such-folder" / "out.html")
    redis = {"REDIS_URL": s.down}
    return {
        "serve, LOG_LEVEL=LOUD": Case(("serve",), "LOG_LEVEL: 'LOUD' is not a log level", loud),
        "serve, --port 99999": Case(("serve", "--port", "99999"), "99999 is not a port number"),
        "serve, a port in use": Case(("serve", "--port", str(s.busy_port)), "make serve PORT=8123"),
        "serve, production with a port in use": Case(
            ("serve", "--host", "127.0.0.1", "--port", str(s.busy_port)), "is in use", production
        ),
        "serve, --workers 0": Case(("serve", "--workers", "0"), "0 is too small"),
        "serve, REDIS_URL not a Redis URL": Case(
            ("serve",), "REDIS_URL", {**production, "REDIS_URL": "http://127.0.0.1:6379"}
        ),
        "report, LOG_LEVEL=LOUD": Case(("report",), "LOG_LEVEL", {**loud, **redis}),
        "report, no REDIS_URL": Case(("report",), "set REDIS_URL"),
        "report, --out into a missing folder": Case(
            ("report", "--out", missing), "there is no folder", redis
        ),
        "report, --since after --until": Case(
            ("report", "--since", "2026-02-01", "--until", "2026-01-01"), "is after --until", redis
        ),
        "report, --since not a day": Case(("report", "--since", "2026-13-01"), "YYYY-MM-DD", redis),
        "bench, --out into a missing folder": Case(
            ("bench", "--smoke", "--out", missing), "there is no folder"
        ),
        "bench, --connections 0": Case(("bench", "--connections", "0"), "too small"),
        "chat, LOG_LEVEL=LOUD": Case(("chat",), "LOG_LEVEL", loud),
        "call, LOG_LEVEL=LOUD": Case(("call",), "LOG_LEVEL", loud),
        "twilio setup, LOG_LEVEL=LOUD": Case(
            ("twilio", "setup", "--number", "+15550100000"), "LOG_LEVEL", loud
        ),
        "twilio setup, no PUBLIC_BASE_URL": Case(
            ("twilio", "setup", "--number", "+15550100000"), "PUBLIC_BASE_URL is not set"
        ),
        "flows list, a missing folder": Case(("flows", "list", str(tmp / "nothing")), "no flow files"),
        "flows graph, an unknown flow": Case(("flows", "graph", "nope"), "no flow 'nope'"),
        "flows twiml-bins, an unknown flow": Case(
            ("flows", "twiml-bins", "--flow", "nope"), "no flow 'nope'"
        ),
        "no command": Case((), "COMMAND"),
        "an unknown command": Case(("frobnicate",), "invalid choice"),
    }


CASES = [
    "report, REDIS_URL at a port that is not Redis",
    "report, Redis down",
    "report, NOAUTH",
    "report, WRONGPASS",
    "serve, LOG_LEVEL=LOUD",
    "serve, --port 99999",
    "serve, a port in use",
    "serve, production with a port in use",
    "serve, --workers 0",
    "serve, REDIS_URL not a Redis URL",
    "report, LOG_LEVEL=LOUD",
    "report, no REDIS_URL",
    "report, --out into a missing folder",
    "report, --since after --until",
    "report, --since not a day",
    "bench, --out into a missing folder",
    "bench, --connections 0",
    "chat, LOG_LEVEL=LOUD",
    "call, LOG_LEVEL=LOUD",
    "twilio setup, LOG_LEVEL=LOUD",
    "twilio setup, no PUBLIC_BASE_URL",
    "flows list, a missing folder",
    "flows graph, an unknown flow",
    "flows twiml-bins, an unknown flow",
    "no command",
    "an unknown command",
]


@pytest.mark.parametrize("name", CASES)
def test_a_broken_setup_gets_one_clear_line(name: str, setup: Setup, tmp_path: Path) -> None:
    """The command stops with one line that names the problem and what to do, no traceback,
    and a non-zero exit status."""
    case = {**redis_cases(setup), **other_cases(setup, tmp_path)}[name]
    assert_one_clear_line(run_ivr(case.argv, case.env, tmp_path), case.expect)


def test_every_case_is_run(tmp_path: Path) -> None:
    """The list above names every case written out, so none is left unrun by a typo."""
    fake = Setup("redis://x:1/0", "redis://x:2/0", "redis://x:3/0", "redis://x:4/0", 1)
    assert sorted(CASES) == sorted({**redis_cases(fake), **other_cases(fake, tmp_path)})


@pytest.mark.parametrize(
    ("url", "detail", "todo"),
    [
        ("not_redis", "but it is not Redis", "point REDIS_URL at Redis's port"),
        ("down", "does not answer", "start Redis"),
        ("needs_password", "needs a password and REDIS_URL has none", "add it"),
        ("wrong_password", "refused the password in REDIS_URL", "put the right one in REDIS_URL"),
    ],
)
def test_the_doctor_says_what_is_wrong_with_redis(
    url: str, detail: str, todo: str, setup: Setup, tmp_path: Path
) -> None:
    """`ivr doctor` with each wrong REDIS_URL: its table's redis row names the problem (a wrong
    password is not "does not answer"), says what to do, and the exit status is 1; no traceback."""
    env = {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_HASH_KEY": HASH_KEY,
        "REDIS_URL": getattr(setup, url),
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{free_port()}",
    }
    result = run_ivr(("doctor",), env, tmp_path)
    shown = result.stdout + result.stderr
    assert result.returncode == 1, shown
    assert "Traceback" not in shown, shown
    assert result.stderr == "", shown
    rows = result.stdout.splitlines()
    (at,) = [i for i, row in enumerate(rows) if row.startswith("redis ")]
    assert detail in rows[at], shown
    assert todo in rows[at + 1], shown
    assert PASSWORD not in shown
