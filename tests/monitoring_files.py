"""The monitoring files in deploy/: the dashboard's queries and the alert rules' expressions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "triage-line.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERT_TESTS = ROOT / "tests" / "monitoring" / "alerts_test.yml"


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def queries() -> dict[str, str]:
    """Every PromQL expression in the dashboard and the rules, by where it is."""
    found = {
        f"panel {panel['title']!r} {target['refId']}": target["expr"]
        for panel in dashboard()["panels"]
        for target in panel["targets"]
    }
    found.update({f"rule {rule['alert']}": rule["expr"] for rule in rules()})
    return found
