"""verify_credentials: does OKX accept the credential in effect? One read-only request,
``GET /api/v5/account/config``.

The credential is the one OKX's client would use, whose REST client always prefers an API key and never
falls back to OAuth:

- the API-key profile :meth:`OkxConfig.api_key_profile` picks (environment first, then ``default_profile``):
  a request signed by ``okx_signing``, sent where OKX's client sends it (:func:`api_key_target`);
- else the OAuth session: ``Authorization: Bearer`` (refreshed first when near expiry) and ``TERMID``, this
  installation's device id, to the session's site;
- else nothing: :class:`NotConfigured` (or the login still pending, or a session the server ended).

OKX's answer is judged by its code, through the code table (``okx_codes``), never by its ``msg``. A refused
API key is an outcome (:class:`KeyRejected`: the tool offers the two options of the skill's Step 0.2.a), and
so is every state in which there is nothing to send. Failures are errors::

    CredentialsError
    ├── ProfileUnusable      the API-key profile cannot be sent as it is: no site, an incomplete key, an unsafe URL
    ├── ClockSkew            OKX refused the request's time (50102, 50112): this computer's clock is off
    ├── SiteHostMismatch     50119: the key does not exist on the host it was sent to
    ├── RegionRestricted     51155, 51734: not available on the configured site
    └── SessionRejected      OKX refused the OAuth session's access token

Any other OKX code passes through as ``OkxError`` (whose text is the code's meaning and next step), and so
do the lower layers' errors (``NetworkError``, ``BadResponse``, ``ConfigError``, ``StoreError``,
``OAuthError``); the tool boundary translates all of them. Nothing here logs or returns a secret key, a
passphrase, a token, an API key or an unmasked UID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from okx_auth_mcp.core import okx_signing
from okx_auth_mcp.core.oauth_errors import InvalidGrant, OkxError
from okx_auth_mcp.core.oauth_wire import Url, is_safe_issuer
from okx_auth_mcp.core.okx_codes import CODES, code_kind
from okx_auth_mcp.core.sites import SITES, SiteId, site_id
from okx_auth_mcp.edges.okx_api import ACCOUNT_CONFIG_PATH, AccountConfig, OkxApi, Unauthorized
from okx_auth_mcp.edges.okx_config import ENV_PROFILE, Profile
from okx_auth_mcp.login.service import AuthService

log = logging.getLogger(__name__)

_DEMO_VALUES = ("1", "true")


# ----- outcomes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """OKX accepted the credential. ``uid`` is already masked."""

    credential: Literal["api_key", "oauth"]
    site: SiteId
    uid: str
    permissions: tuple[str, ...]
    profile: str | None = None
    demo: bool = False


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
    """OKX refused the request's timestamp: this computer's clock is off."""


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
        raise ProfileUnusable(f"OKX_SITE is {site_text!r}; it must be global, eea or us")
    base = environ.get("OKX_API_BASE_URL", "").strip() or profile.base_url or None
    site = site or profile.site or (site_of_api_host(base) if base else None)
    if site is None:
        raise ProfileUnusable(
            f"the API-key profile {profile.name} names no site (global, eea or us), so where its key lives is "
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


# ----- the procedure -----------------------------------------------------------------------------------


def api_client(service: AuthService) -> OkxApi:
    """The REST client verify uses, with the service's timeout."""
    return OkxApi(timeout=service.settings.http_timeout)


def verify(service: AuthService, api: OkxApi, clock: Callable[[], float]) -> Outcome:
    """Verify the credential OKX's client would use (module docstring). ``clock`` stamps signed requests."""
    config = service.config()
    profile = config.api_key_profile()
    if profile is not None:
        return _verify_api_key(profile, service.settings.environ, str(config.path), api, clock)
    state = service.auth_state()
    if state.status == "pending" and state.site is not None:
        return LoginNotFinished(state.site)
    if state.status != "logged_in" or state.site is None:
        return NotConfigured()
    return _verify_oauth(service, state.site, api)


def _verify_api_key(
    profile: Profile, environ: Mapping[str, str], config_path: str, api: OkxApi, clock: Callable[[], float]
) -> Outcome:
    target = api_key_target(profile, environ, config_path)
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
    if garbled:  # it would fail in a header, and the error would quote the character: never send it
        raise ProfileUnusable(
            f"the API-key profile {profile.name} has a {' and a '.join(garbled)} with characters OKX never issues "
            "(only printable ASCII): look for a typo or a stray character"
        )
    timestamp = okx_signing.iso_timestamp(clock())
    headers = okx_signing.signed_headers(
        api_key=profile.api_key,
        secret_key=profile.secret_key,
        passphrase=profile.passphrase,
        timestamp=timestamp,
        method="GET",
        request_path=ACCOUNT_CONFIG_PATH,
        demo=target.demo,
    )
    try:
        account = api.account_config(target.base_url, headers)
    except Unauthorized:
        log.info("verify_credentials: OKX refused the API key of profile %s (HTTP 401)", profile.name)
        return KeyRejected(profile.name, target.site, None)
    except OkxError as exc:
        log.info("verify_credentials: OKX refused the API key of profile %s with code %s", profile.name, exc.code)
        kind = code_kind(exc.code)
        if kind == "key_rejected":
            return KeyRejected(profile.name, target.site, exc.code)
        if kind == "clock":
            raise ClockSkew(_clock_message(exc, timestamp), exc.code) from None
        if kind == "site_host":
            raise SiteHostMismatch(_site_host_message(exc, profile.name, target), exc.code) from None
        if kind == "region":
            raise RegionRestricted(_region_message(exc, target.site), exc.code) from None
        raise
    return _verified(account, "api_key", target.site, profile.name, target.demo)


def _verify_oauth(service: AuthService, site: SiteId, api: OkxApi) -> Outcome:
    try:
        token = service.bearer_token()
    except InvalidGrant:
        log.info("verify_credentials: the OAuth session's refresh was refused; the session is over")
        return SessionEnded()
    headers = {"Authorization": f"Bearer {token}", "TERMID": service.store.device_id()}
    try:
        account = api.account_config(service.api_base_url(), headers)
    except Unauthorized:
        raise SessionRejected("OKX refused the OAuth session's access token (HTTP 401)", None) from None
    except OkxError as exc:
        log.info("verify_credentials: OKX refused the OAuth request with code %s", exc.code)
        kind = code_kind(exc.code)
        if kind in ("session", "key_rejected"):
            raise SessionRejected(f"OKX refused the OAuth session's access token ({_said(exc)})", exc.code) from None
        if kind == "clock":
            raise ClockSkew(_clock_message(exc, None), exc.code) from None
        if kind == "region":
            raise RegionRestricted(_region_message(exc, site), exc.code) from None
        raise
    return _verified(account, "oauth", site, None, False)


def _verified(
    account: AccountConfig, credential: Literal["api_key", "oauth"], site: SiteId, profile: str | None, demo: bool
) -> Verified:
    log.info("verify_credentials: OKX accepted the %s credential (site %s)", credential, site)
    return Verified(credential, site, mask_uid(account.uid), account.permissions, profile, demo)


def _said(exc: OkxError) -> str:
    """``code 50102: <the code table's meaning>``: what OKX answered, in our words."""
    entry = CODES.get(exc.code)
    return f"code {exc.code}" + (f": {entry.meaning}" if entry else "")


def _clock_message(exc: OkxError, timestamp: str | None) -> str:
    sent = f" (it said {timestamp} when the request left)" if timestamp else ""
    return (
        f"OKX refused the request's time ({_said(exc)}): this computer's clock is off{sent}, and every signed "
        "request fails until it is right"
    )


def _site_host_message(exc: OkxError, profile: str, target: Target) -> str:
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
        f"OKX says the API key of profile {profile} does not exist at {host} ({_said(exc)}): {where}. A key "
        "created on www.okx.com works only with site global, one created on my.okx.com only with eea, one "
        "created on app.okx.com only with us"
    )


def _region_message(exc: OkxError, site: SiteId) -> str:
    return f"OKX says this is not available on the configured site, {site} ({SITES[site].web_host}) ({_said(exc)})"
