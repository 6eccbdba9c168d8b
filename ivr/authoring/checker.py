"""The flow checker: proves a flow safe to serve, or lists every problem with file, node and language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ivr.channels import sms, speech_time
from ivr.channels.voice import MAX_HINT_CHARS, MAX_HINTS, SAY_LIMIT_BYTES, VoiceStyle, hint_entries
from ivr.channels.voice import render as render_voice
from ivr.core import carrier, engine, gsm
from ivr.core.engine import Input, Output
from ivr.core.flow import CALL_NOW_KINDS, Flow, Wording
from ivr.core.readability import ease_es, grade
from ivr.core.words import fold, normal_words
from ivr.flows.flowfile import FlowError, load_flow
from ivr.simulator.twilio_sim import Spoken, parse_twiml

# Words carriers (and Twilio) act on when they are a whole message: never asked for, never an answer.
RESERVED_WORDS = carrier.RESERVED
RESERVED_PHRASES = frozenset(normal_words(w) for w in carrier.RESERVED)
USES = {"help": "a request for help", "switch": "a language keyword"} | dict.fromkeys(
    ("yes", "no", "unsure"), "an answer"
)
# The answer to HELP must say how to stop messages (carriers require it), so it may name STOP.
MAY_NAME_KEYWORDS = frozenset({"text.help"})

# How each language says "call ... now". A language missing here cannot be proven safe, and fails.
CALL_NOW: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "en": (re.compile(r"\bcall\b", re.I), re.compile(r"\b(now|right away|immediately|at once)\b", re.I)),
    "es": (re.compile(r"\bll[aá]m(e|a|en|ar)\b", re.I), re.compile(r"\b(ahora|ya|de inmediato)\b", re.I)),
}

# How each language says "go to an emergency department now", for the first sentence of `er_now`.
ER_NOW: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "en": (re.compile(r"\bemergency (room|department)\b", re.I), re.compile(r"\b(now|right away)\b", re.I)),
    "es": (re.compile(r"\b(sala de )?emergencias\b", re.I), re.compile(r"\b(ahora|ya)\b", re.I)),
}

# Reading level of every text (issue 23): English at most grade 6 (Flesch-Kincaid); Spanish at least
# 65 on the INFLESZ scale ("fairly easy", the primary-school band). A flow may list exceptions, each
# with its reason, in its [exceptions] table ("reading-level <node> <lang>" = "why").
MAX_GRADE = 6.0
MIN_EASE_ES = 65.0
# Both formulas misread a text of a few words (one long word swings them by grades), so a part
# shorter than this is not measured.
MIN_MEASURED_WORDS = 8
# The outcomes whose lists must name every red flag, and (but for er_now, which is where those
# signs send people) every sign for the emergency department; the safety net must name both.
LISTS_RED_FLAGS = ("er_now", "today", "appointment", "safety", "unsure")
LISTS_URGENT = ("today", "appointment", "safety", "unsure")
# A question asks about one thing: at most one "or" in it.
ORS = {"en": re.compile(r"\bor\b", re.I), "es": re.compile(r"\b[ou]\b", re.I)}
# Replies that end a conversation carry the advice and both lists of signs: at most three messages
# (each within two segments); every other reply at most two.
MAX_OUTCOME_MESSAGES = 3

# How each language says "get medical care today", for the first sentence of a `today` outcome.
CARE_TODAY: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "en": (re.compile(r"\btoday\b", re.I), re.compile(r"\b(care|seen|doctor|provider|clinic)\b", re.I)),
    "es": (
        re.compile(r"\bhoy\b", re.I),
        re.compile(r"\b(m[eé]dic[oa]|atenci[oó]n|urgencias|consulte)\b", re.I),
    ),
}

# Worst cases for what configuration puts into texts: the longest emergency number and booking URL
# that the settings accept. A flow that fits with these fits with any valid configuration.
WORST_EMERGENCY_NUMBER = "999999"
WORST_BOOKING_URL = "https://" + "b" * 112
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# How long a caller listens before the first question (issue 16): in the call's first language,
# and in a language picked by key (the offer, the key, then the notice in that language). Counted
# at 150 words a minute with the emergency number said digit by digit; 911 stands for any number
# of three digits (911, 112, 999).
FIRST_QUESTION_SECONDS = 10
PICKED_LANGUAGE_SECONDS = 15
TIMED_EMERGENCY_NUMBER = "911"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One reason a flow is unsafe or unservable."""

    file: str
    node: str
    lang: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.node} [{self.lang}]" if self.lang else self.node
        return f"{self.file}: {where}: {self.message} ({self.rule})"


def check_paths(paths: Iterable[Path]) -> tuple[list[Flow], list[Problem]]:
    """Check flow files, and every *.toml in directories; returns the flows loaded and all problems."""
    flows: list[Flow] = []
    problems: list[Problem] = []
    for path in paths:
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        if not files:
            problems.append(Problem(str(path), "directory", "", "structure", "no flow files (*.toml)"))
        for file in files:
            flow, found = check_file(file)
            problems.extend(found)
            if flow is not None:
                flows.append(flow)
    return flows, problems


def check_file(path: Path) -> tuple[Flow | None, list[Problem]]:
    """Load a flow file and check it: the flow (None when it does not load) and every problem."""
    try:
        flow = load_flow(path)
    except FlowError as exc:
        return None, [Problem(str(path), p.where, p.lang or "", p.rule, p.message) for p in exc.problems]
    return flow, check_flow(flow, str(path))


def check_flow(flow: Flow, file: str) -> list[Problem]:
    """Every safety rule, on a loaded (unbound) flow."""
    checks = (
        _graph,
        _red_flags,
        _signs,
        _safety_lists,
        _one_topic,
        _reading_level,
        _parity,
        _emergency_wording,
        _act_now_wording,
        _sms_limits,
        _voice_limits,
        _spoken_numbers,
        _speech_hints,
        _reserved_words,
        _answers,
        _call_languages,
        _call_opening,
    )
    excused = _exceptions(flow)
    found = {p for check in checks for p in check(flow, file)}
    return sorted(p for p in found if f"{p.rule} {p.node} {p.lang}".strip() not in excused)


def _exceptions(flow: Flow) -> frozenset[str]:
    """The problems a flow excuses, with a reason each: "<rule> <node> <lang>" keys of its
    [exceptions] table."""
    table = flow.source.get("exceptions")
    if not isinstance(table, Mapping):
        return frozenset()
    return frozenset(str(k).strip() for k, why in table.items() if isinstance(why, str) and why.strip())


# ---- the graph ------------------------------------------------------------------------------


def _graph(flow: Flow, file: str) -> Iterator[Problem]:
    answers = {q.id: (q.yes, q.no) for q in flow.questions.values()}
    # Any question can also end in the safety outcome (answers never understood), the emergency,
    # crisis and urgent outcomes (words of those, at any point), and a red flag in the unsure
    # outcome (answered "not sure").
    anywhere = (
        flow.outcome_of_kind("safety").id,
        flow.outcome_of_kind("emergency").id,
        flow.crisis_outcome().id,
        flow.urgent_outcome().id,
    )
    unsure = flow.unsure_outcome().id
    ends = {q.id: (*anywhere, unsure) if q.red_flag else anywhere for q in flow.questions.values()}
    reachable = _reach({flow.start}, lambda node: (*answers.get(node, ()), *ends.get(node, ())))
    for node in sorted(flow.node_ids() - reachable):
        yield Problem(file, node, "", "unreachable", "cannot be reached from the start")
    for cycle in _cycles(answers):
        leaves = any(t not in cycle for node in cycle for t in answers[node])
        loop = " -> ".join([*sorted(cycle), sorted(cycle)[0]])
        detail = "answers can go round it forever" if leaves else "it is a cycle with no exit"
        yield Problem(
            file, sorted(cycle)[0], "", "no-outcome", f"a path never reaches an outcome: {loop}; {detail}"
        )


def _cycles(edges: Mapping[str, tuple[str, ...]]) -> list[set[str]]:
    """Sets of questions that answers can lead round and round (strongly connected, with a loop)."""
    found: list[set[str]] = []
    assigned: set[str] = set()
    for node in sorted(edges):
        if node in assigned:
            continue
        ahead = _reach(set(edges[node]), lambda n: edges.get(n, ()))
        if node not in ahead:
            continue
        component = {
            n for n in ahead if n in edges and node in _reach(set(edges[n]), lambda m: edges.get(m, ()))
        }
        component.add(node)
        assigned |= component
        found.append(component)
    return found


def _reach(start: set[str], following: Callable[[str], Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(following(node))
    return seen


def _red_flags(flow: Flow, file: str) -> Iterator[Problem]:
    for q in flow.questions.values():
        if not q.red_flag:
            continue
        target = flow.outcomes.get(q.yes)
        if target is None or target.kind != "emergency":
            yield Problem(
                file,
                q.id,
                "",
                "red-flag-yes",
                f"yes leads to {q.yes!r}, not straight to an emergency outcome",
            )


def _signs(flow: Flow, file: str) -> Iterator[Problem]:
    """A question whose words in free text end a conversation leads there by its yes; and every
    question whose yes ends in an emergency or another urgent outcome names its sign, in every
    language, for the lists of signs."""
    for q in flow.questions.values():
        if (q.phrases or q.phrases_until_no) and flow.sign_outcome(q.id) is None:
            yield Problem(
                file,
                f"questions.{q.id}.phrases",
                "",
                "phrases-lead-nowhere",
                "free-text phrases need a yes that ends in an outcome (or asks one question whose no does)",
            )
        if not _listed_sign(flow, q.id):
            continue
        for lang in flow.languages:
            if not q.named.get(lang):
                yield Problem(
                    file,
                    f"questions.{q.id}.named",
                    lang,
                    "unnamed-sign",
                    "name the sign (`named`) in the words every list of signs uses",
                )


def _listed_sign(flow: Flow, qid: str) -> str | None:
    """'red' for a red flag, 'urgent' for a sign whose yes leads to the emergency department now,
    None for a question whose sign is not listed."""
    q = flow.questions[qid]
    target = flow.sign_outcome(qid)
    if q.red_flag:
        return "red"
    if target is not None and target.kind == "er_now":
        return "urgent"
    return None


def _safety_lists(flow: Flow, file: str) -> Iterator[Problem]:
    """Every list of signs names every red flag, and every sign for the emergency department
    (which er_now, the outcome those signs lead to, need not list), in each language and channel."""
    lists: list[tuple[str, Wording, tuple[str, ...]]] = []
    for o in flow.outcomes.values():
        kinds: tuple[str, ...] = ()
        if o.kind in LISTS_URGENT:
            kinds = ("red", "urgent")
        elif o.kind in LISTS_RED_FLAGS:
            kinds = ("red",)
        if kinds:
            lists.append((f"outcomes.{o.id}", o.wording, kinds))
    lists.append(("text.safety_net", flow.texts["safety_net"], ("red", "urgent")))
    for node, wording, kinds in lists:
        for lang in flow.languages:
            for channel, voice in (("text", False), ("voice", True)):
                said = f" {fold(wording.text(lang, voice=voice))} "
                for q in flow.questions.values():
                    if _listed_sign(flow, q.id) not in kinds:
                        continue
                    missing = [n for n in q.named.get(lang, ()) if f" {fold(n)} " not in said]
                    if missing:
                        yield Problem(
                            file,
                            node,
                            lang,
                            "safety-list",
                            f"the list of signs ({channel}) leaves out {q.id}: "
                            f"no {', '.join(map(repr, missing))}",
                        )


def _one_topic(flow: Flow, file: str) -> Iterator[Problem]:
    """A question asks about one thing: at most one "or" (two ways of saying it), never a list."""
    for q in flow.questions.values():
        for lang in flow.languages:
            pattern = ORS.get(lang)
            if pattern is None:
                continue
            for channel, voice in (("text", False), ("voice", True)):
                text = q.wording.text(lang, voice=voice)
                count = len(pattern.findall(text))
                if count > 1:
                    yield Problem(
                        file,
                        f"questions.{q.id}",
                        lang,
                        "one-topic",
                        f"asks about more than one thing ({count} x 'or', {channel}): {text!r}",
                    )


def _reading_level(flow: Flow, file: str) -> Iterator[Problem]:
    """Every part of every text reads at grade 6 or below (English), or 65 or more on INFLESZ
    (Spanish); a language with no measure here is not held to one."""
    for node, wording in _wordings(flow):
        for lang in flow.languages:
            for channel, voice in (("text", False), ("voice", True)):
                for part in wording.parts(lang, voice=voice):
                    if len(part.split()) < MIN_MEASURED_WORDS:
                        continue
                    if lang == "en" and (level := round(grade(part), 1)) > MAX_GRADE:
                        message = f"reads at grade {level} ({channel}); at most {MAX_GRADE}: {part[:70]!r}"
                    elif lang == "es" and (ease := round(ease_es(part), 1)) < MIN_EASE_ES:
                        message = (
                            f"reads at {ease} on INFLESZ ({channel}); at least {MIN_EASE_ES}: {part[:70]!r}"
                        )
                    else:
                        continue
                    yield Problem(file, node, lang, "reading-level", message)


def _parity(flow: Flow, file: str) -> Iterator[Problem]:
    """Every language says the same thing: as many parts, with the same placeholders and numbers
    in each, in text and on calls (the wording of each is the translator's)."""
    first = flow.default_language
    for node, wording in _wordings(flow):
        for lang in flow.languages[1:]:
            for channel, voice in (("text", False), ("voice", True)):
                mine = wording.parts(first, voice=voice)
                theirs = wording.parts(lang, voice=voice)
                if len(mine) != len(theirs):
                    yield Problem(
                        file,
                        node,
                        lang,
                        "parity",
                        f"{len(theirs)} part(s) ({channel}) where {first} has {len(mine)}",
                    )
                    continue
                for k, (a, b) in enumerate(zip(mine, theirs, strict=True), start=1):
                    if _marks(a) != _marks(b):
                        yield Problem(
                            file,
                            node,
                            lang,
                            "parity",
                            f"part {k} ({channel}) has {sorted(_marks(b))}, {first} has {sorted(_marks(a))}",
                        )


def _marks(text: str) -> set[str]:
    """The placeholders and numbers of a text, which every translation must keep."""
    return set(re.findall(r"\{[a-z_]+\}", text)) | set(re.findall(r"\d+", re.sub(r"\{[a-z_]+\}", "", text)))


# ---- what must be said ------------------------------------------------------------------------


def _first_sentence(text: str) -> str:
    return SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def _says_call_now(text: str, lang: str) -> bool:
    call, now = CALL_NOW[lang]
    return "{emergency}" in text and bool(call.search(text)) and bool(now.search(text))


def _emergency_wording(flow: Flow, file: str) -> Iterator[Problem]:
    leading = [(o.id, o.wording) for o in flow.outcomes.values() if o.kind in CALL_NOW_KINDS]
    leading += [(f"text.{t}", flow.texts[t]) for t in ("safety_net", "help", "opted_in", "rate_limited")]
    for lang in flow.languages:
        if lang not in CALL_NOW:
            yield Problem(
                file, "languages", lang, "call-now", "no rule to recognise 'call ... now' in this language"
            )
            continue
        for node, wording in leading:
            for channel, parts in (
                ("text", wording.parts(lang, voice=False)),
                ("voice", wording.parts(lang, voice=True)),
            ):
                if not _says_call_now(_first_sentence(parts[0]), lang):
                    yield Problem(
                        file,
                        node,
                        lang,
                        "call-now",
                        f"first sentence ({channel}) must tell the person to call {{emergency}} now: "
                        f"{_first_sentence(parts[0])!r}",
                    )
        for outcome in (o for o in flow.outcomes.values() if o.kind == "today"):
            yield from _care_today(
                file, outcome.id, outcome.wording.parts(lang, voice=False)[0], lang, "text"
            )
            yield from _care_today(
                file, outcome.id, outcome.wording.parts(lang, voice=True)[0], lang, "voice"
            )
        intro = flow.texts["intro"]
        for channel, voice in (("text", False), ("voice", True)):
            sentences = SENTENCE_END.split(intro.text(lang, voice=voice))
            if not any(_says_call_now(s, lang) for s in sentences):
                yield Problem(
                    file,
                    "text.intro",
                    lang,
                    "intro-notice",
                    f"the first message ({channel}) must say to call {{emergency}} now in an emergency",
                )


def _act_now_wording(flow: Flow, file: str) -> Iterator[Problem]:
    """The emergency-department outcome opens by sending the person there now; the crisis outcome
    opens with the crisis line, and says to call the emergency number now in danger."""
    for lang in flow.languages:
        for outcome in (o for o in flow.outcomes.values() if o.kind == "er_now"):
            for channel, voice in (("text", False), ("voice", True)):
                sentence = _first_sentence(outcome.wording.parts(lang, voice=voice)[0])
                where_, when_ = ER_NOW.get(lang, (None, None))
                if (
                    where_ is None
                    or when_ is None
                    or not (where_.search(sentence) and when_.search(sentence))
                ):
                    yield Problem(
                        file,
                        outcome.id,
                        lang,
                        "er-now",
                        f"first sentence ({channel}) must send the person to an emergency department now: "
                        f"{sentence!r}",
                    )
        for outcome in (o for o in flow.outcomes.values() if o.kind == "crisis"):
            for channel, voice in (("text", False), ("voice", True)):
                parts = outcome.wording.parts(lang, voice=voice)
                if "{crisis}" not in _first_sentence(parts[0]):
                    yield Problem(
                        file,
                        outcome.id,
                        lang,
                        "crisis-line",
                        f"first sentence ({channel}) must give the crisis line, {{crisis}}",
                    )
                if not any(_says_call_now(s, lang) for p in parts for s in SENTENCE_END.split(p)):
                    yield Problem(
                        file,
                        outcome.id,
                        lang,
                        "call-now",
                        f"must also say ({channel}) to call {{emergency}} now in danger",
                    )


def _care_today(file: str, node: str, first_part: str, lang: str, channel: str) -> Iterator[Problem]:
    sentence = _first_sentence(first_part)
    today, care = CARE_TODAY.get(lang, (None, None))
    if today is None or care is None:
        yield Problem(
            file, node, lang, "care-today", "no rule to recognise 'get care today' in this language"
        )
    elif not (today.search(sentence) and care.search(sentence)):
        yield Problem(
            file,
            node,
            lang,
            "care-today",
            f"first sentence ({channel}) must tell the person to get medical care today: {sentence!r}",
        )


# ---- limits of each channel ---------------------------------------------------------------------


def _outputs(flow: Flow, lang: str) -> Iterator[Output]:
    """Every reply a conversation in this language can receive."""
    yield Output(lang, notices=("intro",), ask=flow.start)
    for qid in flow.questions:
        yield Output(lang, ask=qid)
        yield Output(lang, notices=("intro",), ask=qid)  # after switching language
        for notice in ("not_understood", "no_input", "wrong_key", "help"):
            yield Output(lang, notices=(notice,), ask=qid)
        yield Output(lang, ask=qid, keys_only=True)
    for oid in flow.outcomes:
        yield Output(lang, outcome=oid)
    for notice in ("help", "opted_in", "rate_limited"):
        yield Output(lang, notices=(notice,))


def _sms_limits(flow: Flow, file: str) -> Iterator[Problem]:
    for booking in (WORST_BOOKING_URL, None):
        bound = flow.bind(emergency_number=WORST_EMERGENCY_NUMBER, booking_url=booking)
        replies = [
            (o.lang, _node_of(o), sms.messages(bound, o))
            for lang in flow.languages
            for o in _outputs(bound, lang)
        ]
        replies.extend(
            (lang, "text.help", sms.messages(bound, Output(lang, notices=("help",), ask=ask), nurse=True))
            for lang in flow.languages
            for ask in (None, *flow.questions)
        )
        net = bound.texts["safety_net"]
        replies.extend(
            (lang, "text.safety_net", sms.pack(net.parts(lang, voice=False))) for lang in flow.languages
        )
        for lang, node, bodies in replies:
            most = MAX_OUTCOME_MESSAGES if node in flow.outcomes or node == "text.safety_net" else 2
            if len(bodies) > most:
                yield Problem(
                    file, node, lang, "sms-messages", f"a reply takes {len(bodies)} messages; at most {most}"
                )
            for body in bodies:
                encoding = gsm.encoding_of(body)
                units = gsm.length_in_units(body)
                if gsm.segments(body) > sms.MAX_SEGMENTS:
                    limit = gsm.max_units(encoding, sms.MAX_SEGMENTS)
                    yield Problem(
                        file,
                        node,
                        lang,
                        "sms-length",
                        f"a message of {units} {encoding} characters is over 2 segments ({limit} max): "
                        f"{body[:60]!r}...",
                    )
                if lang == "en" and encoding != "GSM-7":
                    chars = "".join(gsm.non_gsm7_characters(body))
                    yield Problem(
                        file, node, lang, "gsm7", f"English text must be plain GSM-7; found {chars!r}"
                    )


def _node_of(output: Output) -> str:
    return output.outcome or output.ask or "?"


def _voice_limits(flow: Flow, file: str) -> Iterator[Problem]:
    bound = flow.bind(emergency_number=WORST_EMERGENCY_NUMBER, booking_url=None)
    style = VoiceStyle()
    for output in _voice_outputs(bound):
        spoken = Spoken.parse(
            render_voice(bound, output, action_url="https://x/voice/gather?t=1", style=style)
        )
        for say in spoken.says:
            size = len(say.encode("utf-8"))
            if size > SAY_LIMIT_BYTES:
                yield Problem(
                    file,
                    _node_of(output),
                    output.lang,
                    "say-length",
                    f"a <Say> of {size} bytes; Twilio allows {SAY_LIMIT_BYTES}",
                )


def _spoken_numbers(flow: Flow, file: str) -> Iterator[Problem]:
    """A phone number said as a cardinal ("nine hundred eleven") is not one a caller can dial. The
    emergency number comes from {emergency} and is rendered digit by digit; any other number written
    into a spoken text is refused, and every rendered reply is checked for a number outside
    <say-as interpret-as="digits">."""
    for node, wording in _wordings(flow):
        for lang in flow.languages:
            for part in wording.parts(lang, voice=True):
                for number in re.findall(r"\d{2,}", part.replace("{emergency}", "")):
                    yield Problem(
                        file,
                        node,
                        lang,
                        "spoken-number",
                        f"{number!r} would be read as a cardinal on a call; write it in words, or use"
                        " {emergency}, which is said digit by digit",
                    )
    bound = flow.bind(emergency_number=WORST_EMERGENCY_NUMBER, booking_url=None)
    for output in _voice_outputs(bound):
        root = parse_twiml(
            render_voice(bound, output, action_url="https://x/voice/gather?t=1", style=VoiceStyle())
        )
        for say in root.iter("Say"):
            loose = [say.text or ""]
            for child in say:
                if child.tag != "say-as" or child.get("interpret-as") != "digits":
                    loose.append("".join(child.itertext()))
                loose.append(child.tail or "")
            if any(re.search(r"\d{2,}", text) for text in loose):
                yield Problem(
                    file,
                    _node_of(output),
                    output.lang,
                    "spoken-number",
                    'a number on a call is not inside <say-as interpret-as="digits">',
                )


def _speech_hints(flow: Flow, file: str) -> Iterator[Problem]:
    """Twilio takes at most 500 hints of at most 100 characters; past that it warns and may ignore
    them, and the emergency phrases would no longer help the recogniser."""
    for lang in flow.languages:
        entries = hint_entries(flow, lang)
        if len(entries) > MAX_HINTS:
            yield Problem(
                file,
                f"words.{lang}",
                lang,
                "speech-hints",
                f"{len(entries)} speech hints; Twilio takes {MAX_HINTS}",
            )
        for entry in entries:
            if len(entry) > MAX_HINT_CHARS or "," in entry:
                yield Problem(
                    file,
                    f"words.{lang}",
                    lang,
                    "speech-hints",
                    f"the hint {entry[:40]!r}... is over {MAX_HINT_CHARS} characters or holds a comma",
                )


def _voice_outputs(bound: Flow) -> list[Output]:
    """Every reply a call can receive: each prompt also with the other languages offered."""
    outputs = [o for lang in bound.languages for o in _outputs(bound, lang)]
    return outputs + [replace(o, offers=True) for o in outputs if o.ask in bound.questions]


def _wordings(flow: Flow) -> list[tuple[str, Wording]]:
    texts = [(f"questions.{q.id}", q.wording) for q in flow.questions.values()]
    texts += [(f"outcomes.{o.id}", o.wording) for o in flow.outcomes.values()]
    texts += [(f"text.{t}", w) for t, w in flow.texts.items()]
    return texts


# ---- words --------------------------------------------------------------------------------------


def _reserved_words(flow: Flow, file: str) -> Iterator[Problem]:
    texts = _wordings(flow)
    texts += [
        (f"outcomes.{o.id}.booking", o.booking) for o in flow.outcomes.values() if o.booking is not None
    ]
    for node, wording in texts:
        if node in MAY_NAME_KEYWORDS:
            continue
        for lang in flow.languages:
            found = set(fold(wording.text(lang, voice=False)).split()) & RESERVED_WORDS
            if found:
                yield Problem(
                    file,
                    node,
                    lang,
                    "reserved-word",
                    f"mentions carrier keyword(s) {sorted(w.upper() for w in found)}",
                )
    for lang, words in flow.words.items():
        lists = {
            "yes": words.yes,
            "no": words.no,
            "unsure": words.unsure,
            "help": words.help,
            "switch": words.switch,
        }
        for name, values in lists.items():
            for text in values:
                if normal_words(text) in RESERVED_PHRASES:
                    yield Problem(
                        file,
                        f"words.{lang}.{name}",
                        lang,
                        "reserved-word",
                        f"accepts carrier keyword {text.upper()!r} as {USES[name]}",
                    )


def _answers(flow: Flow, file: str) -> Iterator[Problem]:
    """Every answer phrase means one thing in every language (the line reads replies in all of a
    flow's languages), a question's own phrases agree with the general ones, and every language
    has words for "not sure"."""
    general: dict[tuple[str, ...], set[str]] = {}
    for lang, words in flow.words.items():
        _classes(general, words.yes, words.no, words.unsure)
        if not words.unsure:
            yield Problem(
                file,
                f"words.{lang}.unsure",
                lang,
                "no-unsure",
                "needs phrases for 'not sure' in this language",
            )
    yield from _ambiguous(general, file, "words", "")
    for question in flow.questions.values():
        for lang, own in question.words.items():
            mine = {phrase: set(names) for phrase, names in general.items()}
            _classes(mine, own.yes, own.no, own.unsure)
            yield from _ambiguous(mine, file, f"questions.{question.id}.words.{lang}", lang, since=general)


def _classes(
    into: dict[tuple[str, ...], set[str]], yes: Iterable[str], no: Iterable[str], unsure: Iterable[str]
) -> None:
    for name, texts in (("yes", yes), ("no", no), ("unsure", unsure)):
        for text in texts:
            into.setdefault(normal_words(text), set()).add(name)


def _ambiguous(
    classes: Mapping[tuple[str, ...], set[str]],
    file: str,
    node: str,
    lang: str,
    since: Mapping[tuple[str, ...], set[str]] | None = None,
) -> Iterator[Problem]:
    for phrase, names in sorted(classes.items()):
        if len(names) > 1 and (since is None or names != since.get(phrase)):
            yield Problem(
                file,
                node,
                lang,
                "ambiguous-answer",
                f"{' '.join(phrase)!r} is in more than one class: {', '.join(sorted(names))}",
            )


def _call_languages(flow: Flow, file: str) -> Iterator[Problem]:
    """On a call every language but the first is picked by a key of its own, and its offer says
    that key. (A key that is an answer's, the nurse's or another language's is refused on load:
    ivr.flows.flowfile.KEYS_IN_USE.)"""
    for lang in flow.languages[1:]:
        if lang not in flow.call_languages:
            yield Problem(
                file,
                f"call_languages.{lang}",
                lang,
                "call-language-key",
                "callers cannot pick this language: give it a key and an offer",
            )
    for lang, choice in flow.call_languages.items():
        if not re.search(rf"(?<!\d){re.escape(choice.key)}(?!\d)", choice.offer):
            yield Problem(
                file,
                f"call_languages.{lang}.offer",
                lang,
                "call-language-offer",
                f"the offer must tell callers to press {choice.key}: {choice.offer!r}",
            )


def _call_opening(flow: Flow, file: str) -> Iterator[Problem]:
    """The first question comes within FIRST_QUESTION_SECONDS of speech on a call, and, for a
    caller who picks another language by its key, within PICKED_LANGUAGE_SECONDS in that language:
    counted on the TwiML the line renders for those very turns."""
    bound = flow.bind(emergency_number=TIMED_EMERGENCY_NUMBER, booking_url=None)
    session, output = engine.start(bound, "voice", now=0)
    opening = _spoken(bound, output)
    first = bound.questions[bound.start]
    lang = output.lang
    before = speech_time.words_before(opening, first.wording.text(lang, voice=True))
    most = speech_time.most_words(FIRST_QUESTION_SECONDS)
    if before is not None and before > most:
        yield Problem(
            file,
            "text.intro",
            lang,
            "call-opening-time",
            f"a caller hears {before} words ({speech_time.seconds(before):.1f} s) before the first "
            f"question; at most {most} ({FIRST_QUESTION_SECONDS} s at "
            f"{speech_time.WORDS_PER_MINUTE} words a minute, each digit a word)",
        )
    most = speech_time.most_words(PICKED_LANGUAGE_SECONDS)
    for other, choice in bound.call_offers(lang):
        offered = speech_time.words_through(opening, choice.offer)
        if offered is None:
            continue  # no key to press before the first question: _call_languages says why
        _, switched = engine.step(bound, session, Input("keys", choice.key))
        after = speech_time.words_before(_spoken(bound, switched), first.wording.text(other, voice=True))
        if after is None:
            continue
        total = offered + after
        if total > most:
            yield Problem(
                file,
                "text.intro",
                other,
                "call-opening-time",
                f"a caller who presses {choice.key} hears {total} words ({speech_time.seconds(total):.1f} s) "
                f"before the first question in this language ({offered} up to the end of the offer, "
                f"{after} after the key); at most {most} ({PICKED_LANGUAGE_SECONDS} s at "
                f"{speech_time.WORDS_PER_MINUTE} words a minute, each digit a word)",
            )


def _spoken(bound: Flow, output: Output) -> tuple[str, ...]:
    xml = render_voice(bound, output, action_url="https://x/voice/gather?t=1", style=VoiceStyle())
    return Spoken.parse(xml).says
