"""What operators see: a whole conversation shows up in /metrics, in the audit stream, in `ivr report`
(all three formats), and in JSON logs carrying a request id and the SIDs, never a number."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.ops.logs import JsonFormatter
from ivr.simulator.twilio_sim import TwilioSimulator
from ivr.store.audit import STREAM, AuditLog, AuditRecord
from tests.conftest import redis_test_url
from tests.support import OUR_NUMBER, no_path, shipped_flow

FLOW = shipped_flow()
TEXTER = "+15550811111"
CALLER = "+15550822222"


async def _one_of_each(twilio: TwilioSimulator) -> None:
    """A text conversation to the emergency outcome, a call to the appointment, a call abandoned."""
    await twilio.text("hi", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("no", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("yes", sender=TEXTER, to=OUR_NUMBER)
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.press("9")
    for _ in no_path(FLOW):
        await call.press("2")
    await call.hang_up("completed")
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.hang_up("completed")


async def test_a_conversation_shows_in_metrics(twilio: TwilioSimulator) -> None:
    """Latency per endpoint, outcomes by channel, language and outcome, answers by question, starts,
    and abandoned calls."""
    await _one_of_each(twilio)
    metrics = (await twilio.client.get("/metrics")).text
    assert 'ivr_triage_outcomes_total{channel="sms",lang="en",outcome="emergency"} 1.0' in metrics
    assert 'ivr_triage_outcomes_total{channel="voice",lang="es",outcome="appointment"} 1.0' in metrics
    assert 'ivr_conversations_started_total{channel="sms",lang="en"} 1.0' in metrics
    assert "ivr_calls_abandoned_total 1.0" in metrics
    assert 'ivr_answers_total{answer="no",channel="sms",question="breathing"} 1.0' in metrics
    assert 'ivr_answers_total{answer="yes",channel="sms",question="swallowing"} 1.0' in metrics
    assert 'ivr_answers_total{answer="no",channel="voice",question="onset"} 1.0' in metrics
    assert f'ivr_answers_total{{answer="no",channel="voice",question="{no_path(FLOW)[-1]}"}} 1.0' in metrics
    assert 'ivr_webhook_seconds_count{route="sms"} 3.0' in metrics
    assert 'ivr_webhook_seconds_bucket{le="0.1",route="voice_gather"}' in metrics
    assert "ivr_safety_net_answers_total" in metrics
    assert TEXTER.lstrip("+") not in metrics


async def test_each_finished_or_abandoned_triage_appends_one_audit_record(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Three conversations, three records: channel, language, flow version, outcome, answers,
    duration and the caller's keyed hash; the stream expires like every key."""
    await _one_of_each(twilio)
    records = await AuditLog(redis, 90).read()
    assert [(r.channel, r.lang, r.outcome) for r in records] == [
        ("sms", "en", "emergency"),
        ("voice", "es", "appointment"),
        ("voice", "en", "abandoned"),
    ]
    first = records[0]
    assert first.answers == "breathing=n,swallowing=y"
    assert first.heard == "breathing=n:r,swallowing=y:r"  # each reply taken by rule: an exact answer
    assert (first.flow, first.version, first.digest) == (FLOW.id, FLOW.version, FLOW.digest)
    assert len(first.caller) == 22
    assert records[1].caller != first.caller
    assert records[2].answers == ""
    assert 0 <= first.duration_s < 60
    assert 89 * 86400 < await redis.ttl(STREAM) <= 90 * 86400
    raw = json.dumps([r.fields() for r in records])
    assert TEXTER.lstrip("+") not in raw
    assert CALLER.lstrip("+") not in raw


async def test_old_records_are_trimmed_by_minid(redis: Redis) -> None:
    """Appending trims every entry older than the retention window."""
    audit = AuditLog(redis, retention_days=1)
    now_ms = int(time.time() * 1000)
    old = AuditRecord(now_ms - 2 * 86_400_000, "sms", "en", "f", "1", "d", "appointment", "", 1, "c" * 22)
    await redis.xadd(STREAM, dict(old.fields()), id=f"{old.ts_ms}-0")  # type: ignore[arg-type]
    new = AuditRecord(now_ms, "sms", "en", "f", "1", "d", "emergency", "a=y", 1, "c" * 22)
    await audit.append(new)
    assert [r.outcome for r in await audit.read()] == ["emergency"]


async def test_the_report_in_three_formats(
    twilio: TwilioSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ivr report` prints a table, writes CSV and a self-contained HTML page with a chart."""
    await _one_of_each(twilio)
    monkeypatch.setenv("REDIS_URL", redis_test_url())
    monkeypatch.chdir(tmp_path)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert await asyncio.to_thread(main, ["report", "--since", today, "--until", today]) == 0
    table = capsys.readouterr().out
    assert "conversations        3" in table
    assert "emergencies          1 (50.0% of outcomes)" in table
    assert "abandoned calls      1" in table
    assert "most common yes      swallowing (1)" in table
    assert "  breathing" in table
    assert "Time to an outcome" in table

    assert await asyncio.to_thread(main, ["report", "--format", "csv", "--out", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    outcomes = [r for r in rows if r["section"] == "outcomes"]
    assert {(r["channel"], r["language"], r["outcome"], r["value"]) for r in outcomes} == {
        ("sms", "en", "emergency", "1"),
        ("voice", "es", "appointment", "1"),
        ("voice", "en", "abandoned", "1"),
    }
    per_question = {(r["question"], r["measure"]): r["value"] for r in rows if r["section"] == "questions"}
    assert per_question[("breathing", "reached")] == "2"
    assert per_question[("breathing", "no")] == "2"
    assert per_question[("swallowing", "yes")] == "1"
    assert per_question[("onset", "reached")] == "1"
    timing = {(r["outcome"], r["measure"]): r["value"] for r in rows if r["section"] == "time_to_outcome"}
    assert timing[("all", "conversations")] == "2"
    assert (
        await asyncio.to_thread(main, ["report", "--format", "html", "--out", str(tmp_path / "r.html")]) == 0
    )
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 2
    assert "Replies per question" in page
    assert "<script" not in page
    assert 'src="http' not in page


def test_the_report_refuses_to_run_without_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without REDIS_URL the report says what it needs."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "set REDIS_URL" in capsys.readouterr().err


async def test_logs_are_json_with_a_request_id_and_sids_only(
    twilio: TwilioSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Log lines the app writes are JSON with the request id and Twilio SIDs, and no phone number."""
    caplog.set_level(logging.DEBUG, logger="ivr")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ivr")
    logger.addHandler(handler)
    try:
        call = twilio.call(caller=CALLER, to=OUR_NUMBER)
        await call.start()
        await call.hang_up("completed")
        response = await twilio.client.post(
            "/sms",
            content=b"From=x",
            headers={"content-type": "application/x-www-form-urlencoded", "x-request-id": "req-123"},
        )
        assert response.headers["x-request-id"] == "req-123"
    finally:
        logger.removeHandler(handler)
    parsed = [json.loads(line) for line in lines]
    abandoned = next(p for p in parsed if p["msg"] == "call ended before an outcome")
    assert abandoned["call_sid"] == call.sid[:10]  # cut short: enough to find the call
    assert len(abandoned["request_id"]) == 32
    refused = next(p for p in parsed if p["msg"] == "webhook refused: bad signature")
    assert refused["request_id"] == "req-123"
    assert not any(CALLER.lstrip("+") in line for line in lines)


async def test_a_malformed_sid_is_logged_as_malformed_not_verbatim(
    twilio: TwilioSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A signed webhook with a 50,000-character MessageSid: its log line says "malformed", short."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ivr")
    logger.addHandler(handler)
    try:
        params = {"From": CALLER, "To": OUR_NUMBER, "Body": "hi", "MessageSid": "SM" + "f" * 50_000}
        assert (await twilio.post("/sms", params)).status_code == 200
    finally:
        logger.removeHandler(handler)
    [line] = [json.loads(x) for x in lines if "malformed webhook" in x]
    assert line["message_sid"] == "malformed"
    assert max(len(x) for x in lines) < 1000


def test_the_formatter_drops_fields_it_does_not_know() -> None:
    """Only listed fields reach a log line: an accidental `extra={"body": ...}` is dropped."""
    record = logging.LogRecord("ivr.x", logging.INFO, __file__, 1, "hello", None, None)
    record.__dict__.update(body="my arm is numb", route="sms", From=TEXTER)
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "sms"
    assert "body" not in line
    assert "From" not in line


async def test_a_healthy_line_shows_ready_with_the_breaker_closed(twilio: TwilioSimulator) -> None:
    """With Redis answering: ready 1, the circuit breaker closed and never opened."""
    await twilio.text("hi", sender=TEXTER, to=OUR_NUMBER)
    metrics = (await twilio.client.get("/metrics")).text
    assert "\nivr_ready 1.0\n" in metrics
    assert "\nivr_redis_circuit_open 0.0\n" in metrics
    assert "\nivr_redis_circuit_opens_total 0.0\n" in metrics


async def test_how_every_reply_was_taken_reaches_the_metrics_and_the_audit_record(
    twilio: TwilioSimulator, redis: Redis
) -> None:
    """Misses, faint noes, answers and doubt, in order, per question: counted by class (unsure among
    them) and written to the audit record's `heard` with how each was decided (k a key, r a rule,
    m and a probability the answer model, - nothing said), with no personal data; the metrics count
    the decisions by who made them."""
    call = twilio.call(caller=CALLER, to=OUR_NUMBER)
    await call.start()
    await call.silence()
    await call.say("No.", confidence=0.2)
    await call.press("2")
    await call.say("I'm not sure.", confidence=0.9)
    await twilio.text("hi", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("what?", sender=TEXTER, to=OUR_NUMBER)
    await twilio.text("kinda", sender=TEXTER, to=OUR_NUMBER)
    records = await AuditLog(redis, 90).read()
    assert [(r.channel, r.outcome) for r in records] == [("voice", "unsure"), ("sms", "emergency")]
    voice_heard, text_heard = records[0].heard.split(","), records[1].heard.split(",")
    assert voice_heard[:3] == ["breathing=x:-", "breathing=c:r", "breathing=n:k"]
    assert voice_heard[3].startswith("swallowing=u:m")  # "I'm not sure.", read by the answer model
    assert int(voice_heard[3].rsplit("m", 1)[1]) >= 50
    assert text_heard[0].startswith("breathing=x:")
    assert text_heard[1] == "breathing=y:r"  # "kinda" is one of the flow's exact answers
    assert records[0].answers == "breathing=n"
    metrics = (await twilio.client.get("/metrics")).text
    for answer, channel, question in (
        ("unclear", "voice", "breathing"),
        ("unconfirmed", "voice", "breathing"),
        ("no", "voice", "breathing"),
        ("unsure", "voice", "swallowing"),
        ("unclear", "sms", "breathing"),
        ("yes", "sms", "breathing"),
    ):
        assert (
            f'ivr_answers_total{{answer="{answer}",channel="{channel}",question="{question}"}} 1.0' in metrics
        )
    for decided_by, at_least in (("key", 1), ("rule", 2), ("model", 1)):
        counts = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("ivr_answer_readings_total{") and f'decided_by="{decided_by}"' in line
        ]
        assert sum(counts) >= at_least, decided_by
    assert "ivr_answer_model_probability_bucket" in metrics
