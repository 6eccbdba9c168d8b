"""Reading a reply as an answer: rules for what must never be missed, the answer model for the rest.

The layers, in order (ivr.core.engine acts on crisis and emergency phrases before any of this):

1. A key press: 1 yes, 2 no, 3 not sure.
2. A negated description of the very sign asked about ("I haven't passed out") is a no when the
   model hears a no or nothing it can place; doubt ("not sure if she passed out") stays doubt.
3. A whole reply that is one of the flow's exact answers ("no", "nope", "sí", "slowly" to the onset
   question) is taken as it is.
4. A reply of filler alone ("gracias doctora"), or of words the model never saw in training
   ("banana"), is not an answer: asked again.
5. Everything else goes to the answer model. It may move a reply toward safety on its own (to yes,
   not sure, an emergency, a crisis or another urgent sign), but a no stands only when the model is
   confident of it and the reply carries no emergency cue (a word the flow lists in `cues`, not
   negated, or the model's own weight on those classes); otherwise it is doubt, or not an answer.
   A reply that opens with a yes and sets nothing against it ("but") is never a no.

Every reading says how it was taken (key, rule, or model with its probability), for the audit
record and the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ivr.core.answer_model import AnswerModel, Scores
from ivr.core.answers import Answer, Understanding, from_keys
from ivr.core.words import Said

How = Literal["key", "rule", "model", "none"]
SIGN = "_sign_"  # what the model reads in place of a negated or past emergency phrase


def model_words(said: Said, masked: frozenset[tuple[int, int]]) -> tuple[str, ...]:
    """The words the answer model reads: each run of masked words as one SIGN."""
    if not masked:
        return said.words
    found: list[str] = []
    for c, clause in enumerate(said.clauses):
        for i, word in enumerate(clause):
            if (c, i) not in masked:
                found.append(word)
            elif not found or found[-1] != SIGN or (c, i - 1) not in masked:
                found.append(SIGN)
    return tuple(found)


_BY_LABEL = {
    "yes": Answer.YES,
    "no": Answer.NO,
    "unsure": Answer.UNSURE,
    "unclear": Answer.UNCLEAR,
    "emergency": Answer.EMERGENCY,
    "crisis": Answer.CRISIS,
    "urgent": Answer.URGENT,
    "help": Answer.HELP,
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the model's word is taken. Chosen on held-out training data (`ivr answers train`
    prints the figures) and reviewed with the flow."""

    no: float = 0.6  # a no below this probability is doubt or not an answer, never a no
    cue: float = 0.12  # emergency, crisis and urgent probability above which a no is not believed
    emergency: float = 0.5  # emergency probability that is enough on its own
    crisis: float = 0.9  # crisis probability that is enough on its own: it stops the triage
    help: float = 0.5  # a request for help, below which the likeliest answer is taken instead
    denied_no: float = 0.25  # with doubt the likelier class, the weight on no that still makes a denial a no


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Reading:
    """How a reply was taken: the answer, how it was decided, the model's probability for that
    answer (None when a rule or a key decided), and the other language it was given in (None when
    it is the conversation's own or cannot be told)."""

    answer: Answer
    how: How
    score: float | None = None
    lang: str | None = None

    @property
    def record(self) -> str:
        """How it was taken, as stored with the session: k (key), r (rule), m87 (model at 0.87)."""
        if self.how == "model" and self.score is not None:
            return f"m{min(99, int(self.score * 100))}"
        return {"key": "k", "rule": "r", "model": "m", "none": "-"}[self.how]


@dataclass(frozen=True, slots=True)
class Reader:
    """The flow's exact answers, its answer model (None: rules only), its emergency cue words per
    language, and the thresholds."""

    understanding: Understanding
    model: AnswerModel | None
    cues: Mapping[str, frozenset[str]]
    negations: frozenset[str]
    contrasts: frozenset[str] = frozenset()
    greetings: frozenset[tuple[str, ...]] = frozenset()
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    _single: Mapping[str, Answer] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The whole-word answers of every language ("yes", "si", "nope"); not a lone letter ("s",
        # the Spanish yes, or "vision's") or an emoji, too little to go on.
        # Nor a word that is filler as well ("ya": "yes" to some, "already" to most).
        vocabulary = self.understanding.any_language
        single = {
            p[0]: a
            for p, a in vocabulary.classes.items()
            if len(p) == 1 and len(p[0]) > 1 and p[0].isalpha() and p[0] not in vocabulary.filler
        }
        object.__setattr__(self, "_single", single)

    def keys(self, digits: str) -> Reading:
        """A key press."""
        return Reading(from_keys(digits), "key")

    def read(
        self,
        said: Said,
        lang: str,
        *,
        question: str | None,
        denied: bool = False,
        masked: frozenset[tuple[int, int]] = frozenset(),
        denied_other: bool = False,
        yes_is_urgent: bool = False,
    ) -> Reading:
        """A text or transcript in answer to `question`, in a conversation in `lang`. `masked` are
        the words of emergency phrases the rules found negated or in the past ("I have not passed
        out"): the model reads each such phrase as the one word SIGN, so that it weighs "I have not
        SIGN" and "not sure if she SIGN" rather than the alarm the phrase's words carry.
        `denied_other`: the reply denies another question's sign ("I have not passed out" to "is it
        hard to breathe?"): a no the model hears in it is a no to that sign, not to this question,
        which is asked again. `yes_is_urgent`: a yes to the question calls 911 or the emergency
        department, and a reply that opens with a yes is a yes unless a no answer follows ("eh sí,
        respira con mucho esfuerzo"). At any question, a reply that opens with a yes and sets
        nothing against it (`contrasts`) is never a no."""
        if said.empty:
            return Reading(Answer.UNCLEAR, "none")
        exact = self.understanding.exact(said, lang, question)
        if self.model is None:
            if denied:
                return Reading(Answer.NO, "rule")
            if exact is not None:
                return Reading(exact[0], "rule", lang=exact[1])
            return Reading(Answer.UNCLEAR, "none")
        if exact is not None and not denied:
            return Reading(exact[0], "rule", lang=exact[1])
        read = model_words(said, masked)
        filler = self.understanding.any_language.filler
        if not denied and all(w in filler for w in said.words):
            # Nothing but filler ("gracias doctora", "bueno pues"): not an answer, asked again.
            return Reading(Answer.UNCLEAR, "rule")
        if not self.model.knows_any(read):
            # Nothing the model learned ("banana"): not an answer, asked again (a denial of the
            # very sign asked about is still a no).
            return Reading(Answer.NO if denied else Answer.UNCLEAR, "rule")
        scores = self.model.score(read, question)
        decided, probability = self._decide(scores, said)
        if denied and self._denial_stands(decided, probability, scores):
            return Reading(Answer.NO, "rule")
        if denied_other and not denied and decided is Answer.NO:
            return Reading(Answer.UNCLEAR, "rule")
        ruled = None if denied else self._overruled(decided, said, lang, question, yes_is_urgent)
        if ruled is not None:
            return Reading(ruled, "rule")
        return Reading(decided, "model", probability)

    def hears_crisis(self, said: Said, question: str | None) -> bool:
        """Whether the answer model, on its own, hears a crisis in a reply (above its threshold)."""
        if self.model is None:
            return False
        read = model_words(said, frozenset())
        return (
            self.model.knows_any(read)
            and self.model.score(read, question)["crisis"] >= self.thresholds.crisis
        )

    def _overruled(
        self, decided: Answer, said: Said, lang: str, question: str | None, yes_is_urgent: bool
    ) -> Answer | None:
        """The answer the rules put in place of the model's, toward safety, or None."""
        if decided is Answer.NO and self._contradicts(said):
            return Answer.UNSURE
        if decided in (Answer.NO, Answer.UNCLEAR) and self._opens_with(said, lang, question, Answer.UNSURE):
            return Answer.UNSURE
        # An opening yes: where a yes to the question calls 911 or the emergency department, it
        # outranks a no, no answer, or another urgent sign named with it; at any other question it
        # is not a no, unless a second part is set against it ("yes, diabetic, but her sugar is
        # fine"), the model hearing a no in the details ("yes, nothing stays down, not even water").
        # A yes that answers the phone ("sí, diga", "yes hello, this is her son") is no answer when
        # the model hears none. An opening part that is the question's own yes ("Sudden. 2 hrs ago"
        # to the onset question) counts as an opening yes.
        overruled = (Answer.NO, Answer.UNCLEAR, Answer.URGENT) if yes_is_urgent else (Answer.NO,)
        if (
            decided in overruled
            and (self._opens_with_yes(said) or self._opens_with(said, lang, question, Answer.YES))
            and (yes_is_urgent or not any(w in self.contrasts for w in said.words))
            and not (decided is Answer.UNCLEAR and self._greets(said))
        ):
            return Answer.YES
        return None

    def _greets(self, said: Said) -> bool:
        """Whether a reply holds words of answering a phone or greeting."""
        words = said.words
        return any(
            tuple(words[i : i + len(g)]) == g for g in self.greetings for i in range(len(words) - len(g) + 1)
        )

    def _opens_with(self, said: Said, lang: str, question: str | None, answer: Answer) -> bool:
        """Whether a reply in parts opens with a whole exact answer of this kind ("no sé, acabo de
        llegar" opens with a not sure; "Sudden. 2 hrs ago", to the onset question, with a yes)."""
        if len(said.clauses) < 2:
            return False
        opening = self.understanding.exact(Said((said.clauses[0],)), lang, question)
        return opening is not None and opening[0] is answer

    def _opens_with_yes(self, said: Said) -> bool:
        """Whether the first word after any filler ("eh", "um") is a yes and no answer follows: a
        no that ends the reply or stands before another answer word ("sí... no", "yes no maybe"),
        not one that negates a verb ("sí, no llega al baño a tiempo")."""
        single = self._single
        words = said.words
        for i, word in enumerate(words):
            if single.get(word) is Answer.NO and (i + 1 == len(words) or words[i + 1] in single):
                return False
        filler = self.understanding.any_language.filler
        opening = next((w for w in said.words if w not in filler), None)
        return opening is not None and single.get(opening) is Answer.YES

    def _contradicts(self, said: Said) -> bool:
        """Whether a reply says yes and no at once: it opens with a no and ends by affirming the
        question ("no it is", "No I do", "no, she does"), or is a few words holding both a yes and
        a no ("yes no", "sí no"). That is doubt, which on a red flag is a reason to act."""
        words = said.words
        vocabulary = self.understanding.any_language
        single = self._single
        if len(words) >= 3 and single.get(words[0]) is Answer.NO:
            subject, verb = words[-2], words[-1]
            if subject in vocabulary.subjects and verb in vocabulary.verbs:
                return True
        kinds = {single.get(w) for w in words}
        return len(words) <= 4 and Answer.YES in kinds and Answer.NO in kinds

    def _denial_stands(self, decided: Answer, probability: float, scores: Scores) -> bool:
        """Whether a reply that negates the sign asked about ("she hasn't passed out") is a no
        despite what the model chose: yes when the model hears no answer or a no, a weak alarm, or
        doubt with real weight on no ("never fainted"); not when it hears a yes, plain doubt ("not
        sure if she passed out") or an alarm."""
        # An alarm the model hears is not overruled: the denied phrase's words are masked, so what
        # it hears is in the rest ("no trouble swallowing, but her eyelid is hanging down").
        if decided in (Answer.NO, Answer.UNCLEAR):
            return True
        return decided is Answer.UNSURE and scores["no"] >= self.thresholds.denied_no

    def _decide(self, scores: Scores, said: Said) -> tuple[Answer, float]:
        t = self.thresholds
        if scores["crisis"] >= t.crisis:
            return Answer.CRISIS, scores["crisis"]
        if scores["emergency"] >= t.emergency:
            return Answer.EMERGENCY, scores["emergency"]
        # A crisis is the model's word only above its threshold (it stops the triage): below it,
        # the likeliest of the other classes.
        best = max((c for c in _BY_LABEL if c != "crisis"), key=scores.__getitem__)
        if best == "help" and scores["help"] < t.help:
            best = max((c for c in _BY_LABEL if c not in ("crisis", "help")), key=scores.__getitem__)
        answer = _BY_LABEL[best]
        if answer is not Answer.NO:
            return answer, scores[best]
        alarm = scores["emergency"] + scores["crisis"] + scores["urgent"]
        if scores["no"] >= t.no and alarm < t.cue and not self._cued(said):
            return Answer.NO, scores["no"]
        # A no the model is not sure of, or one with an emergency in the air: doubt, if anything
        # in the reply leans toward the sign; else not an answer, asked again.
        leaning = scores["yes"] + scores["unsure"] + alarm
        if leaning >= scores["unclear"]:
            return Answer.UNSURE, scores["unsure"]
        return Answer.UNCLEAR, scores["unclear"]

    def _cued(self, said: Said) -> bool:
        """Whether a reply names an emergency cue word that no negation shortly before cancels."""
        for clause in said.clauses:
            for i, word in enumerate(clause):
                if any(word in cues for cues in self.cues.values()) and not any(
                    w in self.negations for w in clause[max(0, i - 3) : i]
                ):
                    return True
        return False
