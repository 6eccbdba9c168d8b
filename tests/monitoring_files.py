"""The monitoring files in deploy/ (the dashboard's queries, the alert rules' expressions), compared
with what /metrics exports after traffic that makes every series appear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from ivr.simulator.twilio_sim import TwilioSimulator, new_sid
from tests.promql import matched_labels, metric_names
from tests.support import OUR_NUMBER

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "triage-line.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERT_TESTS = ROOT / "tests" / "monitoring" / "alerts_test.yml"
# Series Prometheus makes itself for every target, not exported by the app.
PROMETHEUS_OWN = {"up": {"job", "instance"}}


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


def exported(exposition: str) -> dict[str, set[str]]:
    """Sample name -> label names, as Prometheus would store them from this scrape."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


def mismatches(exposition: str) -> tuple[dict[str, list[str]], dict[str, tuple[str, list[str]]]]:
    """Queries naming series the scrape lacks, and queries matching on labels a series lacks."""
    series = exported(exposition) | PROMETHEUS_OWN
    missing: dict[str, list[str]] = {}
    wrong_labels: dict[str, tuple[str, list[str]]] = {}
    for where, expr in queries().items():
        if unknown := metric_names(expr) - series.keys():
            missing[where] = sorted(unknown)
        for name, labels in matched_labels(expr).items():
            if name in series and (unknown_labels := labels - series[name]):
                wrong_labels[where] = (name, sorted(unknown_labels))
    return missing, wrong_labels


async def operator_traffic(twilio: TwilioSimulator) -> None:
    """Texts and calls to each outcome with a reply not understood, a webhook Twilio sends to the
    Fallback URL, and a forged request."""
    await twilio.text("hi", sender="+15550833333", to=OUR_NUMBER)
    await twilio.text("maybe later", sender="+15550833333", to=OUR_NUMBER)
    await twilio.text("yes", sender="+15550833333", to=OUR_NUMBER)
    call = twilio.call(caller="+15550844444", to=OUR_NUMBER)
    await call.start()
    await call.press("9")  # a Spanish caller
    for _ in range(7):
        await call.press("2")
    await call.hang_up("completed")
    form = {"From": "+15550855555", "To": OUR_NUMBER, "MessageSid": new_sid("SM"), "Body": "hi"}
    assert (await twilio.post("/sms/fallback", form)).status_code == 200
    forged = await twilio.client.post(
        "/sms",
        data=form,
        headers={"X-Twilio-Signature": "forged", "content-type": "application/x-www-form-urlencoded"},
    )
    assert forged.status_code == 403
