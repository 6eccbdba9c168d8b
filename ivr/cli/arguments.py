"""The `ivr` command's argument parsing: a one-line error that says what to do, and a description
and the defaults in every --help."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) naming where to read more."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpWithDefaults)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """Print the problem in one line and exit 2, as argparse does."""
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


Commands: TypeAlias = "argparse._SubParsersAction[Parser]"  # argparse's own, unexported


class HelpWithDefaults(argparse.HelpFormatter):
    """Help that shows each option's default, when it has one worth showing and does not say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS, [])
        if shown and "default" not in text and (action.option_strings or action.nargs in ("?", "*")):
            text += " (default: %(default)s)"
        return text


def command(commands: Commands, name: str, summary: str, description: str) -> Parser:
    """A subcommand with its one-line summary (in the parent's list) and its description (in its
    own --help)."""
    parser: Parser = commands.add_parser(name, help=summary, description=description)
    parser.set_defaults(command_name=parser.prog)
    return parser


def port_number(value: str) -> int:
    """A TCP port, 1 to 65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number: use 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number: use 1 to 65535")
    return port


def positive(value: str) -> int:
    """A whole number, 1 or more."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small: use 1 or more")
    return number
