"""More ways of writing each training reply: the slips real people make, made deterministically.

Each example gets a few variants: a typing slip in one word, a false start on a call (the first
word said twice), a filler word before it or a courtesy after it, and the
same reply with no question known (so the model still reads replies to a question it was not
trained on). A fixed seed makes the same data give the same model.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ivr.training.data import Example

SEED = 20261206
_FILLER = {
    "en": ("um", "uh", "well", "ok", "hmm", "oh"),
    "es": ("pues", "este", "mmm", "bueno", "ay", "eh"),
}
_AFTER = {
    "en": ("thanks", "lol", "pls", "ok", "thank you"),
    "es": ("gracias", "ok", "porfa", "pues", "ya"),
}


def slip(word: str, rng: random.Random) -> str:
    """One typing slip in a word: a letter dropped, doubled, or swapped with the next."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def variants(example: Example, rng: random.Random) -> Iterator[Example]:
    """The example as written, then its variants (see the module docstring)."""
    yield example
    text = example.text
    words = text.split()
    if words:
        k = rng.randrange(len(words))
        slipped = " ".join(slip(w, rng) if i == k else w for i, w in enumerate(words))
        if slipped != text:
            yield _with(example, slipped)
    if example.channel == "voice" and len(words) > 1:
        yield _with(example, f"{words[0]} {text}")  # a false start, as callers make them
    lang = example.lang if example.lang in _FILLER else "en"
    if rng.random() < 0.5:
        yield _with(example, f"{rng.choice(_FILLER[lang])} {text}")
    elif example.label in ("yes", "no", "unsure"):
        yield _with(example, f"{text} {rng.choice(_AFTER[lang])}")
    if rng.random() < 0.3:
        yield Example(example.label, "", example.lang, example.channel, text, example.where)


def augmented(examples: list[Example]) -> list[Example]:
    """Every example with its variants, duplicates (same topic and text) dropped."""
    rng = random.Random(SEED)  # noqa: S311 - a fixed seed for the same data every time, not a secret
    seen: set[tuple[str, str]] = set()
    found: list[Example] = []
    for example in examples:
        for variant in variants(example, rng):
            key = (variant.topic, variant.text)
            if key not in seen:
                seen.add(key)
                found.append(variant)
    return found


def _with(example: Example, text: str) -> Example:
    return Example(example.label, example.topic, example.lang, example.channel, text, example.where)
