"""The `ivr` command as a newcomer meets it: a version, a description and the defaults in every
--help, one-line argument errors, and `ivr call` taking spoken answers as well as keys."""

from __future__ import annotations

import argparse
import io
import sys

import pytest

from ivr.cli import _parser, main
from ivr.cli.arguments import Parser
from ivr.ops import failures


def subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command and subcommand under `parser`, depth first."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += [child, *subcommands(child)]
    return found


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`ivr --version` prints the installed version and exits 0."""
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("ivr ")
    assert out.split()[1][0].isdigit()


@pytest.mark.parametrize("command", subcommands(_parser()), ids=lambda p: p.prog)
def test_every_help_has_a_description_and_the_defaults(command: Parser) -> None:
    """Each subcommand's --help starts with what it is for, gives every option a help line, and
    shows every default worth knowing."""
    text = command.format_help()
    assert command.description, f"{command.prog} has no description"
    assert command.description.split()[0] in text
    for action in command._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        assert action.help, f"{command.prog} {action.dest} has no help"
        if action.default not in (None, False, argparse.SUPPRESS, []):
            help_line = command._get_formatter()._expand_help(action)
            assert "default" in help_line, f"{command.prog} {action.dest} hides its default"


def test_the_serve_help_shows_the_port_and_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    """`ivr serve --help` is where a newcomer with a busy port 8000 looks."""
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--port PORT the TCP port to listen on (default: 8000)" in out


def test_an_argument_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """No usage block: the problem, and where to read more, on one line; exit status 2."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "http"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == (
        "ivr serve: argument --port: 'http' is not a port number: use 1 to 65535 (see `ivr serve --help`)\n"
    )


def test_ivr_call_takes_spoken_answers_and_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typing "no" answers as a caller saying no would; "2" presses the key; "yes" to a red flag
    gets the emergency outcome and the line hangs up."""
    for name in ("TWILIO_AUTH_TOKEN", "IVR_HASH_KEY", "REDIS_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n2\nyes\n"))
    assert main(["call"]) == 0
    out = capsys.readouterr().out
    assert "that key is not an option" not in out.lower()
    said = [line for line in out.splitlines() if line.startswith(("you> line says>", "line says>"))]
    assert "swallow" in said[3]  # "no" to breathing: the second question
    assert "passed out" in said[4]  # key 2 to swallowing: the third
    assert out.rstrip().endswith("(the line hung up)")
    assert "call 911 now" in out.split("you> ")[-1]


def test_a_file_error_is_not_blamed_on_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """With REDIS_URL set, a file that cannot be written is still said to be a file problem."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    denied = PermissionError(13, "Permission denied", "/root/report.html")
    assert failures.explain(denied) == "no permission to use /root/report.html: pick a place you can write to"


def test_an_unforeseen_error_names_its_place_and_how_to_see_more() -> None:
    """A bug is one line too: its kind, where it happened in ivr/, and IVR_DEBUG=1 for the traceback."""
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError as exc:
        said = failures.explain(exc)
    assert said.startswith("failed unexpectedly (KeyError at tests/unit/test_cli.py:")
    assert "IVR_DEBUG=1" in said
