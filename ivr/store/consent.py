"""Consent to a follow-up text, as given on a call: one record per caller who asked, in a Redis Stream
with a retention window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.store.connect import AnyRedis

STREAM = "ivr:consent"
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """Who asked (a keyed hash of the number, never the number), when, for what, and in answer to
    which words: the offer is a flow text, and the flow's digest pins the exact wording heard."""

    ts_ms: int
    channel: str  # where it was given: "voice"
    lang: str
    flow: str
    version: str
    digest: str
    offer: str  # the flow text that asked ("followup_offer")
    outcome: str  # the kind of outcome whose advice was asked for (appointment, today)
    caller: str  # keyed hash of the caller's number (IVR_HASH_KEY), as in the audit records

    def fields(self) -> dict[str, str]:
        """The record as stream fields (the entry id carries the time)."""
        return {
            "channel": self.channel,
            "lang": self.lang,
            "flow": self.flow,
            "version": self.version,
            "digest": self.digest,
            "offer": self.offer,
            "outcome": self.outcome,
            "caller": self.caller,
        }

    @classmethod
    def from_entry(cls, entry_id: str, fields: Mapping[str, str]) -> ConsentRecord:
        """A record from a stream entry's id and fields."""
        return cls(ts_ms=int(entry_id.split("-", maxsplit=1)[0]), **{k: fields[k] for k in _FIELDS})


_FIELDS = ("channel", "lang", "flow", "version", "digest", "offer", "outcome", "caller")


class ConsentLog:
    """Appends to and reads the consent stream; entries older than the retention window are trimmed
    as new ones arrive, and the stream expires if nothing is added for a whole window."""

    def __init__(self, redis: AnyRedis, retention_days: int) -> None:
        self.redis = redis
        self.retention_ms = retention_days * DAY_MS

    async def append(self, record: ConsentRecord) -> None:
        """Add one record, trimming what is older than the retention window."""
        oldest = max(0, record.ts_ms - self.retention_ms)
        async with self.redis.pipeline(transaction=True) as pipe:
            # The clients disagree on the fields' type (redis-py: dict[FieldT, EncodableT]; glide:
            # dict[str, str]) and dict is invariant, so no one type satisfies both.
            pipe.xadd(STREAM, record.fields(), minid=oldest, approximate=False)  # type: ignore[arg-type]
            pipe.pexpire(STREAM, self.retention_ms)
            await pipe.execute()

    async def read(self) -> list[ConsentRecord]:
        """Every record kept, oldest first."""
        entries = await self.redis.xrange(STREAM, min="-", max="+") or []
        return [
            ConsentRecord.from_entry(_text(entry_id), {_text(k): _text(v) for k, v in (fields or {}).items()})
            for entry_id, fields in entries
        ]


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
