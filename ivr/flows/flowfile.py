"""Reading flow files: TOML (or archived JSON) validated with pydantic into the core flow model.

Every problem is reported at once, each with its place in the file and a rule name the checker
shows: one bad question does not hide a bad outcome, because each table is validated on its own.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import string
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ivr.core.answer_model import AnswerModel, digest_of
from ivr.core.answers import ANSWER_KEYS
from ivr.core.emergency import parse_pattern
from ivr.core.engine import HANDOFF_KEY
from ivr.core.flow import (
    OUTCOME_KINDS,
    PLACEHOLDERS,
    REQUIRED_KINDS,
    REQUIRED_TEXTS,
    SPEC_VERSION,
    AnswerWords,
    CallLanguage,
    Flow,
    Limits,
    Outcome,
    OutcomeKind,
    Question,
    Wording,
    Words,
    compose,
)


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """One reason a flow cannot be loaded: where in the file, in which language, what, and the
    rule it breaks (`structure`, `missing-text`, `placeholder`, `phrase`, `link`,
    `call-language-key`)."""

    where: str
    message: str
    lang: str | None = None
    rule: str = "structure"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class FlowError(Exception):
    """A flow file that cannot be served; `problems` lists every reason at once."""

    def __init__(self, source: str, problems: list[LoadProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


# ---- the file's shape ---------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, pattern=r"\S")]
NonEmpty = Annotated[list[Name], Field(min_length=1)]
Table = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Top(_Strict):
    spec: Literal[1]
    id: Name
    version: Name
    title: Name
    languages: Annotated[list[Name], Field(min_length=1)]
    start: Name
    limits: Table = Field(default_factory=dict)
    questions: Annotated[Table, Field(min_length=1)]
    outcomes: Annotated[Table, Field(min_length=1)]
    text: Annotated[Table, Field(min_length=1)]
    words: Table
    call_languages: Table = Field(default_factory=dict)
    # The answer model's weights file, relative to the flow file (ivr.core.answer_model).
    answer_model: Name | None = None
    # Checker problems the clinical lead has excused, "<rule> <node> <lang>" = "why" (ivr.authoring.checker).
    exceptions: dict[str, Name] = Field(default_factory=dict)


class _Question(_Strict):
    text: Any = None  # read by _wording, which knows the flow's languages
    yes: Name
    no: Name
    red_flag: bool = False
    phrases: dict[str, list[Name]] = Field(default_factory=dict)
    phrases_until_no: dict[str, list[Name]] = Field(default_factory=dict)
    phrases_if_lasting: dict[str, list[Name]] = Field(default_factory=dict)
    words: dict[str, Table] = Field(default_factory=dict)  # each read as an AnswerWords
    named: dict[str, list[Name]] = Field(default_factory=dict)


class _Outcome(_Strict):
    kind: Literal["emergency", "er_now", "today", "appointment", "safety", "unsure", "crisis"]
    text: Any = None
    booking: Any = None


# Keys that mean something at every question of a call, so no language may take them. Refused on
# load, not only by the checker: a flow served with such a key would take a 2 for a language.
KEYS_IN_USE = {**ANSWER_KEYS, HANDOFF_KEY: "the nurse's key"}


def _schema(
    record: type[Any], *, required: frozenset[str] = frozenset(), types: Mapping[str, Any] | None = None
) -> type[BaseModel]:
    """The file's shape of a core record, made from the record's own fields, so that a field added
    to the core model is a field of the file with nothing else to keep in step: a list of non-empty
    strings for a tuple of strings (at least one when it must be given), a whole number from 0 to 100 for
    an int, a non-empty string for a str, or the shape `types` gives; a field the record requires,
    or `required` names, must be in the file, and the others default as the record does."""
    hints = get_type_hints(record)
    shape: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        hint = hints[item.name]
        needed = item.name in required or item.default is dataclasses.MISSING
        if types is not None and item.name in types:
            annotation = types[item.name]
        elif hint == tuple[str, ...]:
            annotation = NonEmpty if needed else list[Name]
        elif hint is int:
            annotation = Annotated[int, Field(ge=0, le=100)]
        elif hint is str:
            annotation = Name
        else:
            raise TypeError(f"{record.__name__}.{item.name}: no file shape for {hint}")
        if needed:
            shape[item.name] = (annotation, ...)
        else:
            default = item.default
            shape[item.name] = (annotation, list(default) if isinstance(default, tuple) else default)
    model: type[BaseModel] = create_model(f"File{record.__name__}", __base__=_Strict, **shape)
    return model


def _record(record: type[R], read: BaseModel) -> R:
    """The core record a validated table describes (its lists as tuples)."""
    values = read.model_dump()
    return record(**{name: tuple(v) if isinstance(v, list) else v for name, v in values.items()})


_LIMITS = _schema(Limits)
_ANSWER_WORDS = _schema(AnswerWords)
_CALL_LANGUAGE = _schema(CallLanguage, types={"key": Annotated[str, Field(pattern=r"^[0-9]$")]})
# A language's words. Unsure may be empty so that flows written before it still load (the checker
# refuses a language without it).
_WORDS = _schema(Words, required=frozenset({"switch", "markers", "emergency", "negations", "clause_breaks"}))


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing"
    if error["loc"] and error["loc"][-1] == "key" and kind in ("string_type", "string_pattern_mismatch"):
        return 'must be one key of the keypad, in quotes: "0" to "9"'

    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("string_type", "string_too_short", "string_pattern_mismatch"):
        return "must be a non-empty string"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("int_type", "greater_than_equal", "less_than_equal"):
        return "must be a whole number from 0 to 100"
    if kind in ("list_type", "too_short") and error.get("ctx", {}).get("field_type") != "Dictionary":
        return "must be a non-empty list"
    if kind in ("dict_type", "too_short", "model_type"):
        return "must be a non-empty table"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"
    return str(error["msg"])


# ---- loading ------------------------------------------------------------------------------------


def load_flow(path: Path, *, with_model: bool = True) -> Flow:
    """Read and validate one flow file, with the answer model it names (unless `with_model` is
    False: to train that model)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FlowError(str(path), [LoadProblem("file", f"cannot read: {exc}")]) from exc
    flow = parse_flow(data, source=str(path))
    name = data.get("answer_model")
    if isinstance(name, str) and with_model:
        flow = flow.with_model(load_model(path.parent / name, source=str(path)))
    return flow


# Models already decoded, by the digest of their file: a weights file is tens of megabytes once
# decoded, and every app, reload and test that loads the same file shares one (none is changed).
_DECODED: dict[str, AnswerModel] = {}
_DECODED_KEPT = 4


def load_model(path: Path, *, source: str = "<flow>") -> AnswerModel:
    """Read an answer model's weights file; FlowError when it cannot be used."""
    try:
        raw = path.read_bytes()
        digest = digest_of(raw)
        if (model := _DECODED.get(digest)) is not None:
            return model
        model = AnswerModel.from_json(json.loads(raw), digest=digest)
        if len(_DECODED) >= _DECODED_KEPT:
            _DECODED.pop(next(iter(_DECODED)))
        _DECODED[digest] = model
        return model
    except (OSError, ValueError) as exc:
        raise FlowError(source, [LoadProblem("answer_model", f"cannot read {path.name}: {exc}")]) from exc


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every flow in a directory, by id; errors from all files are reported together."""
    flows: dict[str, Flow] = {}
    problems: list[LoadProblem] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            flow = load_flow(path)
        except FlowError as exc:
            problems.extend(
                LoadProblem(f"{path.name}: {p.where}", p.message, p.lang, p.rule) for p in exc.problems
            )
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
    """Build a Flow from parsed data (migrated forward first: see `migrate`), or raise FlowError
    listing every problem found."""
    return _Reader(migrate(data), source, original=data).read()


def migrate(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A flow written for an earlier version of the line, brought to this one (as goflow's
    MigrateToLatest does), so that a conversation archived on it finishes instead of starting
    again; the engine never branches on a flow's age. The digest stays that of the data as
    written. A flow of this version is returned as it is.

    - Questions' `about` words (read by the old word rules, which the answer model replaced) go.
    - The simple answer hints, asked for since 4.0, default to the ordinary ones.
    """
    questions = data.get("questions")
    texts = data.get("text")
    old_about = isinstance(questions, Mapping) and any(
        isinstance(q, Mapping)
        and isinstance(q.get("words"), Mapping)
        and any(isinstance(w, Mapping) and "about" in w for w in q["words"].values())
        for q in questions.values()
    )
    old_hints = isinstance(texts, Mapping) and any(
        f"{channel}_answer_hint" in texts and f"{channel}_answer_hint_simple" not in texts
        for channel in ("sms", "voice")
    )
    if not (old_about or old_hints):
        return data
    migrated = copy.deepcopy(dict(data))
    for question in migrated.get("questions", {}).values():
        for words in question.get("words", {}).values() if isinstance(question, dict) else ():
            if isinstance(words, dict):
                words.pop("about", None)
    text = migrated.get("text")
    if isinstance(text, dict):
        for channel in ("sms", "voice"):
            if f"{channel}_answer_hint" in text:
                text.setdefault(f"{channel}_answer_hint_simple", text[f"{channel}_answer_hint"])
    return migrated


class _Reader:
    def __init__(
        self, data: Mapping[str, Any], source: str, original: Mapping[str, Any] | None = None
    ) -> None:
        self.data = data
        self.source_data = data if original is None else original
        self.source = source
        self.problems: list[LoadProblem] = []
        self.languages: tuple[str, ...] = ()

    def problem(self, where: str, message: str, lang: str | None = None, rule: str = "structure") -> None:
        """Record a problem at a place in the file, under a rule the checker reports."""
        self.problems.append(LoadProblem(where, message, lang, rule))

    def model(self, model: type[M], raw: Any, where: str, lang: str | None = None) -> M | None:
        """Validate one table; its problems are recorded with their place, and None returned."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                place = ".".join([where, *(str(p) for p in error["loc"])]).strip(".")
                self.problem(place, _message(error), lang)
            return None

    def read(self) -> Flow:
        """The flow, or FlowError with every problem found."""
        data = self.data
        if data.get("spec") != SPEC_VERSION:
            self.problem("spec", f"must be {SPEC_VERSION}, found {data.get('spec')!r}")
        top = self.model(_Top, {**data, "spec": SPEC_VERSION}, "")
        if top is None:
            # Go on with what can be read, so every problem is reported at once.
            top = _Top.model_construct(
                id=_text(data.get("id")),
                version=_text(data.get("version")),
                title=_text(data.get("title")),
                languages=[x for x in data.get("languages") or [] if isinstance(x, str)]
                if isinstance(data.get("languages"), list)
                else [],
                start=_text(data.get("start")),
                limits=_table(data.get("limits")),
                questions=_table(data.get("questions")),
                outcomes=_table(data.get("outcomes")),
                text=_table(data.get("text")),
                words=_table(data.get("words")),
            )
        if len(set(top.languages)) != len(top.languages):
            self.problem("languages", "lists a language twice")
        self.languages = tuple(dict.fromkeys(top.languages))
        limits_file = self.model(_LIMITS, top.limits, "limits")
        limits = _record(Limits, limits_file) if limits_file is not None else Limits()

        questions = self._each(top.questions, "questions", self._question)
        outcomes = self._each(top.outcomes, "outcomes", self._outcome)
        texts = self._each(top.text, "text", lambda tid, raw: self._wording(f"text.{tid}", raw))
        for tid in REQUIRED_TEXTS:
            if tid not in top.text:
                self.problem(f"text.{tid}", "missing")
        words = self._words(top.words)
        call_languages = self._call_languages(top.call_languages)
        self._links(top.start, outcomes)
        if self.problems:
            raise FlowError(self.source, self.problems)
        return compose(
            id=top.id,
            version=top.version,
            title=top.title,
            languages=self.languages,
            start=top.start,
            questions=questions,
            outcomes=outcomes,
            texts=texts,
            words=words,
            limits=limits,
            source=self.source_data,
            call_languages=call_languages,
        )

    def _each(self, table: Mapping[str, Any], where: str, read: Callable[[str, Any], Any]) -> dict[str, Any]:
        return {key: item for key, raw in table.items() if (item := read(key, raw)) is not None}

    # ---- texts ----------------------------------------------------------------------------------

    def _parts(self, where: str, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
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
            self.problem(where, f"bad placeholder: {exc}", lang, "placeholder")
            return
        for name in sorted(names - PLACEHOLDERS):
            self.problem(where, f"unknown placeholder {{{name}}}", lang, "placeholder")

    def _wording(self, where: str, raw: Any) -> Wording | None:
        if raw is None:
            self.problem(where, "missing")
            return None
        if not isinstance(raw, Mapping):
            self.problem(where, "must be a table")
            return None
        raw = dict(raw)
        spoken_raw = raw.pop("voice", {})
        if not isinstance(spoken_raw, Mapping):
            self.problem(f"{where}.voice", "must be a table of languages")
            spoken_raw = {}
        written = self._parts(where, raw)
        spoken = self._parts(f"{where}.voice", spoken_raw)
        missing = [lang for lang in self.languages if lang not in written]
        for lang in missing:
            self.problem(f"{where}.{lang}", "missing", lang, "missing-text")
        if missing or len(written) < len(raw):
            return None
        return Wording(written=written, spoken=spoken)

    # ---- nodes ----------------------------------------------------------------------------------

    def _question(self, qid: str, raw: Any) -> Question | None:
        where = f"questions.{qid}"
        read = self.model(_Question, raw, where)
        wording = self._wording(f"{where}.text", raw.get("text") if isinstance(raw, Mapping) else None)
        if read is None or wording is None:
            return None
        phrases = self._question_phrases(f"{where}.phrases", read.phrases)
        until_no = self._question_phrases(f"{where}.phrases_until_no", read.phrases_until_no)
        if_lasting = self._question_phrases(f"{where}.phrases_if_lasting", read.phrases_if_lasting)
        words: dict[str, AnswerWords] = {}
        for lang, lists in read.words.items():
            if lang not in self.languages:
                self.problem(f"{where}.words.{lang}", "language is not declared in `languages`", lang)
                continue
            read_words = self.model(_ANSWER_WORDS, lists, f"{where}.words.{lang}", lang)
            if read_words is not None:
                words[lang] = _record(AnswerWords, read_words)
        named: dict[str, tuple[str, ...]] = {}
        for lang, texts in read.named.items():
            if lang not in self.languages:
                self.problem(f"{where}.named.{lang}", "language is not declared in `languages`", lang)
                continue
            named[lang] = tuple(texts)
        return Question(
            qid, wording, read.yes, read.no, read.red_flag, phrases, words, named, until_no, if_lasting
        )

    def _question_phrases(self, where: str, read: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
        """A question's free-text phrases per language, each pattern checked."""
        phrases: dict[str, tuple[str, ...]] = {}
        for lang, texts in read.items():
            if lang not in self.languages:
                self.problem(f"{where}.{lang}", "language is not declared in `languages`", lang)
                continue
            self._patterns(f"{where}.{lang}", texts, lang)
            phrases[lang] = tuple(texts)
        return phrases

    def _outcome(self, oid: str, raw: Any) -> Outcome | None:
        where = f"outcomes.{oid}"
        read = self.model(_Outcome, raw, where)
        wording = self._wording(f"{where}.text", raw.get("text") if isinstance(raw, Mapping) else None)
        booking = None
        if isinstance(raw, Mapping) and raw.get("booking") is not None:
            booking = self._wording(f"{where}.booking", raw["booking"])
        if read is None or wording is None:
            return None
        kind: OutcomeKind = read.kind
        return Outcome(oid, kind, wording, booking)

    def _words(self, raw: Mapping[str, Any]) -> dict[str, Words]:
        result: dict[str, Words] = {}
        for lang in raw:
            if lang not in self.languages:
                self.problem(f"words.{lang}", "language is not declared in `languages`", lang)
        for lang in self.languages:
            if lang not in raw:
                self.problem(f"words.{lang}", "missing", lang)
                continue
            read = self.model(_WORDS, raw[lang], f"words.{lang}", lang)
            if read is None:
                continue
            result[lang] = _record(Words, read)
            self._patterns(f"words.{lang}.emergency", result[lang].emergency, lang)
            self._patterns(f"words.{lang}.urgent", result[lang].urgent, lang)
            self._patterns(f"words.{lang}.lasting", result[lang].lasting, lang)
            self._patterns(f"words.{lang}.overnight", result[lang].overnight, lang)
            self._patterns(f"words.{lang}.drained", result[lang].drained, lang)
            self._patterns(f"words.{lang}.overdose", result[lang].overdose, lang)
        return result

    def _call_languages(self, raw: Mapping[str, Any]) -> dict[str, CallLanguage]:
        """The key and offer of each language a caller can pick; a key is free at every question
        (not an answer's, not the nurse's) and picks one language only."""
        result: dict[str, CallLanguage] = {}
        picks: dict[str, str] = {}
        for lang, table in raw.items():
            where = f"call_languages.{lang}"
            if lang not in self.languages:
                self.problem(where, "language is not declared in `languages`", lang)
                continue
            validated = self.model(_CALL_LANGUAGE, table, where, lang)
            if validated is None:
                continue
            read = _record(CallLanguage, validated)
            self._placeholders(f"{where}.offer", read.offer, lang)
            if read.key in KEYS_IN_USE:
                message = f"{read.key} is {KEYS_IN_USE[read.key]} at every question; pick another key"
                self.problem(f"{where}.key", message, lang, "call-language-key")
            elif read.key in picks:
                message = f"{read.key} already picks {picks[read.key]!r}; each language needs its own key"
                self.problem(f"{where}.key", message, lang, "call-language-key")
            picks.setdefault(read.key, lang)
            result[lang] = dataclasses.replace(read, offer=read.offer.strip())
        return result

    def _patterns(self, where: str, texts: Sequence[str], lang: str) -> None:
        for text in texts:
            try:
                parse_pattern(text)
            except ValueError as exc:
                self.problem(where, f"cannot read phrase: {exc}", lang, "phrase")

    def _links(self, start: str, outcomes: Mapping[str, Outcome]) -> None:
        raw_questions = _table(self.data.get("questions"))
        raw_outcomes = _table(self.data.get("outcomes"))
        known = set(raw_questions) | set(raw_outcomes)
        for clash in sorted(set(raw_questions) & set(raw_outcomes)):
            self.problem(clash, "is both a question and an outcome", rule="link")
        if start and start not in raw_questions:
            self.problem("start", f"{start!r} is not a question", rule="link")
        # From the raw tables, so a question with another mistake still has its links checked.
        for qid, raw in raw_questions.items():
            for answer in ("yes", "no"):
                target = raw.get(answer) if isinstance(raw, Mapping) else None
                if isinstance(target, str) and target and target not in known:
                    self.problem(f"questions.{qid}.{answer}", f"{target!r} is not a node", rule="link")
        if not raw_outcomes:
            return
        for kind in OUTCOME_KINDS:
            count = sum(1 for o in outcomes.values() if o.kind == kind)
            if count == 0 and kind in REQUIRED_KINDS:
                self.problem("outcomes", f"needs an outcome of kind {kind!r}", rule="link")
            if count > 1 and kind in ("safety", "unsure"):
                self.problem("outcomes", f"has more than one outcome of kind {kind!r}", rule="link")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _table(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}
