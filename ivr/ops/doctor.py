"""`ivr doctor`: check a deployment end to end and say, for each problem, what to do.

Each check gives pass, warn or fail; any fail makes the exit status 1, so it can gate a deploy.
Nothing here changes the deployment; the signature check sends one forged request, which the
deployment counts in ivr_signature_rejections_total like any other.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError
from twilio.base.exceptions import TwilioException

from ivr.authoring.checker import check_paths
from ivr.channels.signatures import SIGNATURE_HEADER, SignatureChecker
from ivr.config import ConfigError, Settings, load_settings, load_tool_settings
from ivr.ops import twilio_rest
from ivr.ops.twilio_setup import Plan, SetupRefused, plan
from ivr.store.diagnosis import redis_failure
from ivr.store.errors import StoreUnavailable
from ivr.store.inspect import NodeSettings, inspect

REQUEST_ID = "ivr-doctor"  # in the deployment's logs next to the requests the doctor sends
_DEV_HINT = re.compile(r"\s*\(for local development only[^)]*\)")  # not advice for a deployment
FORM = {"content-type": "application/x-www-form-urlencoded", "x-request-id": REQUEST_ID}


class Status(StrEnum):
    """The verdict of one check."""

    PASS = "pass"  # noqa: S105 - a check's result, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's table: what was checked, the verdict, what was seen and what to do."""

    name: str
    status: Status
    detail: str
    todo: str = ""  # what to do about a warn or a fail


def passed(name: str, detail: str) -> Check:
    """A check that passed."""
    return Check(name, Status.PASS, detail)


def warned(name: str, detail: str, todo: str) -> Check:
    """A check that passed with a warning, and what to do about it."""
    return Check(name, Status.WARN, detail, todo)


def failed(name: str, detail: str, todo: str) -> Check:
    """A check that failed, and what to do about it."""
    return Check(name, Status.FAIL, detail, todo)


# ---- configuration -----------------------------------------------------------------------------


def load() -> Settings:
    """The deployment's settings as the app would read them, except that missing secrets do not
    stop the doctor: they become a failed check. Any other invalid setting raises ConfigError."""
    try:
        return load_settings()
    except ConfigError:
        return load_tool_settings()


def check_secrets(settings: Settings) -> Check:
    """The Auth Token and hash key are set and not placeholders (the same rule the app starts by)."""
    name = "secrets"
    if settings.ivr_insecure_dev is not None:
        return failed(name, "IVR_INSECURE_DEV is set", "remove it: it is retired, and lifts nothing")
    if settings.mode == "local":
        return failed(
            name,
            "neither TWILIO_AUTH_TOKEN nor IVR_HASH_KEY is set: the app would start in local mode",
            "set both in the deployment's environment or .env",
        )
    try:
        Settings(**settings.model_dump())
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        return failed(name, _DEV_HINT.sub("", problems), "set them in the deployment's environment or .env")
    return passed(name, "TWILIO_AUTH_TOKEN and IVR_HASH_KEY are set and not placeholders")


def check_public_url(settings: Settings) -> Check:
    """PUBLIC_BASE_URL is set and https."""
    name = "public URL"
    url = settings.public_base_url
    if not url:
        return failed(name, "PUBLIC_BASE_URL is not set", "set it to the https URL Twilio calls")
    if urlsplit(url).scheme != "https":
        return failed(
            name, f"{url} is not https", "serve the line behind TLS and set PUBLIC_BASE_URL to its https URL"
        )
    return passed(name, url)


def check_flows(settings: Settings) -> Check:
    """The same proof `ivr flows check` gives."""
    name = "flows check"
    flows, problems = check_paths([settings.flows_dir])
    if problems:
        shown = "; ".join(map(str, problems[:3])) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        return failed(
            name,
            f"{len(problems)} problem(s): {shown}",
            "run `ivr flows check` and fix the flows before serving",
        )
    return passed(name, ", ".join(f"{f.id} {f.version}" for f in flows) + " safe to serve")


# ---- the public URL ----------------------------------------------------------------------------


async def check_health(settings: Settings, http: httpx.AsyncClient) -> Check:
    """PUBLIC_BASE_URL/healthz answers 200."""
    name = "public /healthz"
    if not settings.public_base_url:
        return failed(name, "no PUBLIC_BASE_URL to call", "set PUBLIC_BASE_URL")
    url = f"{settings.public_base_url}/healthz"
    try:
        response = await http.get(url, headers={"x-request-id": REQUEST_ID})
    except httpx.HTTPError as exc:
        return failed(name, f"could not reach {url}: {_unreachable(exc)}", UNREACHABLE_TODO)
    if response.status_code != 200:
        return failed(
            name, f"{url} answered {response.status_code}", "the proxy must forward to the app's port 8000"
        )
    return passed(name, f"{url} answers 200")


async def check_signatures(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    """A request signed with this TWILIO_AUTH_TOKEN for PUBLIC_BASE_URL/sms gets past the signature
    check (it lacks a message, so it gets the safety net and nothing is stored; a deployment from
    before that answered 400); a forged one gets 403."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not settings.public_base_url or not token:
        missing = "no PUBLIC_BASE_URL" if token else "no TWILIO_AUTH_TOKEN"
        return [failed("signed request", f"{missing} to sign with", "set it")]
    url = f"{settings.public_base_url}/sms"
    params = [("AccountSid", settings.twilio_account_sid or "")]
    signature = SignatureChecker(token, None).sign(url, params)
    signed = await _post(http, url, params, signature)
    if isinstance(signed, str):  # nothing answered: neither request says anything about signatures
        detail = f"could not reach {url}: {signed}"
        return [failed("signed request", detail, UNREACHABLE_TODO), failed("forged request", detail, "")]
    forged = await _post(http, url, params, "forged" + signature[6:])
    results = []
    if signed in (200, 400):
        results.append(passed("signed request", f"{url} accepted a request signed with TWILIO_AUTH_TOKEN"))
    elif signed == 403:
        results.append(
            failed(
                "signed request",
                f"{url} refused a request signed with TWILIO_AUTH_TOKEN (403)",
                "the deployment's TWILIO_AUTH_TOKEN or PUBLIC_BASE_URL differs from these: every webhook"
                " from Twilio is being refused",
            )
        )
    else:
        results.append(failed("signed request", f"{url}: {signed}", "expected 200 (signature accepted)"))
    if forged == 403:
        results.append(passed("forged request", f"{url} refused a forged signature (403)"))
    elif isinstance(forged, str):
        results.append(failed("forged request", f"could not reach {url}: {forged}", UNREACHABLE_TODO))
    else:
        results.append(
            failed(
                "forged request",
                f"{url} answered {forged} to a forged signature",
                "the deployment must check X-Twilio-Signature: is this the triage line?",
            )
        )
    return results


async def _post(
    http: httpx.AsyncClient, url: str, params: list[tuple[str, str]], signature: str
) -> str | int:
    """The status of a POST, or why nothing answered."""
    try:
        response = await http.post(url, data=dict(params), headers={**FORM, SIGNATURE_HEADER: signature})
    except httpx.HTTPError as exc:
        return _unreachable(exc)
    return response.status_code


UNREACHABLE_TODO = "check PUBLIC_BASE_URL, DNS, the TLS proxy, and that the app runs behind it"


def _unreachable(exc: httpx.HTTPError) -> str:
    """Why a request to the public URL got no answer, in words, with the error's kind."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({kind})"
    if isinstance(exc, httpx.ConnectError) and "ssl" in str(exc).lower():
        return f"the TLS handshake failed ({kind})"
    if isinstance(exc, httpx.ConnectError):
        return f"nothing accepted the connection, or the name does not resolve ({kind})"
    return f"the request failed ({kind})"


# ---- Redis -------------------------------------------------------------------------------------


async def check_redis(settings: Settings) -> list[Check]:
    """Redis answers, never evicts (noeviction) and keeps what it is told (persistence)."""
    if not settings.redis_url:
        return [
            failed(
                "redis",
                "REDIS_URL is not set: an in-process store, one process, lost at every restart",
                "set REDIS_URL (docker-compose.yml does)",
            )
        ]
    try:
        nodes = await inspect(settings.redis_url, wait=max(settings.redis_timeout, 2.0))
    except StoreUnavailable as exc:
        found = redis_failure(exc, settings.redis_url)
        if found is None:
            return [failed("redis", str(exc), "check REDIS_URL, the network and that Redis runs")]
        return [failed("redis", found.problem, found.todo)]
    return [passed("redis", f"answers ({len(nodes)} data node(s))"), _eviction(nodes), _persistence(nodes)]


def _where(node: NodeSettings) -> str:
    return f" on {node.node}" if node.node else ""


def _eviction(nodes: Sequence[NodeSettings]) -> Check:
    name = "redis eviction"
    for node in nodes:
        if node.maxmemory_policy is None:
            return warned(
                name,
                f"could not read maxmemory-policy{_where(node)} (CONFIG refused)",
                "make sure it is noeviction in your Redis service's settings",
            )
        if node.maxmemory_policy != "noeviction":
            return failed(
                name,
                f"maxmemory-policy is {node.maxmemory_policy}{_where(node)}: when memory runs out Redis"
                " silently drops conversations",
                "set maxmemory-policy noeviction (full memory then refuses writes, and callers get the"
                " safety net, counted and alerted on)",
            )
    return passed(name, "maxmemory-policy noeviction")


def _persistence(nodes: Sequence[NodeSettings]) -> Check:
    name = "redis persistence"
    kinds = []
    for node in nodes:
        if node.aof:
            kinds.append("append-only file")
        elif node.save:
            kinds.append(f"snapshots only (save {node.save})")
        elif node.aof is None or node.save is None:
            return warned(
                name, f"could not read persistence{_where(node)}", "make sure appendonly or snapshots are on"
            )
        else:
            return warned(
                name,
                f"persistence is off{_where(node)}: a restart loses every conversation in progress",
                "set appendonly yes (docker-compose.yml does, fsync every second)",
            )
    return passed(name, ", ".join(sorted(set(kinds))))


# ---- Twilio ------------------------------------------------------------------------------------


def check_number(settings: Settings, number: str | None, service_sid: str | None) -> Check:
    """The number's webhooks (or its Messaging Service's) point at this deployment, through the REST
    API. Fallbacks may be the app's routes or TwiML Bins: they must only be set."""
    name = "number webhooks"
    todo = f"run `ivr twilio setup --number {number or '+1...'}`"
    if not number:
        return warned(name, "not checked: no --number given", "run `ivr doctor --number +1...`")
    if not settings.twilio_account_sid:
        return warned(name, "not checked: TWILIO_ACCOUNT_SID is not set", "set it to check the number")
    if not settings.public_base_url:
        return failed(name, "no PUBLIC_BASE_URL to compare with", "set PUBLIC_BASE_URL")
    try:
        with twilio_rest.account(settings) as twilio:
            planned = plan(twilio, number, settings.public_base_url, None, service_sid)
    except (SetupRefused, ConfigError) as exc:
        return failed(name, str(exc), "check --number, --messaging-service and the TWILIO_ settings")
    except TwilioException as exc:
        return failed(name, f"Twilio's API refused: {twilio_rest.describe(exc)}", "check the credentials")
    except OSError as exc:
        return failed(name, f"could not reach Twilio's API: {type(exc).__name__}", "check the network")
    wrong = _differences(planned)
    if wrong:
        return failed(name, "; ".join(wrong), todo)
    missing = _missing_fallbacks(planned)
    if missing:
        return warned(name, f"no fallback URL: {', '.join(missing)}", todo)
    what = f"{number} and its Messaging Service point" if len(planned.parts) > 1 else f"{number} points"
    return passed(name, f"{what} at {settings.public_base_url}")


def _differences(planned: Plan) -> list[str]:
    return [
        f"{part.kind} {field} is {part.resource.fields.get(field) or '(empty)'}, not {value or '(empty)'}"
        for part in planned.parts
        for field, value in part.changes.items()
    ]


def _missing_fallbacks(planned: Plan) -> list[str]:
    fields = {"number": ("voice_fallback_url", "sms_fallback_url"), "messaging service": ("fallback_url",)}
    missing = []
    for part in planned.parts:
        for field in fields[part.kind]:
            if field == "sms_fallback_url" and len(planned.parts) > 1:
                continue  # the service's fallback is the one used
            if not part.resource.fields.get(field, "").startswith("https://"):
                missing.append(f"{part.kind} {field}")
    return missing


# ---- all together ------------------------------------------------------------------------------


async def diagnose(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    number: str | None = None,
    service_sid: str | None = None,
) -> list[Check]:
    """Every check, in the order an operator would fix things."""
    checks = [check_secrets(settings), check_public_url(settings), await check_health(settings, http)]
    checks += await check_signatures(settings, http)
    checks += await check_redis(settings)
    checks.append(await asyncio.to_thread(check_number, settings, number, service_sid))
    checks.append(check_flows(settings))
    return checks


def table(checks: Sequence[Check]) -> str:
    """The checks as a table of verdicts, details and what to do."""
    width = max(len(c.name) for c in checks)
    lines = [f"{'check':<{width}}  result  detail"]
    for c in checks:
        lines.append(f"{c.name:<{width}}  {c.status.value:<6}  {c.detail}")
        if c.todo:
            lines.append(f"{'':<{width}}  {'':<6}  -> {c.todo}")
    fails = sum(c.status is Status.FAIL for c in checks)
    warns = sum(c.status is Status.WARN for c in checks)
    lines.append("")
    lines.append(f"{len(checks)} checks: {fails} failed, {warns} warned")
    return "\n".join(lines) + "\n"


def exit_status(checks: Sequence[Check]) -> int:
    """1 when any check failed, else 0: the doctor can gate a deploy."""
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


async def run(
    settings: Settings, *, number: str | None, service_sid: str | None, http: httpx.AsyncClient | None = None
) -> tuple[list[Check], int]:
    """The checks and the exit status; `http` reaches the public URL (a fresh client by default)."""
    if http is None:
        async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
            return await run(settings, number=number, service_sid=service_sid, http=client)
    checks = await diagnose(settings, http, number=number, service_sid=service_sid)
    return checks, exit_status(checks)
