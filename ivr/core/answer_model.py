"""A linear classifier of replies over word and character n-grams, crossed with the question's topic.

It reads the long tail of how people answer ("not that I've noticed", "she's huffing and puffing",
"no puede ni pararse") that no word list tuned to one corpus foresees. Rules stay in front of it for
what must never be missed (see ivr.core.reading); this module only scores.

The model is data: weights trained offline (`ivr answers train`, from flows/answers/) and shipped as
a JSON file, loaded once at start. Scoring is deterministic and pure Python: features are hashed
with CRC-32 (stable across processes, unlike `hash`), and the weights of each word are summed once
and kept, so a reply costs a few dozen dictionary lookups.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import sys
import zlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The classes, in the order of each weight row. `emergency`, `crisis` and `urgent` (a sign for the
# emergency department, other than the one asked about) are there so that the model can move a reply
# toward safety by itself; the rules still decide most of those. `help` is a request for help or for
# what to do ("please help I'm scared"), answered with the help text (911 first).
CLASSES = ("yes", "no", "unsure", "unclear", "emergency", "crisis", "urgent", "help")
FORMAT = 1
CHAR_GRAMS = (3, 4, 5)
# Words kept with their summed weights; a bounded cache, emptied when full.
WORD_CACHE = 50_000
_START, _END = "<s>", "</s>"


def _bucket(feature: str, mask: int) -> int:
    return zlib.crc32(feature.encode()) & mask


def word_features(word: str) -> list[str]:
    """The features of one word on its own: the word, and its character n-grams with its edges."""
    marked = f"<{word}>"
    found = [f"w {word}"]
    for n in CHAR_GRAMS:
        found.extend(f"c {marked[i : i + n]}" for i in range(len(marked) - n + 1))
    return found


def context_features(words: Sequence[str], topic: str | None) -> list[str]:
    """The features of a reply beyond its single words: word pairs, the length, and the topic
    crossed with each word and pair ("slowly" means no to one question and nothing to another)."""
    padded = [_START, *words, _END]
    pairs = [f"b {a} {b}" for a, b in itertools.pairwise(padded)]
    size = len(words)
    length = "n 1" if size <= 1 else "n 2" if size <= 3 else "n 4" if size <= 7 else "n 8"
    found = [*pairs, length]
    if topic:
        found.append(f"T {topic}")
        found.extend(f"T {topic} w {w}" for w in words)
        found.extend(f"T {topic} {p}" for p in pairs)
    return found


def features(words: Sequence[str], topic: str | None) -> list[str]:
    """Every feature of a reply (normalised words, see ivr.core.words.normal_words), for training."""
    found: list[str] = []
    for w in words:
        found.extend(word_features(w))
    found.extend(context_features(words, topic))
    return found


@dataclass(frozen=True, slots=True)
class Scores:
    """The model's probability for each class, in CLASSES order."""

    probabilities: tuple[float, ...]

    def __getitem__(self, label: str) -> float:
        return self.probabilities[CLASSES.index(label)]

    @property
    def best(self) -> str:
        """The most probable class."""
        return CLASSES[max(range(len(CLASSES)), key=self.probabilities.__getitem__)]


@dataclass(slots=True)
class AnswerModel:
    """Trained weights: a bias per class and, per hashed feature, one weight per class."""

    bits: int
    bias: tuple[float, ...]
    weights: Mapping[int, tuple[float, ...]]
    about: Mapping[str, Any] = field(default_factory=dict)  # how it was trained, for the record
    digest: str = ""  # of the weights file: names the model in audit records
    _words: dict[str, tuple[float, ...]] = field(default_factory=dict, repr=False)

    @property
    def mask(self) -> int:
        """The bits of a feature's hash that name its bucket."""
        return (1 << self.bits) - 1

    def _sum(self, names: Sequence[str]) -> list[float]:
        total = [0.0] * len(CLASSES)
        mask = self.mask
        get = self.weights.get
        for name in names:
            row = get(_bucket(name, mask))
            if row is not None:
                for k, value in enumerate(row):
                    total[k] += value
        return total

    def _word(self, word: str) -> tuple[float, ...]:
        found = self._words.get(word)
        if found is None:
            if len(self._words) >= WORD_CACHE:
                self._words.clear()
            found = tuple(self._sum(word_features(word)))
            self._words[word] = found
        return found

    def knows_any(self, words: Sequence[str]) -> bool:
        """Whether any of the words was seen in training (has a weight of its own): a reply of only
        unknown words ("banana") is read from its letters alone, which says little."""
        mask = self.mask
        return any(_bucket(f"w {w}", mask) in self.weights for w in words)

    def score(self, words: Sequence[str], topic: str | None) -> Scores:
        """Class probabilities for a reply to a question on `topic` (None: no topic known)."""
        total = list(self.bias)
        for word in words:
            for k, value in enumerate(self._word(word)):
                total[k] += value
        for k, value in enumerate(self._sum(context_features(words, topic))):
            total[k] += value
        top = max(total)
        exps = [math.exp(v - top) for v in total]
        norm = sum(exps)
        return Scores(tuple(e / norm for e in exps))

    # ---- the weights file --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The model as a JSON-ready mapping: buckets and weights as little-endian arrays, the
        weights quantised to 16 bits (the scale is kept)."""
        buckets = sorted(self.weights)
        largest = max((abs(v) for row in self.weights.values() for v in row), default=1.0) or 1.0
        scale = largest / 32767
        ids = array("I", buckets)
        values = array("h", (round(v / scale) for b in buckets for v in self.weights[b]))
        if sys.byteorder != "little":
            ids.byteswap()
            values.byteswap()
        return {
            "format": FORMAT,
            "classes": list(CLASSES),
            "bits": self.bits,
            "bias": [round(b, 6) for b in self.bias],
            "scale": scale,
            "buckets": base64.b64encode(ids.tobytes()).decode(),
            "weights": base64.b64encode(values.tobytes()).decode(),
            "about": dict(self.about),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, digest: str = "") -> AnswerModel:
        """A model from its weights file; ValueError when it is not one this code can use."""
        if data.get("format") != FORMAT or list(data.get("classes", ())) != list(CLASSES):
            raise ValueError("not an answer model of this version (format or classes differ)")
        try:
            bits = int(data["bits"])
            scale = float(data["scale"])
            bias = tuple(float(b) for b in data["bias"])
            ids = array("I", base64.b64decode(data["buckets"]))
            values = array("h", base64.b64decode(data["weights"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"answer model unreadable: {exc}") from exc
        if sys.byteorder != "little":
            ids.byteswap()
            values.byteswap()
        width = len(CLASSES)
        if len(bias) != width or len(values) != len(ids) * width or not 8 <= bits <= 30:
            raise ValueError("answer model unreadable: sizes do not match")
        weights = {
            bucket: tuple(values[i * width + k] * scale for k in range(width)) for i, bucket in enumerate(ids)
        }
        about = data.get("about")
        return cls(bits, bias, weights, about if isinstance(about, Mapping) else {}, digest)


def digest_of(raw: bytes) -> str:
    """A short name for a weights file's exact content."""
    return hashlib.sha256(raw).hexdigest()[:12]
