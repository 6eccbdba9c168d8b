"""Checking X-Twilio-Signature with the twilio library, against the URL Twilio actually called, with
the Auth Token or a shared key, as the request says."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal
from urllib.parse import urlparse

from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    HMAC_SHA1,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    compare,
    get_signature_algorithm,
    remove_port,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER: str = SIGNATURE_SETTINGS_HEADER  # X-Twilio-Webhooks-Signature-Settings

# What a signature check found: a valid signature, or why it was refused.
Verdict = Literal["valid", "invalid", "unknown key", "no shared keys", "unsupported algorithm"]


def key_id(settings_header: str) -> str:
    """The SharedKey a request says it was signed with: `key=<id>` in its signature settings header
    ("key=<sharedKeyId>,algorithm=<algorithm>", the twilio library's request_validator)."""
    for part in settings_header.split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "key":
            return value.strip()
    return ""


class SignatureChecker:
    """Validates webhook signatures. Behind a TLS proxy the app sees an internal URL while Twilio
    signed the public one, so the public base URL, when configured, replaces scheme and host.

    Two signing schemes, as the twilio library's RequestValidator (9.13) supports them: by default
    Twilio signs with the account's Auth Token and HMAC-SHA1; when a Webhook Rule applies a Setting
    that names a SharedKey, it signs with that key's secret and the Setting's algorithm (HMAC-SHA1
    or HMAC-SHA256), and says so in X-Twilio-Webhooks-Signature-Settings. The signed string is the
    same in both. `shared_keys` maps each SharedKey id to its secret (several during a rotation); a
    request that names a key not configured here is refused, never checked against the Auth Token.

    Connection overrides (`#ct=1000&rt=4000` after a webhook URL in the Console) are a URL fragment,
    which is never sent: the app cannot see them. Twilio signs "the exact URL your application
    supplied" (its webhook security guide), which would include the fragment; its docs do not say
    either way. So with `overrides` configured (the same fragment, WEBHOOK_CONNECTION_OVERRIDES) a
    signature over the URL with the fragment is accepted as well as one over the URL without it.
    """

    def __init__(
        self,
        auth_token: str,
        public_base_url: str | None,
        overrides: str | None = None,
        *,
        shared_keys: Mapping[str, str] | None = None,
    ) -> None:
        self._validator = RequestValidator(auth_token)
        self._shared = {kid: RequestValidator(secret) for kid, secret in (shared_keys or {}).items()}
        self._public_base_url = public_base_url
        self._fragment = f"#{overrides}" if overrides else ""

    def signed_url(self, path: str, query: str, request_url: Callable[[], str]) -> str:
        """The URL Twilio signed: the request's path and query on PUBLIC_BASE_URL when it is set,
        else the URL as this process sees it (`request_url`, only built then)."""
        if self._public_base_url is None:
            return request_url()
        return self._public_base_url + path + (f"?{query}" if query else "")

    def is_valid(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str | None,
        settings_header: str | None = None,
    ) -> bool:
        """Whether the signature is Twilio's (see `verdict`)."""
        return self.verdict(url, params, signature, settings_header) == "valid"

    def verdict(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str | None,
        settings_header: str | None = None,
    ) -> Verdict:
        """The same test as RequestValidator.validate (the URL as given, and with its default port
        added or removed), from the same library functions, but it stops at the first match: for a
        genuine request that is one HMAC instead of the two `validate` always computes. Without a
        signature settings header the Auth Token and HMAC-SHA1 are used; with one, the secret of the
        SharedKey it names and the algorithm it names."""
        if not signature:  # `validate` raises on a missing signature; a missing one is simply invalid
            return "invalid"
        validator, algorithm = self._validator, HMAC_SHA1
        if settings_header:
            if not self._shared:
                return "no shared keys"
            found = self._shared.get(key_id(settings_header))
            if found is None:
                return "unknown key"
            validator, algorithm = found, get_signature_algorithm(settings_header)
        values = ImmutableMultiDict(params)
        try:
            for candidate in self._candidates(url):
                if compare(validator.compute_signature(candidate, values, algorithm), signature):
                    return "valid"
        except ValueError:  # the library knows HMAC_SHA1 and HMAC_SHA256; anything else is refused
            return "unsupported algorithm"
        return "invalid"

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
        """The signature Twilio would send with the Auth Token; used by `ivr chat`, `ivr call` and
        the tests."""
        return str(self._validator.compute_signature(url, ImmutableMultiDict(params)))
