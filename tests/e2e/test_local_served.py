"""`ivr serve` on a fresh clone, with nothing set: local mode, for real, on a real port."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from ivr.cli import main
from ivr.simulator.twilio_sim import FORM_HEADERS
from tests.processes import ivr_serve_local

ROOT = Path(__file__).resolve().parents[2]
SMS = {"MessageSid": "SM" + "2" * 32, "From": "+15551234567", "To": "+15550100000", "Body": "hi"}
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what local mode must refuse
LISTEN = "0A"  # the TCP state /proc/net/tcp gives a listening socket


@pytest.fixture(autouse=True)
def _nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "IVR_INSECURE_DEV", "PUBLIC_BASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def listening_addresses(port: int) -> set[str]:
    """The addresses a port is listened on, from the kernel's table (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_serve_with_nothing_set_is_local_mode_on_loopback(tmp_path: Path) -> None:
    """The README's first command with nothing configured: one banner saying local mode with the
    page's address, the page served, an unsigned webhook refused, and nothing listening beyond
    127.0.0.1."""
    log = tmp_path / "serve.log"
    with ivr_serve_local(log) as base:
        page = httpx.get(f"{base}/", timeout=5)
        unsigned = httpx.post(f"{base}/sms", content=urlencode(SMS), headers=FORM_HEADERS, timeout=5)
        port = int(base.rsplit(":", 1)[1])
        addresses = listening_addresses(port)
    assert page.status_code == 200
    assert "<title>Triage line simulator" in page.text
    assert unsigned.status_code == 403
    assert addresses == {"0100007F"}  # 127.0.0.1, as the kernel writes it; nothing else
    text = log.read_text()
    assert text.count("LOCAL MODE") == 1
    assert f"Open {base}/ to text or call the line" in text
    assert "TWILIO_AUTH_TOKEN" in text


def test_the_banner_stays_plain_text_with_the_example_env(tmp_path: Path) -> None:
    """`cp .env.example .env` then `make serve`: the banner is lines a person reads, not one escaped
    JSON object, even with LOG_FORMAT=json set, and the line still starts in local mode."""
    example = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(example + "\nLOG_FORMAT=json\n")
    log = tmp_path / "serve.log"
    with ivr_serve_local(log) as base:
        assert httpx.get(f"{base}/", timeout=5).status_code == 200
    lines = log.read_text().splitlines()
    opening = [i for i, line in enumerate(lines) if line.startswith("LOCAL MODE: ")]
    assert len(opening) == 1, lines
    assert lines[opening[0] + 1] == f"  Open {base}/ to text or call the line from your browser."
    assert "\\n" not in "\n".join(lines)


def test_the_example_env_sets_no_log_format() -> None:
    """.env.example leaves LOG_FORMAT to its default (text in local mode, json in production)."""
    settings = [line for line in (ROOT / ".env.example").read_text().splitlines() if not line.startswith("#")]
    assert not any(line.startswith("LOG_FORMAT=") for line in settings)


def test_serve_refuses_a_public_interface_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    """`ivr serve --host 0.0.0.0` with no secrets stops at once and says what to set."""
    assert main(["serve", "--host", ALL_INTERFACES]) == 2
    message = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in message
    assert "TWILIO_AUTH_TOKEN" in message
    assert "IVR_HASH_KEY" in message


def test_serve_refuses_several_workers_in_local_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """Local mode keeps conversations in one process, so it runs one."""
    assert main(["serve", "--workers", "2"]) == 2
    assert "local mode runs one process" in capsys.readouterr().err


def test_ivr_chat_texts_the_line_through_the_same_twilio_side(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr chat` runs the app in local mode and texts it with signed webhooks: a yes gets 911."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef")  # ignored: always local
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\ny\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "line> Muscle weakness advice line. If this is an emergency, call 911 now." in out
    assert "line> Call 911 now." in out


def test_ivr_call_takes_keys_and_silence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr call`: Enter alone is silence, and a 1 gets the emergency."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n1\n"))
    assert main(["call"]) == 0
    out = capsys.readouterr().out
    assert "line says> I did not hear an answer." in out
    assert "line says> Hang up and call 911 now." in out
    assert "(the line hung up)" in out
