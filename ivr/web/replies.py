"""TwiML for each reply, rendered once per flow version and output and then reused as text.

A conversation's replies come from a small, fixed set (questions, re-prompts and outcomes in each
language), so rendering them with the twilio library at every webhook repeats the same work. Voice
replies differ only by the step token in their URLs, which is put into a cached template.
"""

from __future__ import annotations

from ivr.channels import sms, voice
from ivr.channels.voice import VoiceStyle
from ivr.core.engine import Output
from ivr.core.flow import Flow

_TOKEN = "@@step-token@@"  # noqa: S105 - a placeholder in cached TwiML, not a credential
MAX_ENTRIES = 20_000  # far above what the flows can produce; a bound in case of a surprise


class Replies:
    """Rendered replies for one app (its settings fix the voice style, URLs and the nurse)."""

    def __init__(
        self,
        style: VoiceStyle,
        gather_url: str,
        handoff_url: str,
        *,
        nurse: bool,
        screen_url: str = "",
        accept_url: str = "",
        followup_url: str = "",
    ) -> None:
        self.style = style
        self.gather_url = gather_url
        self.handoff_url = handoff_url
        self.screen_url = screen_url
        self.accept_url = accept_url  # where the nurse's key press goes, from the screening
        self.followup_url = followup_url  # where a caller's request for the advice by text goes
        self.nurse = nurse
        self._sms: dict[tuple[int, Output], str] = {}
        self._voice: dict[tuple[int, Output], str] = {}

    def sms(self, flow: Flow, output: Output) -> str:
        """The TwiML for an output by text, from the cache when it was made before."""
        key = (id(flow), output)  # flows live as long as the registry: their ids are stable
        found = self._sms.get(key)
        if found is None:
            found = sms.render(flow, output, nurse=self.nurse)
            self._keep(self._sms, key, found)
        return found

    def voice(self, flow: Flow, output: Output, token: str) -> str:
        """The TwiML for an output on a call, with the step token put into its URLs."""
        key = (id(flow), output)
        template = self._voice.get(key)
        if template is None:
            template = voice.render(
                flow,
                output,
                action_url=f"{self.gather_url}?t={_TOKEN}",
                handoff_url=f"{self.handoff_url}?t={_TOKEN}",
                screen_url=f"{self.screen_url}?t={_TOKEN}",
                followup_url=f"{self.followup_url}?t={_TOKEN}" if self.followup_url else "",
                style=self.style,
            )
            self._keep(self._voice, key, template)
        return template.replace(_TOKEN, token)

    def offers_followup(self, flow: Flow, output: Output) -> bool:
        """Whether the voice reply to this output offers its advice by text."""
        return bool(self.followup_url) and voice.offers_followup(flow, output, self.style)

    @staticmethod
    def _keep(cache: dict[tuple[int, Output], str], key: tuple[int, Output], value: str) -> None:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = value
