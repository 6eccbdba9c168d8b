"""Labelled replies: reading the TSV files the answer model is trained and evaluated on."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# What a careful triage nurse takes a reply as (tests/understanding/LABELS.md), and the model class
# each label is trained as. Language requests are the rules' work; for the model they are not answers.
LABELS = ("yes", "no", "unsure", "emergency", "urgent", "crisis", "unclear", "help", "spanish", "english")
CLASS_OF_LABEL = {
    "yes": "yes",
    "no": "no",
    "unsure": "unsure",
    "emergency": "emergency",
    "urgent": "urgent",
    "crisis": "crisis",
    "unclear": "unclear",
    "help": "help",
    "spanish": "unclear",
    "english": "unclear",
}
CHANNELS = ("sms", "voice")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled reply: the label, the question's topic, the conversation's language, the
    channel (sms: typed; voice: a speech transcript) and the text; `where` is file:line."""

    label: str
    topic: str
    lang: str
    channel: str
    text: str
    where: str = ""

    @property
    def target(self) -> str:
        """The model class this label is trained as."""
        return CLASS_OF_LABEL[self.label]

    @property
    def held_out(self) -> bool:
        """Whether this example is in the training data's held-out part (about one in seven, fixed
        by its text): used to choose settings and report figures, never to fit the final weights
        on the figures it reports."""
        return zlib.crc32(f"{self.topic}\t{self.text}".encode()) % 7 == 0


class DataError(ValueError):
    """A line of a data file that cannot be read; the message says where and why."""


def read_examples(path: Path) -> list[Example]:
    """Every example in one TSV file (label, topic, lang, channel, text); '#' lines are comments."""
    found: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        where = f"{path.name}:{number}"
        if len(parts) != 5:
            raise DataError(f"{where}: expected 5 tab-separated columns, found {len(parts)}")
        label, topic, lang, channel, text = (p.strip() for p in parts)
        if label not in CLASS_OF_LABEL:
            raise DataError(f"{where}: unknown label {label!r} (one of {', '.join(LABELS)})")
        if channel not in CHANNELS:
            raise DataError(f"{where}: unknown channel {channel!r} (sms or voice)")
        if not text or not topic or not lang:
            raise DataError(f"{where}: empty column")
        found.append(Example(label, topic, lang, channel, text, where))
    return found


def read_all(paths: Iterable[Path]) -> list[Example]:
    """Every example in the given files and folders (*.tsv), in a stable order."""
    found: list[Example] = []
    for path in _files(paths):
        found.extend(read_examples(path))
    return found


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.tsv"))
        else:
            yield path
