"""Every command in the README is run here, as written (a port chosen free where the README's would
clash with other work on this machine), and does what the README says it does. The README stays
short: under 250 lines, its links pointing at files that exist."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ivr.bench.harness import free_port
from tests.standins import ACCOUNT, TwilioApiStandIn
from tests.support import AUTH_TOKEN

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NUMBER = "+15551234567"  # the README's example number


def readme_commands() -> list[str]:
    """The commands in the README's ```sh blocks, one a line, without their comments."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def newcomer_env(**more: str) -> dict[str, str]:
    """The environment of someone who has set nothing: the secrets and Redis blank (which also
    outweighs any .env a developer keeps in the checkout), the tests' own variables gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "IVR_", "REDIS_", "LOG_"))}
    env.pop("PUBLIC_BASE_URL", None)
    # Run under `make test ARGS=...`, make passes its variables (into the environment too) on to
    # any make started inside.
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "ARGS", "PORT"):
        env.pop(name, None)
    env.update({"TWILIO_AUTH_TOKEN": "", "IVR_HASH_KEY": "", "REDIS_URL": ""})
    env.update(more)
    return env


def shell(command: str, *, cwd: Path = ROOT, env: dict[str, str] | None = None, stdin: str = "") -> str:
    """Run a README command through the shell; its output (exit status 0 required)."""
    done = subprocess.run(  # noqa: S602 - the README's own commands, as a person types them
        command,
        shell=True,
        cwd=cwd,
        env=env or newcomer_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def serving(command: str, port: int, env: dict[str, str]) -> None:
    """Start `command` (a `make serve`), wait for the banner the README shows and for the page on
    `port`, then stop it as Ctrl-C would."""
    process = subprocess.Popen(  # noqa: S602 - the README's own commands
        command,
        shell=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        page = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        if page is None:
            stopped = process.poll() is not None
            out, _ = process.communicate(timeout=30) if stopped else ("(still running)", None)
            raise AssertionError(f"the page never answered; the command said:\n{out}")
        assert page.status_code == 200
        assert "<title>Triage line simulator" in page.text
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert "LOCAL MODE: neither TWILIO_AUTH_TOKEN nor IVR_HASH_KEY is set" in out
    assert f"  Open http://127.0.0.1:{port}/ to text or call the line from your browser." in out


def run_make_serve(command: str) -> None:
    """`make serve` on port 8000 as the README shows; here PORT comes from the environment (make
    reads it as its variable), so the test never fights other work for 8000."""
    port = free_port()
    serving(command, port, newcomer_env(PORT=str(port)))


def run_make_serve_on_a_port(command: str) -> None:
    """`make serve PORT=8123`: the page on the port asked for (a free one stands in for 8123)."""
    port = free_port()
    serving(command.replace("8123", str(port)), port, newcomer_env())


def run_make_test(command: str) -> None:
    """`make test` is what this suite is run by, and CI runs it: the test checks that it is the
    command CI runs and that it runs the suite on a private redis-server after readying Chromium."""
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    recipe = shell(f"{command} -n")
    assert "scripts/ensure-chromium" in recipe
    assert "scripts/with-redis .venv/bin/pytest" in recipe


def run_make_model(command: str) -> None:
    """`make model`: its recipe retrains the answer model from flows/answers/train; the same command,
    on the earlier corpus's training lines and written aside, fits, writes a model and reports the
    held-out figures (the whole data takes minutes, which the suite does not spend)."""
    recipe = shell(f"{command} -n")
    assert ".venv/bin/ivr answers train" in recipe
    folder = Path(os.environ.get("PYTEST_TMP_FOR_README", ""))
    out = shell(f".venv/bin/ivr answers train flows/answers/train/corpus.tsv --out {folder / 'model.json'}")
    assert "wrote" in out
    assert "handled as a nurse would" in out
    assert (folder / "model.json").stat().st_size > 1000


def run_make_cases(command: str) -> None:
    """`make cases`: the case bank's matrix, and the flow clears the bar (exit status 0)."""
    out = shell(command)
    assert "expected \\ advised" in out
    assert "exact" in out


def run_chat(command: str) -> None:
    """`ivr chat`: a text, a reply with the 911 notice; a yes, the emergency outcome."""
    out = shell(command, stdin="hi\nyes\n")
    assert "call 911 now" in out
    assert "line> Call 911 now." in out


def run_call(command: str) -> None:
    """`ivr call`: words and keys are both answers."""
    out = shell(command, stdin="no\n1\n")
    assert "that key is not an option" not in out.lower()
    assert "(the line hung up)" in out


def run_cp_env(command: str) -> None:
    """`cp .env.example .env`: a .env with the settings step 2 names, ready to fill in."""
    folder = Path(os.environ.get("PYTEST_TMP_FOR_README", ""))
    shutil.copy(ROOT / ".env.example", folder / ".env.example")
    shell(command, cwd=folder)
    written = (folder / ".env").read_text()
    for name in ("TWILIO_AUTH_TOKEN=", "IVR_HASH_KEY=", "PUBLIC_BASE_URL=", "TWILIO_ACCOUNT_SID="):
        assert re.search(rf"^{name}", written, flags=re.MULTILINE), name


def run_openssl(command: str) -> None:
    """`openssl rand -hex 32`: 64 hex digits, long enough for IVR_HASH_KEY."""
    assert re.fullmatch(r"[0-9a-f]{64}\n", shell(command))


def twilio_env() -> dict[str, str]:
    """The deployment's settings of step 2, pointing the REST client at the stand-in for Twilio."""
    return newcomer_env(
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        IVR_HASH_KEY="readme-test-hash-key-0123456789abcdef01234",
        PUBLIC_BASE_URL="https://triage.example.org",
        TWILIO_API_BASE_URL=os.environ["PYTEST_TWILIO_STANDIN"],
    )


def run_setup_dry(command: str) -> None:
    """`ivr twilio setup --dry-run`: the diff, nothing changed."""
    out = shell(command, env=twilio_env())
    assert "+ " in out
    assert "https://triage.example.org/sms" in out


def run_setup(command: str) -> None:
    """`ivr twilio setup`: the number now points at the line; a second run changes nothing."""
    shell(command, env=twilio_env())
    again = shell(command.replace(" --dry-run", "") + " --dry-run", env=twilio_env())
    assert "https://triage.example.org/voice" in again


def run_doctor(command: str) -> None:
    """`ivr doctor`: the table of checks, the number's webhooks passing after setup; nothing serves
    the public URL here, so the exit status is 1, as the README says for any fail."""
    shell(command.replace("doctor", "twilio setup"), env=twilio_env())
    done = subprocess.run(  # noqa: S602 - the README's own command
        command,
        shell=True,
        cwd=ROOT,
        env=twilio_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^number webhooks +pass ", done.stdout, flags=re.MULTILINE), done.stdout
    assert re.search(r"^public /healthz +fail ", done.stdout, flags=re.MULTILINE), done.stdout
    assert "Traceback" not in done.stdout + done.stderr


RUNNERS: dict[str, Callable[[str], None]] = {
    "make serve": run_make_serve,
    "make serve PORT=8123": run_make_serve_on_a_port,
    "make test": run_make_test,
    "make model": run_make_model,
    "make cases": run_make_cases,
    ".venv/bin/ivr chat": run_chat,
    ".venv/bin/ivr call": run_call,
    "cp .env.example .env": run_cp_env,
    "openssl rand -hex 32": run_openssl,
    f".venv/bin/ivr twilio setup --number {NUMBER} --dry-run": run_setup_dry,
    f".venv/bin/ivr twilio setup --number {NUMBER}": run_setup,
    f".venv/bin/ivr doctor --number {NUMBER}": run_doctor,
}


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The stand-in for Twilio's REST API holding the README's number, and a scratch folder."""
    api = TwilioApiStandIn(credentials={ACCOUNT: AUTH_TOKEN})
    api.add_number(NUMBER)
    monkeypatch.setenv("PYTEST_TWILIO_STANDIN", api.url)
    monkeypatch.setenv("PYTEST_TMP_FOR_README", str(tmp_path))
    yield
    api.close()


def test_every_readme_command_has_a_test() -> None:
    """The commands in the README are exactly those run below: a new one needs its test."""
    assert sorted(readme_commands()) == sorted(RUNNERS)


def test_commands_named_in_the_text_are_ones_that_are_run() -> None:
    """A command quoted in the README's prose (`make ...`, `ivr ...`) is one of its tested commands,
    or the start of one."""
    tested = [c.removeprefix(".venv/bin/") for c in RUNNERS]
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    for quoted in re.findall(r"`([^`]+)`", prose):
        name = quoted.removeprefix(".venv/bin/")
        if name.startswith(("make ", "ivr ")) or name in ("make", "ivr"):
            assert any(t.startswith(name) for t in tested), quoted


@pytest.mark.parametrize("command", list(RUNNERS))
def test_the_readme_command(command: str, standin: None) -> None:
    """The command runs as the README says and does what it says."""
    RUNNERS[command](command)


def test_the_readme_stays_short_and_its_links_resolve() -> None:
    """Under 250 lines, and every relative link points at a file or folder in the repository."""
    assert README.count("\n") < 250
    for target in re.findall(r"\]\((?!https?:)([^)#]+)", README):
        assert (ROOT / target).exists(), target


def test_every_docs_page_links_resolve() -> None:
    """The pages the README sends people to link to files that exist, and to each other."""
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\((?!https?:)([^)#]+)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name}: {target}"
