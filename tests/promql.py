"""Reading PromQL in tests: which metrics an expression names, and which labels it matches on.

Not a PromQL parser: enough of the grammar to find series names in the queries this project
writes (functions, aggregations with by/without, vector matching, ranges, strings), and shown on
its own cases in tests/unit/test_promql.py.
"""

from __future__ import annotations

import re

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(rf"({_NAME})?\s*\{{([^}}]*)\}}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(rf"(?<![\w.$]){_NAME}")
KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
    | {"inf", "nan", "Inf", "NaN"}
)


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects (functions, keywords and label names left out)."""
    text = _STRING.sub('""', expr)
    text = _SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group(0)
        rest = text[match.end() :].lstrip()
        if name in KEYWORDS or rest.startswith("("):
            continue  # a keyword, or a function or aggregation being called
        names.add(name)
    return names


def matched_labels(expr: str) -> dict[str, set[str]]:
    """For each series named with label matchers (`name{label=~"..."}`), the label names matched."""
    found: dict[str, set[str]] = {}
    for match in _SELECTOR.finditer(_STRING.sub('""', expr)):
        if match.group(1):
            found.setdefault(match.group(1), set()).update(_MATCHER.findall(match.group(2)))
    return found
