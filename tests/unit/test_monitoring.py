"""The monitoring profile: docker-compose.yml starts Prometheus and Grafana with the files in deploy/,
the dashboard and rules hang together, and promtool accepts and unit-tests the rules.

Docker may be missing where tests run, so the compose file is read rather than run; promtool
(Debian's `prometheus` package, which .ci/run installs) is used where it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring_files import ALERT_TESTS, ALERTS, PROMETHEUS, ROOT, dashboard, queries, rules
from tests.promql import metric_names

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (.ci/run installs it)"
)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> file in this repository, for the service's bind mounts."""
    mounts = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def test_the_monitoring_profile_adds_prometheus_and_grafana_only_when_asked() -> None:
    """Prometheus and Grafana are in the `monitoring` profile; the app and Redis start without it."""
    services = _compose()["services"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    assert "profiles" not in services["app"]
    assert "profiles" not in services["redis"]


def test_prometheus_gets_its_config_and_the_rules_it_names() -> None:
    """The config file is mounted where --config.file says, and each rule file it names is mounted
    from deploy/prometheus/alerts.yml."""
    service = _compose()["services"]["prometheus"]
    mounts = _mounts(service)
    config_path = next(a.split("=", 1)[1] for a in service["command"] if a.startswith("--config.file="))
    assert mounts[config_path] == PROMETHEUS
    config = yaml.safe_load(mounts[config_path].read_text())
    assert [mounts[path] for path in config["rule_files"]] == [ALERTS]
    for source in mounts.values():
        assert source.is_file()


def test_prometheus_scrapes_every_replica_of_the_app() -> None:
    """The scrape job finds the `app` service's replicas by Docker DNS, on the port the app serves."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "ivr"
    assert job["metrics_path"] == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["app"]
    assert sd["port"] == 8000
    assert "8000:8000" in _compose()["services"]["app"]["ports"]


def test_grafana_is_provisioned_with_the_data_source_and_the_dashboard() -> None:
    """Grafana reads the provisioning directory; its dashboard provider points where the dashboards
    are mounted; the panels use the provisioned data source; nothing is published beyond loopback."""
    compose = _compose()["services"]
    service = compose["grafana"]
    mounts = _mounts(service)
    provisioning = mounts["/etc/grafana/provisioning"]
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "ivr.yml").read_text())["providers"]
    dashboards_dir = mounts[provider["options"]["path"]]
    assert (dashboards_dir / "triage-line.json").is_file()
    for panel in dashboard()["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]
        assert all(target["datasource"]["uid"] == source["uid"] for target in panel["targets"])
    for name in ("prometheus", "grafana"):
        assert all(port.startswith("127.0.0.1:") for port in compose[name]["ports"])


def test_the_dashboard_has_the_panels_operators_asked_for() -> None:
    """Traffic and latency by channel, safety nets by reason, outcomes, answers not understood or
    unsure by question, the circuit breaker, signature rejections; panels do not overlap."""
    panels = dashboard()["panels"]
    text = {panel["title"]: " ".join(t["expr"] for t in panel["targets"]) for panel in panels}
    assert "ivr_webhook_seconds_count" in text["Webhooks per second, by channel"]
    latency = text["Webhook latency p50 / p99, by channel"]
    assert "histogram_quantile(0.5," in latency
    assert "histogram_quantile(0.99," in latency
    assert "by (reason)" in text["Safety-net answers, by reason"]
    assert "by (outcome, channel, lang)" in text["Outcomes, by kind, channel and language"]
    assert 'answer=~"unclear|unsure"' in text["Answers not understood or unsure, by question"]
    assert "ivr_redis_circuit_open" in text["Redis circuit breaker and readiness"]
    assert "ivr_signature_rejections_total" in text["Signature rejections"]
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, f"panel {panel['title']!r} overlaps another"
        cells |= area
    assert len({panel["id"] for panel in panels}) == len(panels)


def test_the_alerts_cover_what_must_wake_someone() -> None:
    """The store's safety nets, readiness, signature rejections and a silent line each have an
    alert, with a severity and a summary."""
    by_name = {rule["alert"]: rule for rule in rules()}
    assert {
        "IvrSafetyNetFromStore",
        "IvrNotReady",
        "IvrSignatureRejectionsRising",
        "IvrNoWebhooks",
    } <= set(by_name)
    assert 'reason=~"redis|timeout|contention"' in by_name["IvrSafetyNetFromStore"]["expr"]
    for rule in by_name.values():
        assert rule["labels"]["severity"] in {"page", "warning"}
        assert rule["annotations"]["summary"]


def test_every_query_has_a_metric_in_it() -> None:
    """No query is empty of series (the e2e test then checks each name against /metrics)."""
    for where, expr in queries().items():
        assert metric_names(expr), where


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    """`promtool check rules` passes on deploy/prometheus/alerts.yml."""
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file of this repository
        [str(PROMTOOL), "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_prometheus_config(tmp_path: Path) -> None:
    """`promtool check config` passes, with the rule file where the container would have it."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    config["rule_files"] = [str(ALERTS)]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    result = subprocess.run(  # noqa: S603 - a fixed tool on a copy of this repository's file
        [str(PROMTOOL), "check", "config", str(local)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_each_alert_fires_when_it_should_and_only_then() -> None:
    """`promtool test rules` runs tests/monitoring/alerts_test.yml: every alert is shown to fire on
    its condition and to stay quiet on a near miss."""
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file of this repository
        [str(PROMTOOL), "test", "rules", str(ALERT_TESTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {
        case["alertname"]
        for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert tested == {rule["alert"] for rule in rules()}
