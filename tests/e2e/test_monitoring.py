"""Every query of the Grafana dashboard and every alert rule names a metric the app really exports:
/metrics is scraped after real conversations through the signed webhooks and compared, by name.

Label values (a new answer class such as `unsure`) are not compared: only series names, and the
names of the labels a query matches on.
"""

from __future__ import annotations

from ivr.simulator.twilio_sim import TwilioSimulator
from tests.monitoring_files import PROMETHEUS_OWN, exported, mismatches, operator_traffic, queries
from tests.promql import metric_names


async def test_every_dashboard_query_and_rule_names_an_exported_metric(twilio: TwilioSimulator) -> None:
    """Each series named in deploy/grafana/dashboards/*.json and deploy/prometheus/alerts.yml is in
    the scrape, and each label a query matches on is one of that series' labels."""
    await operator_traffic(twilio)
    missing, wrong_labels = mismatches((await twilio.client.get("/metrics")).text)
    assert not missing, f"queries name metrics the app does not export: {missing}"
    assert not wrong_labels, f"queries match on labels the metric does not have: {wrong_labels}"
    used = set().union(*(metric_names(expr) for expr in queries().values()))
    assert "up" in used  # the one series of Prometheus's own is used, by the unreachable alert
    assert len(used - PROMETHEUS_OWN.keys()) >= 8


async def test_a_misnamed_query_would_be_caught(twilio: TwilioSimulator) -> None:
    """The comparison fails on a name the app does not export, and on a label it does not have."""
    await operator_traffic(twilio)
    series = exported((await twilio.client.get("/metrics")).text)
    assert "ivr_safety_net_answer_total" not in series
    assert metric_names("sum(rate(ivr_safety_net_answer_total[5m]))") - series.keys()
    assert {"cause"} - series["ivr_safety_net_answers_total"]
    assert {"reason", "route"} <= series["ivr_safety_net_answers_total"]
