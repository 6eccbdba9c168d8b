"""The benchmark itself works: a seconds-long run produces every figure, and every reply was right.

It checks that the numbers are produced and sane, never that they are fast (speed is measured by
`ivr bench` on a quiet machine, not by a test).
"""

from __future__ import annotations

import pytest

from ivr.bench.run import Plan, run

pytestmark = pytest.mark.redis


def test_a_short_benchmark_produces_every_figure() -> None:
    plan = Plan(duration=1.0, connections=4, populations=(200,), workers=(1,))
    results = run(plan).to_json()

    bare, line = results["runs"]
    assert (bare["target"], line["target"]) == ("bare", "line")
    for figures in (bare, line):
        assert figures["requests"] > 0
        assert figures["throughput_rps"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["server_cpu_us_per_request"] > 0
        assert figures["failed_requests"] == 0
    # The line's every reply was checked byte for byte against what the flow must answer.
    assert line["wrong_replies"] == 0
    assert line["conversations_completed"] > 0
    assert line["active_conversations"] == 200
    # At least the one script call per webhook; nothing the benchmark itself sends is counted.
    assert line["redis_script_calls_per_webhook"] >= 1
    # Round trips are the batches Redis read: concurrent webhooks' commands share them (valkey-glide
    # pipelines them on one connection), so there may be fewer than one per webhook, never many more.
    assert 0 < line["redis_round_trips_per_webhook"] <= 1.5
    assert "info" not in line["redis_commands"]
    memory = line["memory_by_conversation_state"]
    assert memory["finished"]["conversations"] > 0
    assert line["bytes_per_idle_session"] > 0
    assert results["ratios"]["throughput_line_over_bare_1w"] > 0
    assert results["machine"]["cpus"]
