"""Drawing flows: the diagram in docs/flows.md is current, and each format draws every node and edge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.authoring import graph
from ivr.cli import main
from ivr.flows.flowfile import load_flow
from tests.support import SHIPPED, red_flags

DIAGRAM = Path(__file__).resolve().parents[2] / "docs" / "flows.md"
FLOW = load_flow(SHIPPED)  # drawn as written, placeholders and all


def test_the_docs_show_the_current_flow() -> None:
    """The Mermaid diagram in docs/flows.md matches the shipped flow; `make readme` redraws it."""
    drawn = graph.readme_drawing(DIAGRAM.read_text(encoding="utf-8"), FLOW.id)
    assert drawn is not None, "docs/flows.md has no <!-- flow-graph:muscle-weakness --> block"
    assert drawn == graph.readme_block(FLOW), "docs/flows.md's flow diagram is out of date: run `make readme`"


def test_mermaid_draws_every_question_edge_and_outcome() -> None:
    """Each red flag has its question, a yes edge to the emergency outcome and a no edge onward."""
    drawing = graph.mermaid(FLOW)
    assert drawing.startswith("flowchart TD\n")
    for qid in red_flags(FLOW):
        question = FLOW.questions[qid]
        assert f"{qid} -- yes --> emergency" in drawing
        assert f"{qid} -- no --> {question.no}" in drawing
        assert question.wording.text("en", voice=False).replace('"', "'") in drawing
    for oid in FLOW.outcomes:
        assert f"    {oid}[[" in drawing


def test_both_drawings_say_how_a_call_changes_language() -> None:
    """A note per language a caller can pick: its key, its offer, and that an answer in it switches."""
    note = (
        "a call starts in en; at any question, key 9 (Para español, oprima 9.) or an answer only in es words"
    )
    assert f'    lang_es(["{note}' in graph.mermaid(FLOW)
    assert note in graph.dot(FLOW)


def test_dot_draws_the_same_edges() -> None:
    """The DOT drawing has one yes and one no edge per question."""
    drawing = graph.dot(FLOW)
    assert drawing.count('[label="yes"]') == len(red_flags(FLOW))
    assert drawing.count('[label="yes or not sure"]') == len(FLOW.questions) - len(red_flags(FLOW))
    assert drawing.count('[label="no"]') == len(FLOW.questions)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it)")
def test_svg_through_graphviz() -> None:
    """With Graphviz installed, --format svg gives an SVG picture."""
    picture = graph.svg(FLOW)
    assert "<svg" in picture
    assert "RED FLAG" in picture


def test_the_readme_block_is_rewritten_in_place(tmp_path: Path) -> None:
    """`ivr flows graph FLOW --readme FILE` replaces only that flow's block."""
    page = tmp_path / "README.md"
    page.write_text("before\n<!-- flow-graph:muscle-weakness -->\nold\n<!-- /flow-graph -->\nafter\n")
    assert main(["flows", "graph", "muscle-weakness", "--readme", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("before\n<!-- flow-graph:muscle-weakness -->\n```mermaid\nflowchart TD\n")
    assert text.endswith("```\n<!-- /flow-graph -->\nafter\n")
