"""Checking X-Twilio-Signature with the twilio library, against the URL Twilio actually called."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlparse

from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator, add_port, compare, remove_port

SIGNATURE_HEADER = "X-Twilio-Signature"


class SignatureChecker:
    """Validates webhook signatures. Behind a TLS proxy the app sees an internal URL while Twilio
    signed the public one, so the public base URL, when configured, replaces scheme and host.

    Connection overrides (`#ct=1000&rt=4000` after a webhook URL in the Console) are a URL fragment,
    which is never sent: the app cannot see them. Twilio signs "the exact URL your application
    supplied" (its webhook security guide), which would include the fragment; its docs do not say
    either way. So with `overrides` configured (the same fragment, WEBHOOK_CONNECTION_OVERRIDES) a
    signature over the URL with the fragment is accepted as well as one over the URL without it.
    """

    def __init__(self, auth_token: str, public_base_url: str | None, overrides: str | None = None) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_base_url = public_base_url
        self._fragment = f"#{overrides}" if overrides else ""

    def signed_url(self, path: str, query: str, request_url: Callable[[], str]) -> str:
        """The URL Twilio signed: the request's path and query on PUBLIC_BASE_URL when it is set,
        else the URL as this process sees it (`request_url`, only built then)."""
        if self._public_base_url is None:
            return request_url()
        return self._public_base_url + path + (f"?{query}" if query else "")

    def is_valid(self, url: str, params: Sequence[tuple[str, str]], signature: str | None) -> bool:
        """The same test as RequestValidator.validate (the URL as given, and with its default port
        added or removed), from the same library functions, but it stops at the first match: for a
        genuine request that is one HMAC instead of the two `validate` always computes."""
        if not signature:  # `validate` raises on a missing signature; a missing one is simply invalid
            return False
        values = ImmutableMultiDict(params)
        return any(
            compare(self._validator.compute_signature(candidate, values), signature)
            for candidate in self._candidates(url)
        )

    def _candidates(self, url: str) -> Iterator[str]:
        """The URLs Twilio may have signed, the usual one first; the others are only worked out
        when it does not match (a genuine request costs one HMAC)."""
        if self._fragment:
            yield url + self._fragment
        yield url
        parsed = urlparse(url)
        other = remove_port(parsed) if parsed.port else add_port(parsed)
        if self._fragment:
            yield other + self._fragment
        yield other

    def sign(self, url: str, params: Sequence[tuple[str, str]]) -> str:
        """The signature Twilio would send; used by `ivr chat`, `ivr call` and the tests."""
        return str(self._validator.compute_signature(url, ImmutableMultiDict(params)))
