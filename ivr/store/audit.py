"""The outcome audit: a record per finished or abandoned triage, in a Redis Stream with a retention window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.core.flow import Flow
from ivr.core.session import Session, encode_answers, record_heard
from ivr.store.connect import AnyRedis

STREAM = "ivr:audit"
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a clinical lead may count: nothing that identifies a person but a keyed hash."""

    ts_ms: int
    channel: str
    lang: str
    flow: str
    version: str
    digest: str
    outcome: str  # emergency, appointment, safety, or abandoned
    answers: str  # "breathing=n,fainting=y": the questions answered, and how
    duration_s: int
    caller: str  # keyed hash of the caller's number (IVR_HASH_KEY)
    # Every reply taken as an answer or a miss, in order, as question=class:how; classes: y yes, n no,
    # u unsure, x not understood, c a faint spoken no awaiting the keypad, e an emergency, g an urgent
    # sign, s a crisis; how: k a key, r a rule, m87 the answer model at a probability of 0.87.
    heard: str = ""

    def fields(self) -> dict[str, str]:
        """The record as stream fields (the entry id carries the time)."""
        return {
            "channel": self.channel,
            "lang": self.lang,
            "flow": self.flow,
            "version": self.version,
            "digest": self.digest,
            "outcome": self.outcome,
            "answers": self.answers,
            "duration_s": str(self.duration_s),
            "caller": self.caller,
            "heard": self.heard,
        }

    @classmethod
    def from_entry(cls, entry_id: str, fields: Mapping[str, str]) -> AuditRecord:
        """A record from a stream entry's id and fields."""
        return cls(
            ts_ms=int(entry_id.split("-", maxsplit=1)[0]),
            channel=fields["channel"],
            lang=fields["lang"],
            flow=fields["flow"],
            version=fields["version"],
            digest=fields["digest"],
            outcome=fields["outcome"],
            answers=fields["answers"],
            duration_s=int(fields["duration_s"]),
            caller=fields["caller"],
            heard=fields.get("heard", ""),
        )

    @property
    def yes_answers(self) -> list[str]:
        """The questions answered yes."""
        return [item.split("=")[0] for item in self.answers.split(",") if item.endswith("=y")]


def record_for(flow: Flow, session: Session, outcome: str, caller: str, now: float) -> AuditRecord:
    """The audit record of a finished (or abandoned) conversation."""
    answers = encode_answers(session.answers)
    return AuditRecord(
        ts_ms=int(now * 1000),
        channel=session.channel,
        lang=session.lang,
        flow=flow.id,
        version=flow.version,
        digest=flow.digest,
        outcome=outcome,
        answers=answers,
        duration_s=max(0, int(now) - session.started),
        caller=caller,
        heard=record_heard(session.heard, session.how),
    )


class AuditLog:
    """Appends to and reads the audit stream. Old entries are trimmed by MINID as new ones arrive,
    and the stream itself expires if nothing is added for a whole retention window."""

    def __init__(self, redis: AnyRedis, retention_days: int) -> None:
        self.redis = redis
        self.retention_ms = retention_days * DAY_MS

    async def append(self, record: AuditRecord) -> None:
        """Add one record, trimming what is older than the retention window."""
        oldest = max(0, record.ts_ms - self.retention_ms)
        async with self.redis.pipeline(transaction=True) as pipe:
            # The clients disagree on the fields' type (redis-py: dict[FieldT, EncodableT]; glide:
            # dict[str, str]) and dict is invariant, so no one type satisfies both.
            pipe.xadd(STREAM, record.fields(), minid=oldest, approximate=False)  # type: ignore[arg-type]
            pipe.pexpire(STREAM, self.retention_ms)
            await pipe.execute()

    async def read(
        self, since_ms: int = 0, until_ms: int | None = None, batch: int = 1000
    ) -> list[AuditRecord]:
        """Records between two times (milliseconds since the epoch), oldest first."""
        records: list[AuditRecord] = []
        start = str(since_ms)
        end = "+" if until_ms is None else str(until_ms)
        while True:
            entries = await self.redis.xrange(STREAM, min=start, max=end, count=batch) or []
            for entry_id, fields in entries:
                decoded = {_text(k): _text(v) for k, v in (fields or {}).items()}
                records.append(AuditRecord.from_entry(_text(entry_id), decoded))
            if len(entries) < batch:
                return records
            start = "(" + _text(entries[-1][0])


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
