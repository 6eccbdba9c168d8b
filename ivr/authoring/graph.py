"""Drawing a flow for the people who own it: Mermaid for the docs (docs/flows.md), Graphviz DOT, and
SVG through `dot`."""

from __future__ import annotations

import re
import shutil
import subprocess

from ivr.core.flow import Flow

README_BLOCK = re.compile(
    r"(<!-- flow-graph:(?P<id>[\w-]+) -->\n)(?P<body>.*?)(<!-- /flow-graph -->)", re.DOTALL
)


# Fill and border per outcome kind.
COLOURS = {
    "emergency": ("#f8d0d0", "#b00000"),
    "er_now": ("#f6c8dc", "#ad1457"),
    "crisis": ("#ddd0f0", "#4527a0"),
    "today": ("#ffd8b0", "#c05000"),
    "appointment": ("#d6ecd2", "#2e7d32"),
    "safety": ("#fff1c2", "#a07800"),
    "unsure": ("#fff1c2", "#a07800"),
}


def _label(text: str) -> str:
    return text.replace('"', "'")


def mermaid(flow: Flow) -> str:
    """A Mermaid flowchart: each question with its wording, yes and no edges, and the outcomes."""
    lang = flow.default_language
    lines = ["flowchart TD"]
    lines.append(f'    start(["First message: call 911 in an emergency"]) --> {flow.start}')
    for qid in flow.question_order():
        q = flow.questions[qid]
        flag = "RED FLAG: " if q.red_flag else ""
        lines.append(f'    {qid}{{"{flag}{_label(q.wording.text(lang, voice=False))}"}}')
        lines.append(f"    {qid} -- {_yes_label(flow, qid)} --> {q.yes}")
        lines.append(f"    {qid} -- no --> {q.no}")
    safety = flow.outcome_of_kind("safety").id
    lines.append(
        f'    anyq(["any question, answer not understood {flow.limits.sms_retries + 1}x by text '
        f'or {flow.limits.voice_retries + 1}x on a call"]) -.-> {safety}'
    )
    if any(q.red_flag for q in flow.questions.values()):
        lines.append(f'    unsureq(["any red flag, answered not sure"]) -.-> {flow.unsure_outcome().id}')
    for other, label in _call_languages(flow):
        lines.append(f'    lang_{other}(["{_label(label)}"])')
    for outcome in flow.outcomes.values():
        first = outcome.wording.parts(lang, voice=False)[0]
        lines.append(f'    {outcome.id}[["{outcome.kind.upper()}: {_label(first)}"]]')
        lines.append(f"    class {outcome.id} {outcome.kind}")
    for kind, (fill, stroke) in COLOURS.items():
        lines.append(f"    classDef {kind} fill:{fill},stroke:{stroke},color:#000")
    return "\n".join(lines) + "\n"


def _call_languages(flow: Flow) -> list[tuple[str, str]]:
    """How a call changes language, one note per language a caller can pick by key: calls start in
    the flow's first language (the caller's number never picks one)."""
    first = flow.default_language
    return [
        (
            other,
            f"a call starts in {first}; at any question, key {choice.key} ({choice.offer}) or an answer only "
            f"in {other} words: {other} from then on, the same question again or the answer kept",
        )
        for other, choice in flow.call_offers(first)
    ]


def _yes_label(flow: Flow, qid: str) -> str:
    """A lesser sign answered "not sure" takes the yes way (see the engine); a red flag's unsure
    has its own outcome."""
    return "yes" if flow.questions[qid].red_flag else "yes or not sure"


def dot(flow: Flow) -> str:
    """The same picture in Graphviz DOT."""
    lang = flow.default_language
    lines = [f'digraph "{flow.id}" {{', "    rankdir=TB;", '    node [fontname="Helvetica"];']
    lines.append('    start [shape=oval, label="First message: call 911 in an emergency"];')
    lines.append(f"    start -> {_dot_id(flow.start)};")
    for qid in flow.question_order():
        q = flow.questions[qid]
        text = _label(q.wording.text(lang, voice=False))
        lines.append(
            f'    {_dot_id(qid)} [shape=diamond, label="{("RED FLAG: " if q.red_flag else "") + text}"];'
        )
        lines.append(f'    {_dot_id(qid)} -> {_dot_id(q.yes)} [label="{_yes_label(flow, qid)}"];')
        lines.append(f'    {_dot_id(qid)} -> {_dot_id(q.no)} [label="no"];')
    for outcome in flow.outcomes.values():
        first = _label(outcome.wording.parts(lang, voice=False)[0])
        lines.append(
            f'    {_dot_id(outcome.id)} [shape=box, style=filled, fillcolor="{COLOURS[outcome.kind][0]}", '
            f'label="{outcome.kind.upper()}: {first}"];'
        )
    safety = flow.outcome_of_kind("safety").id
    lines.append('    anyq [shape=oval, label="any question, answer not understood"];')
    lines.append(f"    anyq -> {_dot_id(safety)} [style=dashed];")
    if any(q.red_flag for q in flow.questions.values()):
        lines.append('    unsureq [shape=oval, label="any red flag, answered not sure"];')
        lines.append(f"    unsureq -> {_dot_id(flow.unsure_outcome().id)} [style=dashed];")
    for other, label in _call_languages(flow):
        lines.append(f'    {_dot_id("lang_" + other)} [shape=note, label="{_label(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(node: str) -> str:
    return '"' + node.replace('"', "") + '"'


def svg(flow: Flow) -> str:
    """SVG rendered by Graphviz's `dot`; raises RuntimeError when Graphviz is not installed."""
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError("Graphviz `dot` is not installed; use --format mermaid or dot")
    result = subprocess.run(  # noqa: S603 - the Graphviz binary found on PATH, fixed arguments
        [program, "-Tsvg"], input=dot(flow), capture_output=True, text=True, check=True, timeout=30
    )
    return result.stdout


def readme_block(flow: Flow) -> str:
    """The Mermaid drawing of a flow, between the markers that a Markdown page (docs/flows.md) keeps it in."""
    return f"```mermaid\n{mermaid(flow)}```\n"


def update_readme(text: str, flow: Flow) -> str:
    """The page with the flow's diagram block replaced by the current drawing."""

    def replace(match: re.Match[str]) -> str:
        """The block a match found, drawn afresh when it is this flow's; another flow's is left as it is."""
        if match.group("id") != flow.id:
            return match.group(0)
        return match.group(1) + readme_block(flow) + match.group(4)

    return README_BLOCK.sub(replace, text)


def readme_drawing(text: str, flow_id: str) -> str | None:
    """The drawing currently in a page for a flow, or None when it has no block."""
    for match in README_BLOCK.finditer(text):
        if match.group("id") == flow_id:
            return match.group("body")
    return None
