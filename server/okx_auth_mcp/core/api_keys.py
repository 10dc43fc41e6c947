"""What verify_credentials knows without I/O: its outcomes and errors, where an API key goes
(:func:`api_key_target`), whether a profile can be signed at all (:func:`check_signable`), the masked UID,
and the words for OKX's refusals. Pure. The procedure (the request) is ``login.verify``.

::

    CredentialsError
    ├── ProfileUnusable      the API-key profile cannot be sent as it is: no site, an incomplete key, an unsafe URL
    ├── ClockSkew            OKX refused the request's time (50102, 50112): this computer's clock is off; for an
    │                        API key, also signed once more with OKX's server time (or that was unreadable, absurd)
    ├── SiteHostMismatch     50119: the key does not exist on the host it was sent to
    ├── RegionRestricted     51155, 51734: not available on the configured site
    └── SessionRejected      OKX refused the OAuth session's access token
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from okx_auth_mcp.core import okx_signing
from okx_auth_mcp.core.oauth_errors import OkxError
from okx_auth_mcp.core.oauth_wire import Url, is_safe_issuer
from okx_auth_mcp.core.okx_codes import CODES
from okx_auth_mcp.core.okx_profiles import ENV_PROFILE, Profile
from okx_auth_mcp.core.sites import SITE_LIST, SITES, SiteId, site_id

_DEMO_VALUES = ("1", "true")


# ----- outcomes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """OKX accepted the credential. ``uid`` is already masked. ``clock_offset_ms``: OKX refused the first
    request's time, and accepted it signed again with OKX's server time; this is OKX's clock minus this
    computer's (positive: this computer's clock is behind)."""

    credential: Literal["api_key", "oauth"]
    site: SiteId
    uid: str
    permissions: tuple[str, ...]
    profile: str | None = None
    demo: bool = False
    clock_offset_ms: int | None = None


@dataclass(frozen=True)
class KeyRejected:
    """OKX refused the API key itself (``code`` None: a bare HTTP 401). OAuth is no remedy while it exists."""

    profile: str
    site: SiteId
    code: str | None


@dataclass(frozen=True)
class NotConfigured:
    """No API key and no OAuth session: nothing was sent."""


@dataclass(frozen=True)
class LoginNotFinished:
    """No API key, and the OAuth login is still waiting for the user: nothing was sent."""

    site: SiteId


@dataclass(frozen=True)
class SessionEnded:
    """The OAuth session's refresh was refused: the session is over (and was removed)."""


Outcome = Verified | KeyRejected | NotConfigured | LoginNotFinished | SessionEnded


# ----- errors ------------------------------------------------------------------------------------------


class CredentialsError(Exception):
    """The credentials could not be verified."""


class ProfileUnusable(CredentialsError):
    """The API-key profile cannot be sent as it is; nothing was sent."""


class OkxRefusal(CredentialsError):
    """OKX refused the request with ``code`` (None: a bare HTTP 401)."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message)
        self.code = code


class ClockSkew(OkxRefusal):
    """OKX refused the request's timestamp: this computer's clock is off. For an API key: also when signed once
    more with OKX's server time, or that time could not be read, or put the clock more than a day off."""


class SiteHostMismatch(OkxRefusal):
    """The API key does not exist on the host it was sent to (50119)."""


class RegionRestricted(OkxRefusal):
    """Not available on the configured site (51155, 51734)."""


class SessionRejected(OkxRefusal):
    """OKX refused the OAuth session's access token."""


# ----- where an API key goes (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    site: SiteId
    base_url: str
    demo: bool


def signed_by(
    profile: Profile, target: Target, timestamp: str, method: str, request_path: str, body: str = ""
) -> dict[str, str]:
    """The headers of one request signed with ``profile``'s key, as ``target`` takes it (its demo flag): they carry
    the passphrase and a signature, and go to the HTTP client only."""
    return okx_signing.signed_headers(
        api_key=profile.api_key,
        secret_key=profile.secret_key,
        passphrase=profile.passphrase,
        timestamp=timestamp,
        method=method,
        request_path=request_path,
        body=body,
        demo=target.demo,
    )


def site_of_api_host(base_url: str) -> SiteId | None:
    """The site whose REST API lives at ``base_url``'s origin, if it is one of the three."""
    try:
        origin = Url.parse(base_url).origin
    except ValueError:
        return None
    return next((s.id for s in SITES.values() if Url.parse(s.api_base_url).origin == origin), None)


def _where_to_set(profile: Profile, config_path: str) -> str:
    if profile.name == ENV_PROFILE:
        return "OKX_SITE in the environment"
    return f"site in [profiles.{profile.name}] of {config_path}"


def api_key_target(profile: Profile, environ: Mapping[str, str], config_path: str) -> Target:
    """Where OKX's client sends this profile's requests (its config loader, agent-trade-kit ``config.ts``):
    the base URL from ``OKX_API_BASE_URL``, else the profile's ``base_url``, else the site's API host; the
    site from ``OKX_SITE``, else the profile's ``site``; demo trading from ``OKX_DEMO`` (1 or true) or the
    profile's ``demo``. Unlike OKX's client, a profile with no site (and no base_url on a site's API host) is
    not sent to Global quietly: :class:`ProfileUnusable`."""
    site_text = environ.get("OKX_SITE", "").strip()
    site = site_id(site_text) if site_text else None
    if site_text and site is None:
        raise ProfileUnusable(  # the value is never repeated: it may be a secret pasted into the wrong variable
            f"OKX_SITE in the environment, the site of the API-key profile {profile.name}, must be {SITE_LIST}"
        )
    base = environ.get("OKX_API_BASE_URL", "").strip() or profile.base_url or None
    site = site or profile.site or (site_of_api_host(base) if base else None)
    if site is None:
        raise ProfileUnusable(
            f"the API-key profile {profile.name} names no site ({SITE_LIST}), so where its key lives is "
            "unknown (OKX's client would use Global, www.okx.com, without asking). Set "
            f"{_where_to_set(profile, config_path)}"
        )
    base_url = (base or SITES[site].api_base_url).rstrip("/")
    if not is_safe_issuer(base_url):
        raise ProfileUnusable(
            f"the API base URL of profile {profile.name} (base_url or OKX_API_BASE_URL) must be an https URL "
            "without credentials, query or fragment (plain http only on 127.0.0.1 or localhost): the request "
            "carries the passphrase"
        )
    demo = profile.demo or environ.get("OKX_DEMO", "").strip().lower() in _DEMO_VALUES
    return Target(site, base_url, demo)


def mask_uid(uid: str) -> str:
    """The first 2 and last 2 digits (``44****00``): enough to recognise an account, not to look it up."""
    return f"{uid[:2]}****{uid[-2:]}" if len(uid) >= 6 else "****"


def check_signable(profile: Profile) -> None:
    """``ProfileUnusable`` when the profile cannot be signed and sent: a key without its secret or passphrase,
    or a value with characters OKX never issues (it would fail in a header, and the error would quote it)."""
    missing = [
        name for name, value in (("secret_key", profile.secret_key), ("passphrase", profile.passphrase)) if not value
    ]
    if missing:
        raise ProfileUnusable(
            f"the API-key profile {profile.name} has an api_key but no {' and no '.join(missing)}: a request "
            "cannot be signed without them"
        )
    fields = (("api_key", profile.api_key), ("secret_key", profile.secret_key), ("passphrase", profile.passphrase))
    garbled = [name for name, value in fields if not (value.isascii() and value.isprintable())]
    if garbled:
        raise ProfileUnusable(
            f"the API-key profile {profile.name} has a {' and a '.join(garbled)} with characters OKX never issues "
            "(only printable ASCII): look for a typo or a stray character"
        )


# ----- what OKX's refusals mean, in our words ------------------------------------------------------------


def said(exc: OkxError) -> str:
    """``code 50102: <the code table's meaning>``: what OKX answered, in our words."""
    entry = CODES.get(exc.code)
    return f"code {exc.code}" + (f": {entry.meaning}" if entry else "")


def clock_message(exc: OkxError, timestamp: str | None) -> str:
    sent = f" (it said {timestamp} when the request left)" if timestamp else ""
    return (
        f"OKX refused the request's time ({said(exc)}): this computer's clock is off{sent}, and every signed "
        "request fails until it is right"
    )


def offset_words(offset_ms: int) -> str:
    """``90.0 s behind OKX's server time (clock offset +90000 ms)``: what a clock offset means."""
    side = "behind" if offset_ms > 0 else "ahead of"
    return f"{abs(offset_ms) / 1000:.1f} s {side} OKX's server time (clock offset {offset_ms:+d} ms)"


def clock_unmeasured(skew: ClockSkew, why: Exception) -> str:
    return f"{skew}; measuring it against OKX's server time failed ({why})"


def clock_absurd(skew: ClockSkew, offset_ms: int) -> str:
    return f"{skew}; measured, it is {offset_words(offset_ms)}: more than a day, a reading that is not used"


def clock_refused_again(skew: ClockSkew, offset_ms: int, code: str | None) -> str:
    return (
        f"{skew}; measured, it is {offset_words(offset_ms)}, and the request signed again with that correction "
        f"was refused too (code {code})"
    )


def site_host_message(exc: OkxError, profile: str, target: Target) -> str:
    host = urlsplit(target.base_url).netloc
    host_site = site_of_api_host(target.base_url)
    if host_site is not None and host_site != target.site:
        where = (
            f"{host} is the {SITES[host_site].label} API host, but the profile's site is {target.site}: the site "
            f"and host do not match (the {SITES[target.site].label} API host is {SITES[target.site].api_base_url})"
        )
    else:
        where = (
            f"the profile's site is {target.site}; if the key was created on another site, the site and host do "
            "not match"
        )
    return (
        f"OKX says the API key of profile {profile} does not exist at {host} ({said(exc)}): {where}. A key "
        "created on www.okx.com works only with site global, one created on my.okx.com only with eea, one "
        "created on app.okx.com only with us, one created on tr.okx.com only with tr"
    )


def region_message(exc: OkxError, site: SiteId) -> str:
    return f"OKX says this is not available on the configured site, {site} ({SITES[site].web_host}) ({said(exc)})"
