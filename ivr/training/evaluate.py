"""How the line handles labelled replies, judged as a triage nurse would: figures and each miss.

Each reply is sent, through the engine, to a conversation waiting at the question it answers (in
its language, as a text or as speech heard clearly), and what the line does next is compared with
what the label calls for: the yes or no way, the reply to doubt, the emergency, emergency
department or crisis outcome, the question asked again, the help text or a change of language.
Equivalent actions count as handled: "not sure" and an emergency both end in "call 911 now"
on a red flag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ivr.core import engine
from ivr.core.engine import Input, Output
from ivr.core.flow import Flow
from ivr.core.session import Channel, Session
from ivr.training.data import Example

# The clarity at which a spoken reply is taken to have been heard (Twilio's Confidence).
HEARD_CLEARLY = 0.9
# Labels that describe a sign for 911 or the emergency department: never to be taken as a no.
ALARMS = frozenset({"emergency", "urgent", "crisis"})

Action = tuple[str, str]  # ("outcome", kind), ("next", node), ("again", ""), ("help", ""), ("switch", lang)


@dataclass(frozen=True, slots=True)
class Judged:
    """One reply: what the label called for, what the line did, whether that is handled."""

    example: Example
    wanted: frozenset[Action]
    did: Action
    how: str
    red_flag: bool = False  # the question asked is a red flag
    no_way: Action = ("", "")  # where a no to it leads

    @property
    def handled(self) -> bool:
        """Whether the line did what a nurse would (or its equivalent)."""
        return self.did in self.wanted


@dataclass
class Figures:
    """What an evaluation measured."""

    judged: list[Judged] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Replies judged."""
        return len(self.judged)

    @property
    def handled(self) -> int:
        """Replies handled as a nurse would."""
        return sum(j.handled for j in self.judged)

    @property
    def accuracy(self) -> float:
        """The share handled."""
        return self.handled / self.total if self.total else 0.0

    def _of(self, labels: Iterable[str]) -> list[Judged]:
        wanted = set(labels)
        return [j for j in self.judged if j.example.label in wanted]

    @property
    def alarms_taken_as_no(self) -> list[Judged]:
        """A yes to a red flag, an emergency, an urgent sign or a crisis that went the no way."""
        return [
            j
            for j in self.judged
            if (j.example.label in ALARMS or (j.example.label == "yes" and j.red_flag))
            and j.did == j.no_way
            and not j.handled  # where the no way is itself the urgent outcome (a no to spine)
        ]

    @property
    def crisis_missed(self) -> list[Judged]:
        """Crisis replies that did not get the crisis outcome."""
        return [j for j in self._of(["crisis"]) if j.did != ("outcome", "crisis")]

    @property
    def noes_asked_again(self) -> list[Judged]:
        """Plain noes that were asked again."""
        return [j for j in self._of(["no"]) if j.did == ("again", "")]

    @property
    def noes(self) -> int:
        """Replies labelled no."""
        return len(self._of(["no"]))

    def by_label(self) -> dict[str, tuple[int, int]]:
        """Handled and total, per label."""
        handled: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for j in self.judged:
            total[j.example.label] += 1
            handled[j.example.label] += j.handled
        return {label: (handled[label], total[label]) for label in sorted(total)}

    def by_how(self) -> dict[str, int]:
        """How many replies each way of reading decided (key, rule, model)."""
        return dict(Counter(j.how for j in self.judged))


def wanted(flow: Flow, example: Example) -> frozenset[Action]:
    """What the label calls for at the example's question, with its equivalents."""
    question = flow.questions[example.topic]
    label = example.label

    def way(target: str) -> Action:
        return ("outcome", flow.outcomes[target].kind) if target in flow.outcomes else ("next", target)

    call_now = {("outcome", "emergency"), ("outcome", "unsure")}
    if label == "yes":
        found = {way(question.yes)}
        return frozenset(found | call_now if way(question.yes) in call_now else found)
    if label == "no":
        return frozenset({way(question.no)})
    if label == "unsure":
        if question.red_flag:
            return frozenset(call_now)
        return frozenset({way(question.yes)})
    if label == "emergency":
        return frozenset(call_now)
    if label == "urgent":
        # At a question whose yes calls 911, an urgent sign said with it is that yes as well: the
        # line may not answer a yes to a red flag with less than 911.
        urgent = {("outcome", flow.urgent_outcome().kind)}
        return frozenset(urgent | call_now if way(question.yes) in call_now else urgent)
    if label == "crisis":
        return frozenset({("outcome", flow.crisis_outcome().kind)})
    if label == "help":
        return frozenset({("help", "")})
    if label in ("spanish", "english"):
        return frozenset({("switch", "es" if label == "spanish" else "en")})
    # A reply that answers nothing ("who is this?") is asked again; the help text (what the line
    # is, how to answer, 911 first) asks the same question again with more words, as a nurse would.
    return frozenset({("again", ""), ("help", "")})


def did(flow: Flow, before: Session, after: Session, output: Output) -> Action:
    """What the line did with a reply, as an Action."""
    if output.outcome is not None:
        return ("outcome", flow.outcomes[output.outcome].kind)
    if output.ask == before.node:
        if "help" in output.notices:
            return ("help", "")
        if "intro" in output.notices:
            # The notice again in the language asked for: a switch, even to the language the
            # conversation was already in ("español por favor" in Spanish).
            return ("switch", after.lang)
        return ("again", "")
    return ("next", output.ask or "")


def judge(flow: Flow, example: Example) -> Judged:
    """Send one reply to a conversation waiting at its question, and judge what the line did."""
    if example.topic not in flow.questions:
        raise ValueError(f"{example.where}: no question {example.topic!r} in flow {flow.id}")
    channel: Channel = "voice" if example.channel == "voice" else "sms"
    before = Session(
        flow=flow.id,
        digest=flow.digest,
        channel=channel,
        lang=example.lang,
        node=example.topic,
        started=0,
        turns=3,
    )
    said = (
        Input("speech", example.text, confidence=HEARD_CLEARLY)
        if channel == "voice"
        else Input("text", example.text)
    )
    after, output = engine.step(flow, before, said)
    found = engine.heard(flow, before, after)
    how = found.decided_by if found is not None else "rule"
    question = flow.questions[example.topic]
    no = question.no
    no_way = ("outcome", flow.outcomes[no].kind) if no in flow.outcomes else ("next", no)
    return Judged(
        example, wanted(flow, example), did(flow, before, after, output), how, question.red_flag, no_way
    )


def evaluate(flow: Flow, examples: Iterable[Example]) -> Figures:
    """Judge every example."""
    figures = Figures()
    for example in examples:
        figures.judged.append(judge(flow, example))
    return figures
