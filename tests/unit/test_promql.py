"""The PromQL reading used to check the dashboard and the alert rules against what the app exports."""

from __future__ import annotations

from tests.promql import matched_labels, metric_names


def test_names_inside_functions_aggregations_and_ranges_are_found() -> None:
    """Series under rate, sum by and histogram_quantile are found; the functions are not."""
    expr = "histogram_quantile(0.99, sum by (le, route) (rate(ivr_webhook_seconds_bucket[5m])))"
    assert metric_names(expr) == {"ivr_webhook_seconds_bucket"}


def test_a_misspelled_metric_is_reported_as_named() -> None:
    """A typo is a name like any other, so the comparison with /metrics catches it."""
    assert metric_names('sum(increase(ivr_safety_net_answer_total{reason="redis"}[5m])) > 0') == {
        "ivr_safety_net_answer_total"
    }


def test_label_names_strings_keywords_and_grafana_variables_are_not_metrics() -> None:
    """Label names in matchers and groupings, string arguments, `and on()`, `or`, `bool`, durations
    and Grafana's $__rate_interval are not taken for series names."""
    expr = (
        'sum by (channel) (label_replace(rate(ivr_webhook_seconds_count[$__rate_interval]), "channel",'
        ' "$1", "route", "(sms|voice).*")) or vector(0) == bool 0 and on() hour() >= 13'
        " unless ignoring (instance) up offset 5m"
    )
    assert metric_names(expr) == {"ivr_webhook_seconds_count", "up"}


def test_several_series_in_one_expression_are_all_found() -> None:
    """Binary operations between series name each side."""
    expr = "sum(rate(ivr_redis_errors_total[1m])) / sum(rate(ivr_webhook_seconds_count[1m]))"
    assert metric_names(expr) == {"ivr_redis_errors_total", "ivr_webhook_seconds_count"}


def test_the_labels_a_selector_matches_on_are_found() -> None:
    """`name{a="x", b=~"y|z"}` matches on labels a and b of that series."""
    expr = 'sum(ivr_answers_total{answer=~"unclear|unsure", channel!="sms"}) + up{job="ivr"}'
    assert matched_labels(expr) == {"ivr_answers_total": {"answer", "channel"}, "up": {"job"}}
