"""The flow model: questions, outcomes and texts, loaded from data and validated (all errors at once)."""

from __future__ import annotations

import hashlib
import json
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from ivr.core.answers import Vocabulary
from ivr.core.emergency import EmergencyPhrases
from ivr.core.language import LanguageCues
from ivr.core.words import fold

SPEC_VERSION = 1
OUTCOME_KINDS = ("emergency", "appointment", "safety")
OutcomeKind = Literal["emergency", "appointment", "safety"]
PLACEHOLDERS = frozenset({"emergency", "booking_url"})

# Every text the renderers need besides questions and outcomes; a flow must define each one
# in every language it declares, so no channel can fall back to silence or to another language.
REQUIRED_TEXTS = (
    "intro",  # first thing said in every conversation: what this is, and 911 in an emergency
    "language_menu",  # on a call, how to pick this language by key (must name key 1, 2... in order)
    "sms_answer_hint",  # how to answer by text
    "voice_answer_hint",  # how to answer on a call, by voice or keypad
    "confirm_by_key",  # asking for a keypad answer when a spoken no was not heard clearly
    "not_understood",  # an SMS reply that is neither yes nor no
    "no_input",  # a caller who said or pressed nothing
    "wrong_key",  # a caller who pressed a key that is not an answer
    "safety_net",  # what anyone gets when the service itself fails
    "help",  # the answer to HELP or INFO: the 911 notice, what the line is, how to stop messages
    "opted_in",  # the answer to START or UNSTOP after an opt-out
    "rate_limited",  # the one reply before a sender who sends too many texts is paused
    "nurse_offer",  # when NURSE_NUMBER is set: added to the intro (calls) and the help text (texts)
    "nurse_connecting",  # said before a call is put through to the nurse
    "nurse_unavailable",  # said when the nurse did not answer, before the question is asked again
)
WORD_LISTS = ("yes", "no", "switch", "markers", "emergency", "negations", "clause_breaks")


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """One reason a flow cannot be loaded: where in the file, in which language, and what."""

    where: str
    message: str
    lang: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class FlowError(Exception):
    """A flow file that cannot be served; `problems` lists every reason at once."""

    def __init__(self, source: str, problems: list[LoadProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Wording:
    """One piece of text in every language: parts to read, and optionally other parts to speak."""

    written: Mapping[str, tuple[str, ...]]
    spoken: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def parts(self, lang: str, *, voice: bool) -> tuple[str, ...]:
        """The parts for a language and channel; voice falls back to the written parts."""
        if voice and lang in self.spoken:
            return self.spoken[lang]
        return self.written[lang]

    def text(self, lang: str, *, voice: bool) -> str:
        """All parts joined into one passage."""
        return " ".join(self.parts(lang, voice=voice))


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no question; `yes` and `no` name the node that comes next."""

    id: str
    wording: Wording
    yes: str
    no: str
    red_flag: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a conversation ends; `booking` is added after the first part when a link is set."""

    id: str
    kind: OutcomeKind
    wording: Wording
    booking: Wording | None = None


@dataclass(frozen=True, slots=True)
class Words:
    """How people answer in one language: folded words and phrases (see ivr.words.fold)."""

    yes: frozenset[str]
    no: frozenset[str]
    switch: frozenset[str]
    markers: frozenset[str]
    emergency: tuple[str, ...]
    negations: frozenset[str]
    clause_breaks: frozenset[str]


@dataclass(frozen=True, slots=True)
class Limits:
    """How many times a question is asked again before the safety outcome, per channel."""

    sms_retries: int = 1
    voice_retries: int = 2
    max_turns: int = 60


@dataclass(frozen=True, slots=True)
class Flow:
    """A whole, validated flow. `digest` identifies its exact clinical content."""

    id: str
    version: str
    title: str
    languages: tuple[str, ...]
    start: str
    questions: Mapping[str, Question]
    outcomes: Mapping[str, Outcome]
    texts: Mapping[str, Wording]
    words: Mapping[str, Words]
    limits: Limits
    digest: str
    source: Mapping[str, Any]
    vocabulary: Vocabulary
    emergency_phrases: EmergencyPhrases
    cues: LanguageCues

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def emergency_phrases_of(self, lang: str) -> tuple[str, ...]:
        """One language's emergency phrases as the flow lists them (folded), e.g. for speech hints."""
        return self.words[lang].emergency

    def node_ids(self) -> set[str]:
        return set(self.questions) | set(self.outcomes)

    def outcome_of_kind(self, kind: OutcomeKind) -> Outcome:
        for outcome in self.outcomes.values():
            if outcome.kind == kind:
                return outcome
        raise KeyError(kind)  # unreachable for a validated flow

    def question_order(self) -> list[str]:
        """Questions in the order a caller who answers no to everything meets them."""
        order: list[str] = []
        node = self.start
        while node in self.questions and node not in order:
            order.append(node)
            node = self.questions[node].no
        order.extend(q for q in self.questions if q not in order)
        return order

    def bind(self, *, emergency_number: str, booking_url: str | None) -> Flow:
        """The same flow with placeholders filled in from configuration."""
        values = {"emergency": emergency_number, "booking_url": booking_url or ""}

        def fill(wording: Wording) -> Wording:
            return Wording(
                written={k: tuple(p.format_map(values) for p in v) for k, v in wording.written.items()},
                spoken={k: tuple(p.format_map(values) for p in v) for k, v in wording.spoken.items()},
            )

        return Flow(
            id=self.id,
            version=self.version,
            title=self.title,
            languages=self.languages,
            start=self.start,
            questions={
                k: Question(q.id, fill(q.wording), q.yes, q.no, q.red_flag) for k, q in self.questions.items()
            },
            outcomes={
                k: Outcome(
                    o.id,
                    o.kind,
                    fill(o.wording),
                    fill(o.booking) if o.booking is not None and booking_url else None,
                )
                for k, o in self.outcomes.items()
            },
            texts={k: fill(w) for k, w in self.texts.items()},
            words=self.words,
            limits=self.limits,
            digest=self.digest,
            source=self.source,
            vocabulary=self.vocabulary,
            emergency_phrases=self.emergency_phrases,
            cues=self.cues,
        )


def content_digest(data: Mapping[str, Any]) -> str:
    """A short hash of the parsed flow, so comments and layout do not change a flow's identity."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_flow(path: Path) -> Flow:
    """Read and validate one flow file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FlowError(str(path), [LoadProblem("file", f"cannot read: {exc}")]) from exc
    return parse_flow(data, source=str(path))


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every flow in a directory, by id; errors from all files are reported together."""
    flows: dict[str, Flow] = {}
    problems: list[LoadProblem] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            flow = load_flow(path)
        except FlowError as exc:
            problems.extend(LoadProblem(f"{path.name}: {p.where}", p.message, p.lang) for p in exc.problems)
            continue
        if flow.id in flows:
            problems.append(LoadProblem(f"{path.name}: id", f"flow id {flow.id!r} is used by another file"))
        flows[flow.id] = flow
    if problems:
        raise FlowError(str(directory), problems)
    if not flows:
        raise FlowError(str(directory), [LoadProblem("directory", "no flow files (*.toml) found")])
    return flows


def parse_flow(data: Mapping[str, Any], *, source: str = "<flow>") -> Flow:
    """Build a Flow from parsed data, or raise FlowError listing every problem found."""
    return _Parser(data, source).parse()


class _Parser:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.problems: list[LoadProblem] = []
        self.languages: tuple[str, ...] = ()

    def problem(self, where: str, message: str, lang: str | None = None) -> None:
        self.problems.append(LoadProblem(where, message, lang))

    def parse(self) -> Flow:
        data = self.data
        if data.get("spec") != SPEC_VERSION:
            self.problem("spec", f"must be {SPEC_VERSION}, found {data.get('spec')!r}")
        flow_id = self._string(data, "id", "id")
        version = self._string(data, "version", "version")
        title = self._string(data, "title", "title")
        self.languages = self._languages(data.get("languages"))
        start = self._string(data, "start", "start")
        limits = self._limits(data.get("limits", {}))

        questions = {
            qid: q
            for qid, raw in self._table(data, "questions").items()
            if (q := self._question(qid, raw)) is not None
        }
        outcomes = {
            oid: o
            for oid, raw in self._table(data, "outcomes").items()
            if (o := self._outcome(oid, raw)) is not None
        }
        raw_texts = self._table(data, "text")
        texts = {
            tid: w for tid, raw in raw_texts.items() if (w := self._wording(f"text.{tid}", raw)) is not None
        }
        for tid in REQUIRED_TEXTS:
            if tid not in raw_texts:
                self.problem(f"text.{tid}", "missing")
        words = self._words(data.get("words"))

        self._check_links(start, questions, outcomes)
        if self.problems:
            raise FlowError(self.source, self.problems)
        return Flow(
            id=flow_id,
            version=version,
            title=title,
            languages=self.languages,
            start=start,
            questions=questions,
            outcomes=outcomes,
            texts=texts,
            words=words,
            limits=limits,
            digest=content_digest(data),
            source=data,
            vocabulary=Vocabulary.merge((w.yes, w.no) for w in words.values()),
            emergency_phrases=EmergencyPhrases.merge(
                (lang, w.emergency, w.negations, w.clause_breaks) for lang, w in words.items()
            ),
            cues=LanguageCues(
                switch={lang: w.switch for lang, w in words.items()},
                markers={lang: w.markers for lang, w in words.items()},
            ),
        )

    def _string(self, raw: Mapping[str, Any], key: str, where: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(where, "must be a non-empty string")
            return ""
        return value

    def _table(self, raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = raw.get(key)
        if not isinstance(value, Mapping) or not value:
            self.problem(key, "must be a non-empty table")
            return {}
        return cast(Mapping[str, Any], value)

    def _languages(self, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
            self.problem("languages", "must be a non-empty list of language codes, e.g. ['en']")
            return ()
        if len(set(raw)) != len(raw):
            self.problem("languages", "lists a language twice")
        return tuple(raw)

    def _limits(self, raw: Any) -> Limits:
        defaults = Limits()
        if not isinstance(raw, Mapping):
            self.problem("limits", "must be a table")
            return defaults
        values: dict[str, int] = {}
        for key in ("sms_retries", "voice_retries", "max_turns"):
            value = raw.get(key, getattr(defaults, key))
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                self.problem(f"limits.{key}", "must be a whole number from 0 to 100")
                value = getattr(defaults, key)
            values[key] = value
        for key in raw:
            if key not in values:
                self.problem(f"limits.{key}", "unknown setting")
        return Limits(**values)

    def _parts(self, where: str, raw: Any) -> dict[str, tuple[str, ...]] | None:
        if not isinstance(raw, Mapping):
            self.problem(where, "must be a table of languages")
            return None
        parts: dict[str, tuple[str, ...]] = {}
        for lang, value in raw.items():
            if lang not in self.languages:
                self.problem(f"{where}.{lang}", "language is not declared in `languages`", lang)
                continue
            items = [value] if isinstance(value, str) else value
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(p, str) and p.strip() for p in items)
            ):
                self.problem(f"{where}.{lang}", "must be a non-empty string or list of strings", lang)
                continue
            for part in items:
                self._placeholders(f"{where}.{lang}", part, lang)
            parts[lang] = tuple(p.strip() for p in items)
        return parts

    def _placeholders(self, where: str, text: str, lang: str) -> None:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            self.problem(where, f"bad placeholder: {exc}", lang)
            return
        for name in names - PLACEHOLDERS:
            self.problem(where, f"unknown placeholder {{{name}}}", lang)

    def _wording(self, where: str, raw: Any) -> Wording | None:
        if not isinstance(raw, Mapping):
            self.problem(where, "must be a table")
            return None
        raw = dict(raw)
        spoken_raw = raw.pop("voice", {})
        written = self._parts(where, raw)
        spoken = self._parts(f"{where}.voice", spoken_raw)
        if written is None or spoken is None:
            return None
        for lang in self.languages:
            if lang not in written:
                self.problem(f"{where}.{lang}", "missing", lang)
        if any(lang not in written for lang in self.languages):
            return None
        return Wording(written=written, spoken=spoken)

    def _words(self, raw: Any) -> dict[str, Words]:
        if not isinstance(raw, Mapping):
            self.problem("words", "must be a table with one entry per language")
            return {}
        result: dict[str, Words] = {}
        for lang in raw:
            if lang not in self.languages:
                self.problem(f"words.{lang}", "language is not declared in `languages`", lang)
        for lang in self.languages:
            table = raw.get(lang)
            if not isinstance(table, Mapping):
                self.problem(f"words.{lang}", "missing", lang)
                continue
            lists: dict[str, list[str]] = {}
            for name in WORD_LISTS:
                value = table.get(name)
                if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
                    self.problem(f"words.{lang}.{name}", "must be a non-empty list of words", lang)
                    value = []
                lists[name] = [fold(w) for w in value if fold(w)]
            for name in set(table) - set(WORD_LISTS):
                self.problem(f"words.{lang}.{name}", "unknown list", lang)
            result[lang] = Words(
                yes=frozenset(lists["yes"]),
                no=frozenset(lists["no"]),
                switch=frozenset(lists["switch"]),
                markers=frozenset(lists["markers"]),
                emergency=tuple(lists["emergency"]),
                negations=frozenset(lists["negations"]),
                clause_breaks=frozenset(lists["clause_breaks"]),
            )
        return result

    def _question(self, qid: str, raw: Any) -> Question | None:
        where = f"questions.{qid}"
        if not isinstance(raw, Mapping):
            self.problem(where, "must be a table")
            return None
        known = {"text", "yes", "no", "red_flag"}
        for key in set(raw) - known:
            self.problem(f"{where}.{key}", "unknown field")
        wording = self._wording(f"{where}.text", raw.get("text"))
        yes = self._string(raw, "yes", f"{where}.yes")
        no = self._string(raw, "no", f"{where}.no")
        red_flag = raw.get("red_flag", False)
        if not isinstance(red_flag, bool):
            self.problem(f"{where}.red_flag", "must be true or false")
            red_flag = False
        if wording is None:
            return None
        return Question(qid, wording, yes, no, red_flag)

    def _outcome(self, oid: str, raw: Any) -> Outcome | None:
        where = f"outcomes.{oid}"
        if not isinstance(raw, Mapping):
            self.problem(where, "must be a table")
            return None
        for key in set(raw) - {"kind", "text", "booking"}:
            self.problem(f"{where}.{key}", "unknown field")
        kind = raw.get("kind")
        if kind not in OUTCOME_KINDS:
            self.problem(f"{where}.kind", f"must be one of {', '.join(OUTCOME_KINDS)}")
        wording = self._wording(f"{where}.text", raw.get("text"))
        booking = None
        if "booking" in raw:
            booking = self._wording(f"{where}.booking", raw["booking"])
        if wording is None or kind not in OUTCOME_KINDS:
            return None
        return Outcome(oid, cast(OutcomeKind, kind), wording, booking)

    def _check_links(
        self, start: str, questions: Mapping[str, Question], outcomes: Mapping[str, Outcome]
    ) -> None:
        raw_questions = self.data.get("questions")
        raw_outcomes = self.data.get("outcomes")
        known = set(raw_questions if isinstance(raw_questions, Mapping) else ()) | set(
            raw_outcomes if isinstance(raw_outcomes, Mapping) else ()
        )
        for clash in set(questions) & set(outcomes):
            self.problem(clash, "is both a question and an outcome")
        if start and start not in questions:
            self.problem("start", f"{start!r} is not a question")
        for q in questions.values():
            for answer, target in (("yes", q.yes), ("no", q.no)):
                if target and target not in known:
                    self.problem(f"questions.{q.id}.{answer}", f"{target!r} is not a node")
        for kind in OUTCOME_KINDS:
            count = sum(1 for o in outcomes.values() if o.kind == kind)
            if count == 0 and raw_outcomes:
                self.problem("outcomes", f"needs an outcome of kind {kind!r}")
            if count > 1 and kind == "safety":
                self.problem("outcomes", "has more than one outcome of kind 'safety'")
