"""Training the answer model: labelled replies in, a weights file out (`ivr answers train`).

Multinomial logistic regression (scikit-learn, L-BFGS, L2), on the features ivr.core.answer_model
computes, so the line scores exactly what was trained. The regularisation strength is chosen on the
held-out part of the data (Example.held_out), then the model is fitted on all of it. Everything is
deterministic: the same data and versions give the same weights file, byte for byte.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from ivr.core.answer_model import CLASSES, AnswerModel, features
from ivr.core.words import normal_words
from ivr.training.augment import augmented
from ivr.training.data import Example

BITS = 20
STRENGTHS = (0.5, 1.0, 2.0, 4.0)  # scikit-learn's C: larger is weaker regularisation
PRUNE = 0.002  # weights smaller than this (in log-odds) are left out of the file


@dataclass(frozen=True, slots=True)
class Fitted:
    """A trained model and what training measured: held-out accuracy for each strength tried."""

    model: AnswerModel
    strength: float
    held_out_accuracy: dict[float, float]
    examples: int
    augmented: int
    without_held_out: AnswerModel | None  # at the chosen strength, fitted without the held-out part


Reader = Callable[[str], tuple[str, ...]]  # a reply's text -> the words the model reads


def buckets(example: Example, read: Reader = normal_words, bits: int = BITS) -> list[int]:
    """The hashed features of one example, each once, in order."""
    mask = (1 << bits) - 1
    found = {zlib.crc32(f.encode()) & mask for f in features(read(example.text), example.topic or None)}
    return sorted(found)


class Columns:
    """The buckets training has seen, as consecutive matrix columns: the fit works on those only,
    not on all 2**BITS buckets (most are empty), which makes it several times faster."""

    def __init__(self, examples: Sequence[Example], read: Reader = normal_words) -> None:
        self.read = read
        seen = sorted({b for e in examples for b in buckets(e, read)})
        self.buckets = np.array(seen, dtype=np.int64)
        self.index = {b: i for i, b in enumerate(seen)}

    def matrix(self, examples: Sequence[Example]) -> csr_matrix:
        """One row per example, a 1 in the column of each of its features seen in training."""
        indptr = [0]
        indices: list[int] = []
        for example in examples:
            indices.extend(self.index[b] for b in buckets(example, self.read) if b in self.index)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return csr_matrix((data, indices, indptr), shape=(len(examples), len(self.index)))


def _targets(examples: Sequence[Example]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array([CLASSES.index(e.target) for e in examples], dtype=np.int64)


def _fit(examples: Sequence[Example], strength: float, read: Reader) -> tuple[LogisticRegression, Columns]:
    present = sorted({e.target for e in examples})
    if len(present) < 2:
        raise ValueError("training needs replies of at least two classes")
    columns = Columns(examples, read)
    model = LogisticRegression(C=strength, max_iter=3000, tol=1e-5)
    model.fit(columns.matrix(examples), _targets(examples))
    return model, columns


def _export(fitted: LogisticRegression, columns: Columns, about: dict[str, Any]) -> AnswerModel:
    """The scikit-learn model as an AnswerModel: a row per class, every class in CLASSES order (a
    class with no training example gets a very low bias, so it is never chosen)."""
    width = len(CLASSES)
    coef = np.zeros((width, fitted.coef_.shape[1]))
    bias = np.full(width, -30.0)
    for row, label in enumerate(fitted.classes_):
        coef[int(label)] = fitted.coef_[row]
        bias[int(label)] = fitted.intercept_[row]
    keep = np.flatnonzero(np.abs(coef).max(axis=0) >= PRUNE)
    weights = {int(columns.buckets[c]): tuple(float(v) for v in coef[:, c]) for c in keep}
    model = AnswerModel(BITS, tuple(float(b) for b in bias), weights, about)
    # Round-trip through the file format, so the model measured is the one shipped (quantised).
    return AnswerModel.from_json(model.to_json())


def fit(
    examples: Sequence[Example], *, strengths: Sequence[float] = STRENGTHS, read: Reader = normal_words
) -> Fitted:
    """Choose a strength on the held-out part, then fit on everything. `read` gives the words the
    model reads for a text, as the line will give them (ivr.core.engine.model_input)."""
    train = augmented([e for e in examples if not e.held_out])
    check = [e for e in examples if e.held_out]
    accuracy: dict[float, float] = {}
    candidates: dict[float, tuple[LogisticRegression, Columns]] = {}
    if check:
        truth = _targets(check)
        for strength in strengths:
            fitted, columns = candidates[strength] = _fit(train, strength, read)
            predicted = fitted.predict(columns.matrix(check))
            accuracy[strength] = float(np.mean(predicted == truth))
        best = max(strengths, key=lambda s: (accuracy[s], -s))
    else:
        best = strengths[0]
    everything = augmented(list(examples))
    about = {
        "examples": len(examples),
        "augmented": len(everything),
        "strength": best,
        "held_out_accuracy": {str(k): round(v, 4) for k, v in accuracy.items()},
        "labels": dict(sorted(Counter(e.label for e in examples).items())),
    }
    model = _export(*_fit(everything, best, read), about)
    partial = _export(*candidates[best], {"strength": best, "held_out": True}) if best in candidates else None
    return Fitted(model, best, accuracy, len(examples), len(everything), partial)


def write(model: AnswerModel, path: Path) -> bytes:
    """Write a weights file (stable bytes for the same model) and return them."""
    raw = (json.dumps(model.to_json(), sort_keys=True, indent=0) + "\n").encode()
    path.write_bytes(raw)
    return raw
