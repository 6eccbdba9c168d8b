"""Drawing a flow for the people who own it: Mermaid for the README, Graphviz DOT, and SVG through `dot`."""

from __future__ import annotations

import re
import shutil
import subprocess

from ivr.core.flow import Flow

README_BLOCK = re.compile(
    r"(<!-- flow-graph:(?P<id>[\w-]+) -->\n)(?P<body>.*?)(<!-- /flow-graph -->)", re.DOTALL
)


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
        lines.append(f"    {qid} -- yes --> {q.yes}")
        lines.append(f"    {qid} -- no --> {q.no}")
    safety = flow.outcome_of_kind("safety").id
    lines.append(
        f'    anyq(["any question, answer not understood {flow.limits.sms_retries + 1}x by text '
        f'or {flow.limits.voice_retries + 1}x on a call"]) -.-> {safety}'
    )
    for outcome in flow.outcomes.values():
        first = outcome.wording.parts(lang, voice=False)[0]
        lines.append(f'    {outcome.id}[["{outcome.kind.upper()}: {_label(first)}"]]')
        lines.append(f"    class {outcome.id} {outcome.kind}")
    lines.append("    classDef emergency fill:#f8d0d0,stroke:#b00000,color:#000")
    lines.append("    classDef appointment fill:#d6ecd2,stroke:#2e7d32,color:#000")
    lines.append("    classDef safety fill:#fff1c2,stroke:#a07800,color:#000")
    return "\n".join(lines) + "\n"


def dot(flow: Flow) -> str:
    """The same picture in Graphviz DOT."""
    lang = flow.default_language
    fills = {"emergency": "#f8d0d0", "appointment": "#d6ecd2", "safety": "#fff1c2"}
    lines = [f'digraph "{flow.id}" {{', "    rankdir=TB;", '    node [fontname="Helvetica"];']
    lines.append('    start [shape=oval, label="First message: call 911 in an emergency"];')
    lines.append(f"    start -> {_dot_id(flow.start)};")
    for qid in flow.question_order():
        q = flow.questions[qid]
        text = _label(q.wording.text(lang, voice=False))
        lines.append(
            f'    {_dot_id(qid)} [shape=diamond, label="{("RED FLAG: " if q.red_flag else "") + text}"];'
        )
        lines.append(f'    {_dot_id(qid)} -> {_dot_id(q.yes)} [label="yes"];')
        lines.append(f'    {_dot_id(qid)} -> {_dot_id(q.no)} [label="no"];')
    for outcome in flow.outcomes.values():
        first = _label(outcome.wording.parts(lang, voice=False)[0])
        lines.append(
            f'    {_dot_id(outcome.id)} [shape=box, style=filled, fillcolor="{fills[outcome.kind]}", '
            f'label="{outcome.kind.upper()}: {first}"];'
        )
    safety = flow.outcome_of_kind("safety").id
    lines.append('    anyq [shape=oval, label="any question, answer not understood"];')
    lines.append(f"    anyq -> {_dot_id(safety)} [style=dashed];")
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
    return f"```mermaid\n{mermaid(flow)}```\n"


def update_readme(text: str, flow: Flow) -> str:
    """The README with the flow's diagram block replaced by the current drawing."""

    def replace(match: re.Match[str]) -> str:
        if match.group("id") != flow.id:
            return match.group(0)
        return match.group(1) + readme_block(flow) + match.group(4)

    return README_BLOCK.sub(replace, text)


def readme_drawing(text: str, flow_id: str) -> str | None:
    """The drawing currently in the README for a flow, or None when it has no block."""
    for match in README_BLOCK.finditer(text):
        if match.group("id") == flow_id:
            return match.group("body")
    return None
