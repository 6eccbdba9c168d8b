"""Every query of the Grafana dashboard and every alert rule names a metric the app really exports:
/metrics is scraped after real conversations through the signed webhooks and compared, by name.

Label values (a new answer class such as `unsure`) are not compared: only series names, and the
names of the labels a query matches on.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ivr.twilio_sim import TwilioSimulator, new_sid
from tests.monitoring_files import queries
from tests.promql import matched_labels, metric_names
from tests.support import OUR_NUMBER

# Series Prometheus makes itself for every target, not exported by the app.
PROMETHEUS_OWN = {"up": {"job", "instance"}}


async def _traffic(twilio: TwilioSimulator) -> None:
    """Texts and calls to each outcome with a reply not understood, a webhook Twilio sends to the
    Fallback URL, and a forged request."""
    await twilio.text("hi", sender="+15550833333", to=OUR_NUMBER)
    await twilio.text("maybe later", sender="+15550833333", to=OUR_NUMBER)
    await twilio.text("yes", sender="+15550833333", to=OUR_NUMBER)
    call = twilio.call(caller="+15550844444", to=OUR_NUMBER)
    await call.start()
    for _ in range(8):
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


def _exported(exposition: str) -> dict[str, set[str]]:
    """Sample name -> label names, as Prometheus would store them from this scrape."""
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    return exported


async def test_every_dashboard_query_and_rule_names_an_exported_metric(twilio: TwilioSimulator) -> None:
    """Each series named in deploy/grafana/dashboards/*.json and deploy/prometheus/alerts.yml is in
    the scrape, and each label a query matches on is one of that series' labels."""
    await _traffic(twilio)
    exported = _exported((await twilio.client.get("/metrics")).text) | PROMETHEUS_OWN
    missing = {}
    wrong_labels = {}
    for where, expr in queries().items():
        if unknown := metric_names(expr) - exported.keys():
            missing[where] = sorted(unknown)
        for name, labels in matched_labels(expr).items():
            if name in exported and (unknown_labels := labels - exported[name]):
                wrong_labels[where] = (name, sorted(unknown_labels))
    assert not missing, f"queries name metrics the app does not export: {missing}"
    assert not wrong_labels, f"queries match on labels the metric does not have: {wrong_labels}"
    used = set().union(*(metric_names(expr) for expr in queries().values()))
    assert "up" in used  # the one series of Prometheus's own is used, by the unreachable alert
    assert len(used - PROMETHEUS_OWN.keys()) >= 8


async def test_a_misnamed_query_would_be_caught(twilio: TwilioSimulator) -> None:
    """The comparison fails on a name the app does not export, and on a label it does not have."""
    await _traffic(twilio)
    exported = _exported((await twilio.client.get("/metrics")).text)
    assert "ivr_safety_net_answer_total" not in exported
    assert metric_names("sum(rate(ivr_safety_net_answer_total[5m]))") - exported.keys()
    assert {"cause"} - exported["ivr_safety_net_answers_total"]
    assert {"reason", "route"} <= exported["ivr_safety_net_answers_total"]
