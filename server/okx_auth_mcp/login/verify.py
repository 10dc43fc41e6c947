"""verify_credentials: does OKX accept the credential in effect? One read-only request,
``GET /api/v5/account/config``.

The credential is the one OKX's client would use, whose REST client always prefers an API key and never
falls back to OAuth:

- the API-key profile :meth:`OkxConfig.api_key_profile` picks (environment first, then ``default_profile``):
  a request signed by ``okx_signing``, sent where OKX's client sends it (:func:`api_key_target`); when OKX
  refuses its time (50102, 50112), signed once more with the clock corrected by one reading of OKX's server
  time (``GET /api/v5/public/time`` of the same host), and the offset reported in :class:`Verified`;
- else the OAuth session: ``Authorization: Bearer`` (refreshed first when near expiry) and ``TERMID``, this
  installation's device id, to the session's site; a refused token is retried once with the session read
  again (another process may have refreshed it meanwhile, which revokes the old token), as ``OkxAuth`` does;
- else nothing: :class:`NotConfigured` (or the login still pending, or a session the server ended).

OKX's answer is judged by its code, through the code table (``okx_codes``), never by its ``msg``. A refused
API key is an outcome (:class:`KeyRejected`: the tool offers the two options of the skill's Step 0.2.a), and
so is every state in which there is nothing to send. Failures are ``core.api_keys``' ``CredentialsError``
family.

Any other OKX code passes through as ``OkxError`` (whose text is the code's meaning and next step), and so
do the lower layers' errors (``NetworkError``, ``BadResponse``, ``ConfigError``, ``StoreError``,
``OAuthError``); the tool boundary translates all of them. Nothing here logs or returns a secret key, a
passphrase, a token, an API key or an unmasked UID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Literal

from okx_auth_mcp.core import okx_signing
from okx_auth_mcp.core.api_keys import (
    ClockSkew,
    KeyRejected,
    LoginNotFinished,
    NotConfigured,
    Outcome,
    RegionRestricted,
    SessionEnded,
    SessionRejected,
    SiteHostMismatch,
    Target,
    Verified,
    api_key_target,
    check_signable,
    clock_absurd,
    clock_message,
    clock_refused_again,
    clock_unmeasured,
    mask_uid,
    region_message,
    said,
    signed_by,
    site_host_message,
)
from okx_auth_mcp.core.clock_offset import plausible
from okx_auth_mcp.core.diagnosis.facts import clock_offset
from okx_auth_mcp.core.oauth_errors import InvalidGrant, OAuthError, OkxError
from okx_auth_mcp.core.okx_codes import code_kind
from okx_auth_mcp.core.okx_profiles import Profile
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.okx_api import ACCOUNT_CONFIG_PATH, AccountConfig, OkxApi, Unauthorized
from okx_auth_mcp.login.service import AuthService

log = logging.getLogger(__name__)


def api_client(service: AuthService) -> OkxApi:
    """The REST client verify uses, with the service's timeout."""
    return OkxApi(timeout=service.settings.http_timeout)


def verify(service: AuthService, api: OkxApi, clock: Callable[[], float]) -> Outcome:
    """Verify the credential OKX's client would use (module docstring). ``clock`` stamps signed requests."""
    config = service.config()
    profile = config.api_key_profile()
    if profile is not None:
        return verify_api_key(profile, service.settings.environ, str(config.path), api, clock)
    state = service.auth_state()
    if state.status == "pending" and state.site is not None:
        return LoginNotFinished(state.site)
    if state.status != "logged_in" or state.site is None:
        return NotConfigured()
    return _verify_oauth(service, state.site, api)


def verify_api_key(
    profile: Profile, environ: Mapping[str, str], config_path: str, api: OkxApi, clock: Callable[[], float]
) -> Verified | KeyRejected:
    """One signed request; when OKX refuses its time (50102, 50112), the clock's offset is measured against
    OKX's server time once and the request signed once more with ``clock() + offset``. Never more than one
    retry; the offset goes into the outcome and is not kept."""
    target = api_key_target(profile, environ, config_path)
    check_signable(profile)
    offset_ms: int | None = None
    try:
        answer = _signed_account(profile, target, api, clock())
    except ClockSkew as refused:
        offset = _measured_offset(api, target.base_url, clock, refused)
        offset_ms = round(offset * 1000)
        log.info("verify_credentials: OKX refused the request's time; clock offset %+d ms, signing again", offset_ms)
        try:
            answer = _signed_account(profile, target, api, clock() + offset)
        except ClockSkew as again:
            raise ClockSkew(clock_refused_again(refused, offset_ms, again.code), again.code) from None
    if isinstance(answer, KeyRejected):
        return answer
    return _verified(answer, "api_key", target.site, profile.name, target.demo, offset_ms)


def _measured_offset(api: OkxApi, base_url: str, clock: Callable[[], float], refused: ClockSkew) -> float:
    """OKX's clock minus ``clock``, in seconds, from one reading of OKX's server time at ``base_url`` (the
    midpoint method diagnose uses). ``ClockSkew`` saying why when it cannot be read, or is absurd (more than
    a day: refused, not used)."""
    try:
        measured = clock_offset([api.server_time(base_url, clock)])
    except OAuthError as exc:
        raise ClockSkew(clock_unmeasured(refused, exc), refused.code) from None
    assert measured is not None  # a reading always carries OKX's time
    offset = measured[0]
    if not plausible(offset):
        raise ClockSkew(clock_absurd(refused, round(offset * 1000)), refused.code)
    return offset


def _signed_account(profile: Profile, target: Target, api: OkxApi, now: float) -> AccountConfig | KeyRejected:
    """``GET /api/v5/account/config`` signed with the profile's key at time ``now``; a refused key is an outcome,
    every other refusal is raised."""
    timestamp = okx_signing.iso_timestamp(now)
    headers = signed_by(profile, target, timestamp, "GET", ACCOUNT_CONFIG_PATH)
    try:
        return api.account_config(target.base_url, headers)
    except Unauthorized:
        log.info("verify_credentials: OKX refused the API key of profile %s (HTTP 401)", profile.name)
        return KeyRejected(profile.name, target.site, None)
    except OkxError as exc:
        log.info("verify_credentials: OKX refused the API key of profile %s with code %s", profile.name, exc.code)
        kind = code_kind(exc.code)
        if kind == "key_rejected":
            return KeyRejected(profile.name, target.site, exc.code)
        if kind == "clock":
            raise ClockSkew(clock_message(exc, timestamp), exc.code) from None
        if kind == "site_host":
            raise SiteHostMismatch(site_host_message(exc, profile.name, target), exc.code) from None
        if kind == "region":
            raise RegionRestricted(region_message(exc, target.site), exc.code) from None
        raise


def _verify_oauth(service: AuthService, site: SiteId, api: OkxApi) -> Outcome:
    """One request with the session's token; when OKX refuses the token, the session is read again and the
    request retried once, as ``OkxAuth`` does: another process may have refreshed it between our read and
    OKX's check (a refresh rotates the pair and OKX revokes the old access token, 53003). ``force_refresh``
    returns the token stored since, or refreshes once itself when the refused token is still the stored one."""
    try:
        token = service.bearer_token()
    except InvalidGrant:
        log.info("verify_credentials: the OAuth session's refresh was refused; the session is over")
        return SessionEnded()
    try:
        account = _oauth_account(service, site, api, token)
    except SessionRejected:
        log.info("verify_credentials: OKX refused the access token; reading the session again, retrying once")
        try:
            renewed = service.force_refresh(token)
        except InvalidGrant:
            log.info("verify_credentials: the OAuth session's refresh was refused; the session is over")
            return SessionEnded()
        if renewed is None:  # no refresh token: nothing to retry with, and one refusal does not end the session
            raise
        account = _oauth_account(service, site, api, renewed)
    return _verified(account, "oauth", site, None, False)


def _oauth_account(service: AuthService, site: SiteId, api: OkxApi, token: str) -> AccountConfig:
    """``GET /api/v5/account/config`` with ``token``; ``SessionRejected`` when OKX refuses the token."""
    headers = {"Authorization": f"Bearer {token}"}
    termid = service.termid()
    if termid is not None:
        headers["TERMID"] = termid
    try:
        return api.account_config(service.api_base_url(), headers)
    except Unauthorized:
        raise SessionRejected("OKX refused the OAuth session's access token (HTTP 401)", None) from None
    except OkxError as exc:
        log.info("verify_credentials: OKX refused the OAuth request with code %s", exc.code)
        kind = code_kind(exc.code)
        if kind in ("session", "key_rejected"):
            raise SessionRejected(f"OKX refused the OAuth session's access token ({said(exc)})", exc.code) from None
        if kind == "clock":
            raise ClockSkew(clock_message(exc, None), exc.code) from None
        if kind == "region":
            raise RegionRestricted(region_message(exc, site), exc.code) from None
        raise


def _verified(
    account: AccountConfig,
    credential: Literal["api_key", "oauth"],
    site: SiteId,
    profile: str | None,
    demo: bool,
    clock_offset_ms: int | None = None,
) -> Verified:
    log.info("verify_credentials: OKX accepted the %s credential (site %s)", credential, site)
    return Verified(credential, site, mask_uid(account.uid), account.permissions, profile, demo, clock_offset_ms)
