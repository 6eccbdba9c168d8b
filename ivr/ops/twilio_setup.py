"""`ivr twilio setup`: point a Twilio number (and its Messaging Service, when it has one) at this
deployment through the REST API, showing the change as a diff and changing nothing already right.

TwiML Bins cannot be created this way: Twilio's REST API has no resource for them (they are made in
the Console), so a Bin made from deploy/twiml-bins/ is given by its URL instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioException

from ivr.config import ConfigError, Settings
from ivr.ops.twilio_rest import E164, SERVICE_SID, Resource, TwilioAccount, account, describe

POST = "POST"


class SetupRefused(ConfigError):
    """Something the command will not do, with what to do instead."""


def require_https(name: str, url: str | None) -> str:
    """The URL, without a trailing slash, if it is an absolute https URL: Twilio sends it what
    people text and say."""
    if not url:
        raise SetupRefused(f"{name} is not set: it must be the public https URL of this deployment")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SetupRefused(
            f"{name} must be an https URL (got {url!r}): Twilio would send people's messages in clear"
        )
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Fallbacks:
    """Where Twilio goes when the primary webhook fails: the app's own routes by default, or the
    URLs of TwiML Bins made from deploy/twiml-bins/ (they answer even with the whole app down)."""

    sms: str
    voice: str

    @classmethod
    def choose(cls, base_url: str, sms: str | None, voice: str | None) -> Fallbacks:
        """The fallback URLs: the TwiML Bin URLs given (https only), else this app's fallback routes."""
        return cls(
            require_https("--sms-fallback-url", sms) if sms else f"{base_url}/sms/fallback",
            require_https("--voice-fallback-url", voice) if voice else f"{base_url}/voice/fallback",
        )


def wanted_number(base_url: str, fallbacks: Fallbacks | None, *, messaging_service: bool) -> dict[str, str]:
    """The number's settings that make it this deployment's. With a Messaging Service the service
    handles incoming texts, so the number's messaging settings are left alone. An application SID
    would override the URLs, so it is cleared. Fallbacks None: not managed (checks only)."""
    wanted = {
        "voice_url": f"{base_url}/voice",
        "voice_method": POST,
        "voice_application_sid": "",
        "status_callback": f"{base_url}/voice/status",
        "status_callback_method": POST,
    }
    if fallbacks is not None:
        wanted |= {"voice_fallback_url": fallbacks.voice, "voice_fallback_method": POST}
    if not messaging_service:
        wanted |= {"sms_url": f"{base_url}/sms", "sms_method": POST, "sms_application_sid": ""}
        if fallbacks is not None:
            wanted |= {"sms_fallback_url": fallbacks.sms, "sms_fallback_method": POST}
    return wanted


def wanted_service(base_url: str, fallbacks: Fallbacks | None) -> dict[str, str]:
    """The Messaging Service's settings: its own inbound URL and fallback, not the number's."""
    wanted = {
        "inbound_request_url": f"{base_url}/sms",
        "inbound_method": POST,
        "use_inbound_webhook_on_number": "false",
    }
    if fallbacks is not None:
        wanted |= {"fallback_url": fallbacks.sms, "fallback_method": POST}
    return wanted


@dataclass(frozen=True, slots=True)
class Part:
    """One resource: what it holds now and what this deployment needs of it."""

    kind: str  # "number" or "messaging service"
    resource: Resource
    wanted: dict[str, str]

    @property
    def changes(self) -> dict[str, str]:
        """The settings that differ from what this deployment needs."""
        return {k: v for k, v in self.wanted.items() if self.resource.fields.get(k, "") != v}

    def diff(self) -> list[str]:
        """Unified-diff style: `-` the current value, `+` the new one, a space for those already right."""
        lines = [f"{self.kind} {self.resource.name} ({self.resource.sid})"]
        for name, value in self.wanted.items():
            current = self.resource.fields.get(name, "")
            if current == value:
                lines.append(f"   {name} = {_shown(value)}")
            else:
                lines.append(f"-  {name} = {_shown(current)}")
                lines.append(f"+  {name} = {_shown(value)}")
        return lines


def _shown(value: str) -> str:
    return value if value else "(empty)"


@dataclass(frozen=True, slots=True)
class Plan:
    """What setup would change, on the number and on its Messaging Service."""

    parts: tuple[Part, ...]

    @property
    def changed(self) -> bool:
        """Whether anything differs."""
        return any(part.changes for part in self.parts)

    def diff(self) -> str:
        """The diff of current and wanted settings, as printed by --dry-run."""
        return "\n".join(line for part in self.parts for line in part.diff()) + "\n"


def plan(
    twilio: TwilioAccount,
    number: str,
    base_url: str,
    fallbacks: Fallbacks | None,
    service_sid: str | None = None,
) -> Plan:
    """Read the number (and the Messaging Service that holds it, found when not given) and work out
    what must change. Refuses a number the account does not own, one whose calls go to a SIP trunk,
    and a service the number is not in."""
    if not E164.fullmatch(number):
        raise SetupRefused(f"--number must be in E.164 form, e.g. +15551234567 (got {number!r})")
    if service_sid is not None and not SERVICE_SID.fullmatch(service_sid):
        raise SetupRefused("--messaging-service must be a Messaging Service SID, MG and 32 hex digits")
    resource = twilio.number(number)
    if resource is None:
        raise SetupRefused(
            f"the account {twilio.account_sid} does not own {number}: check the number, and that"
            " TWILIO_ACCOUNT_SID is the account (or subaccount) that holds it"
        )
    if resource.fields.get("trunk_sid"):
        raise SetupRefused(
            f"{number} sends its calls to the SIP trunk {resource.fields['trunk_sid']}, which overrides"
            " its voice URLs: remove it from the trunk first (Elastic SIP Trunking > Numbers)"
        )
    if service_sid is None:
        # Texts to a number in a Messaging Service go where the service says, not the number.
        service_sid = twilio.service_of(resource.sid)
    elif resource.sid not in twilio.service_numbers(service_sid):
        raise SetupRefused(
            f"{number} is not in the Messaging Service {service_sid}: add it to the service's sender"
            " pool (Messaging > Services > Sender Pool), or leave out --messaging-service"
        )
    parts = [
        Part(
            "number", resource, wanted_number(base_url, fallbacks, messaging_service=service_sid is not None)
        )
    ]
    if service_sid is not None:
        parts.append(
            Part("messaging service", twilio.service(service_sid), wanted_service(base_url, fallbacks))
        )
    return Plan(tuple(parts))


def apply(twilio: TwilioAccount, planned: Plan, say: Callable[[str], None] = print) -> int:
    """Send only what differs; returns how many resources were updated."""
    updated = 0
    for part in planned.parts:
        if not part.changes:
            continue
        if part.kind == "number":
            twilio.update_number(part.resource.sid, part.changes)
        else:
            twilio.update_service(part.resource.sid, part.changes)
        say(f"updated {part.kind} {part.resource.name}: {', '.join(part.changes)}")
        updated += 1
    return updated


def run(
    settings: Settings,
    *,
    number: str,
    service_sid: str | None = None,
    sms_fallback_url: str | None = None,
    voice_fallback_url: str | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """The command: refuse what it must, show the diff, then change what differs (unless a dry run).
    Refusals raise SetupRefused; an error from Twilio's API is shown on stderr and gives status 1."""
    base_url = require_https("PUBLIC_BASE_URL", settings.public_base_url)
    fallbacks = Fallbacks.choose(base_url, sms_fallback_url, voice_fallback_url)
    try:
        with account(settings) as twilio:
            planned = plan(twilio, number, base_url, fallbacks, service_sid)
            say(planned.diff().rstrip("\n"))
            if not planned.changed:
                say(f"nothing to change: {number} already points at {base_url}")
            elif dry_run:
                say("dry run: nothing was changed")
            else:
                apply(twilio, planned, say)
    except TwilioException as exc:
        print(f"Twilio's API refused: {describe(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # requests' connection errors are OSErrors
        print(f"could not reach Twilio's API: {type(exc).__name__}", file=sys.stderr)
        return 1
    if fallbacks.sms.startswith(base_url):
        say(
            "fallbacks: this app's own routes, which fail along with it; for an outage of the whole"
            " app, make TwiML Bins from deploy/twiml-bins/ in the Console and pass their URLs with"
            " --sms-fallback-url and --voice-fallback-url"
        )
    return 0
