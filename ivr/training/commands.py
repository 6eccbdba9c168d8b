"""`ivr answers train` and `ivr answers eval`: retrain the answer model in one command, and measure it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ivr.core import engine
from ivr.core.answer_model import digest_of
from ivr.core.flow import Flow
from ivr.flows.flowfile import load_flow
from ivr.training.data import Example, read_all
from ivr.training.evaluate import Figures, evaluate

SHOWN_MISSES = 40


def train(flow_file: Path, data: Sequence[Path], out: Path | None, *, stream: TextIO | None = None) -> int:
    """Fit the model on every example under `data`, write it where the flow names it (or `out`),
    then report how the line handles the held-out part of the data with it."""
    from ivr.training.train import fit, write  # noqa: PLC0415 - scikit-learn loads only to train

    stream = stream or sys.stdout
    examples = read_all(data)
    flow = load_flow(flow_file, with_model=False)
    target = out or _model_path(flow_file, flow)
    unknown = sorted({e.topic for e in examples} - set(flow.questions))
    if unknown:
        print(f"examples name questions the flow does not have: {', '.join(unknown)}", file=sys.stderr)
        return 2
    print(f"training on {len(examples)} labelled replies from {len(data)} place(s)...", file=stream)
    fitted = fit(examples, read=lambda text: engine.model_input(flow, text))
    raw = write(fitted.model, target)
    held = ", ".join(f"C={k}: {v:.3f}" for k, v in fitted.held_out_accuracy.items())
    print(
        f"wrote {target} ({len(raw) // 1024} KB, {len(fitted.model.weights)} features, digest "
        f"{digest_of(raw)}); strength C={fitted.strength} chosen on held-out data ({held})",
        file=stream,
    )
    # The held-out figures come from the model fitted without those lines at the chosen strength;
    # the model written was then fitted on everything.
    if fitted.without_held_out is not None:
        held_out = [e for e in examples if e.held_out]
        check = flow.with_model(fitted.without_held_out)
        report(check, held_out, "held-out training lines (model fitted without them)", stream)
    return 0


def evaluate_files(flow_file: Path, files: Sequence[Path], *, stream: TextIO | None = None) -> int:
    """Report how the line, with its shipped model, handles the labelled replies in `files`."""
    stream = stream or sys.stdout
    flow = load_flow(flow_file)
    for path in files:
        report(flow, read_all([path]), str(path), stream)
    return 0


def report(flow: Flow, examples: list[Example], name: str, stream: TextIO) -> Figures:
    """Print the figures of an evaluation, and its misses."""
    figures = evaluate(flow, examples)
    print(
        f"\n{name}: {figures.handled}/{figures.total} handled as a nurse would ({figures.accuracy:.1%})",
        file=stream,
    )
    for label, (handled, total) in figures.by_label().items():
        print(f"  {label:<10} {handled:>4}/{total:<4}", file=stream)
    noes = figures.noes
    asked = len(figures.noes_asked_again)
    print(
        f"  red-flag yes, emergency, urgent or crisis taken as a no: {len(figures.alarms_taken_as_no)}; "
        f"crisis without the crisis outcome: {len(figures.crisis_missed)}; "
        f"plain noes asked again: {asked}/{noes} ({asked / noes if noes else 0:.1%})",
        file=stream,
    )
    print(f"  decided by: {figures.by_how()}", file=stream)
    misses = [j for j in figures.judged if not j.handled]
    for j in misses[:SHOWN_MISSES]:
        wanted = " or ".join(sorted(":".join(w).strip(":") for w in j.wanted))
        print(
            f"  miss {j.example.where}: {j.example.label} at {j.example.topic} [{j.example.lang} "
            f"{j.example.channel}] {j.example.text!r}: did {':'.join(j.did).strip(':')} ({j.how}), "
            f"wanted {wanted}",
            file=stream,
        )
    if len(misses) > SHOWN_MISSES:
        print(f"  ... and {len(misses) - SHOWN_MISSES} more", file=stream)
    return figures


def _model_path(flow_file: Path, flow: Flow) -> Path:
    name = flow.source.get("answer_model")
    if not isinstance(name, str):
        raise ValueError(f"{flow_file} names no answer_model file")
    return flow_file.parent / name
