"""What ``diagnose`` found, and which hosts it probes: the facts :mod:`okx_auth_mcp.core.diagnosis.report` reads. Pure.

``login.diagnose`` fills these in two steps: :class:`LocalFacts` (config file, environment, OAuth state, state
directory; ``edges.local_probes`` and the service), then, for the hosts :func:`plan` picks from those,
:class:`NetworkFacts` (``edges.net_probes``). The facts carry nothing secret: no key, secret key, passphrase,
token, or proxy credentials (the probes reduce and redact with :mod:`okx_auth_mcp.core.diagnosis.urls` before
they record), so no text made from them can leak one.

Which hosts (:func:`plan`):

1. the API-key profile in effect (the one OKX's client signs with) → its ``base_url``, else its site's REST
   base URL (Global when it names no site);
2. the OAuth session, or the pending login → the issuer it talks to, and its site's API
   (``OKX_OAUTH_ISSUER`` when set: that issuer serves the API too, as ``AuthService.api_base_url`` says);
3. neither → ``OKX_OAUTH_ISSUER`` when set, else the site some profile names, else all three sites.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from okx_auth_mcp.core.diagnosis.urls import clean_url, display
from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.records import REFRESH_MARGIN_SECONDS, LoginEndReason, OAuthStatus
from okx_auth_mcp.core.sites import SITE_IDS, SITES, SiteId

Role = Literal["api", "oauth"]


@dataclass(frozen=True)
class ProfileFacts:
    name: str
    from_env: bool
    has_key: bool
    site: SiteId | None = None
    base_url: str | None = None
    """As written, without credentials, query or fragment (see :func:`urls.clean_url`)."""
    base_url_ok: bool = True
    """False when ``base_url`` is not an absolute http(s) URL."""
    proxy_url: str | None = None
    """Redacted: scheme, host and port only."""
    missing: tuple[str, ...] = ()
    """With an ``api_key``: the fields a signed request also needs that the profile lacks."""

    @property
    def base_host(self) -> str | None:
        return urlsplit(self.base_url).hostname if self.base_url and self.base_url_ok else None


@dataclass(frozen=True)
class ConfigFacts:
    path: str
    exists: bool = False
    mode: int | None = None
    """Permission bits (POSIX only)."""
    holds_secrets: bool | None = None
    """Whether a file profile has an api_key, secret_key or passphrase; None when the file could not be read."""
    error: str | None = None
    """Why the file cannot be used (not TOML, wrong shape, unreadable)."""
    env_error: str | None = None
    """Why the environment's credentials cannot be used (a partial set)."""
    default_profile: str | None = None
    profiles: tuple[ProfileFacts, ...] = ()
    in_effect: str | None = None
    """The API-key profile OKX's client would sign with."""
    key_target: str | None = None
    """Where that profile's requests go, as verify_credentials sends them (``OKX_API_BASE_URL``, ``base_url``,
    the site's API host); None when it cannot be sent (no site)."""
    key_site: SiteId | None = None
    """That profile's site, ``OKX_SITE`` first."""

    def keyed(self) -> list[ProfileFacts]:
        return [p for p in self.profiles if p.has_key]

    def profile_in_effect(self) -> ProfileFacts | None:
        return next((p for p in self.profiles if p.name == self.in_effect and p.has_key), None)

    def any_site(self) -> SiteId | None:
        return next((p.site for p in self.profiles if p.site), None)


@dataclass(frozen=True)
class OAuthFacts:
    status: OAuthStatus | None
    """None when the state could not be read (``error``, when known)."""
    error: str | None = None
    site: SiteId | None = None
    scopes: tuple[str, ...] = ()
    reason: LoginEndReason | None = None
    issuer: str | None = None
    """The issuer the session or pending login talks to."""
    token_endpoint: str | None = None
    client_id: str | None = None
    """The public client id the token endpoint knows this installation by (not a secret)."""
    access_expires_at: float | None = None
    """Only to tell whether a refresh is due; never shown."""
    has_refresh_token: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Step:
    """One probe step: an error, or how long it took and what it found."""

    error: str | None = None
    seconds: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class StateDirFacts:
    path: str
    exists: bool = False
    posix: bool = True
    mode: int | None = None
    files: tuple[tuple[str, int], ...] = ()
    """(name, permission bits) of every regular file in the directory."""
    error: str | None = None
    """Why the directory could not be listed."""
    is_directory: bool = True
    """False when the path exists but is a file (every command refuses it)."""
    foreign_owner: int | None = None
    """The uid that owns the directory when it is not this user (every command refuses it)."""
    lock: Step | None = None
    """Taking the state lock with a short wait; None when not tried (no directory)."""


@dataclass(frozen=True)
class LocalFacts:
    backend: str
    now: float
    config: ConfigFacts
    oauth: OAuthFacts
    state: StateDirFacts
    proxy_env: tuple[tuple[str, str], ...] = ()
    """The standard proxy variables that are set: (name, value), URLs redacted."""
    issuer_override: str | None = None
    backend_note: BackendNote | None = None
    """Why the okx CLI on PATH does not run the login: ``auto`` passed it over, or (okx-cli) it is too old."""
    storage: str | None = None
    """Where the native backend keeps the tokens, in words (``keyring (...)``, ``file (...)``); None for a
    backend that keeps them itself, or when it could not be said (``storage_error``)."""
    storage_error: str | None = None


@dataclass(frozen=True)
class Target:
    base: str
    """scheme://host[:port][/path], without credentials."""
    roles: frozenset[Role]

    @property
    def scheme(self) -> str:
        return urlsplit(self.base).scheme

    @property
    def display(self) -> str:
        return display(self.base)


PlanSource = Literal["api_key", "session", "pending", "issuer", "config", "all"]


@dataclass(frozen=True)
class Plan:
    source: PlanSource
    site: SiteId | None
    targets: tuple[Target, ...]
    profile: str | None = None


@dataclass(frozen=True)
class Sample:
    """One request for the server's time: the local wall clock when it was sent, the round trip, and the
    server's time (None when the answer was not OKX's time)."""

    sent_at: float
    rtt: float
    server_time: float | None = None


@dataclass(frozen=True)
class TargetFacts:
    target: Target
    proxy: str | None = None
    """The proxy the HTTP client goes through for this host (redacted), or None when it connects directly."""
    dns: Step = field(default_factory=Step)
    """The lookup of the host the client connects to (the proxy's, when there is one)."""
    connect: Step | None = None
    """TCP (and TLS for https when direct); None when not attempted."""
    samples: tuple[Sample, ...] = ()
    http_error: str | None = None
    """The HTTP request failed (no answer): why. None when not attempted or it answered."""
    time_error: str | None = None
    """It answered, but without a usable server time: why."""


TokenAnswer = Literal["answers", "unknown_client", "server_error", "unreachable", "not_probed"]


@dataclass(frozen=True)
class TokenProbe:
    host: str
    answer: TokenAnswer
    detail: str = ""


@dataclass(frozen=True)
class NetworkFacts:
    targets: tuple[TargetFacts, ...] = ()
    token: TokenProbe | None = None


# ----- small pure helpers ---------------------------------------------------------------------------------


def site_hosts(site: SiteId) -> set[str]:
    s = SITES[site]
    return {s.web_host, urlsplit(s.api_base_url).hostname or ""}


def site_of_host(host: str) -> SiteId | None:
    return next((s for s in SITE_IDS if host.lower() in site_hosts(s)), None)


def clock_offset(samples: Iterable[Sample]) -> tuple[float, float] | None:
    """(offset, uncertainty) in seconds, NTP-style: the server read its clock about halfway through the round
    trip, so ``offset = server_time - (sent_at + rtt / 2)``, within ± ``rtt / 2``; the sample with the
    shortest round trip is the most precise. Positive: this device's clock is behind."""
    timed = [s for s in samples if s.server_time is not None]
    if not timed:
        return None
    best = min(timed, key=lambda s: s.rtt)
    assert best.server_time is not None
    return best.server_time - (best.sent_at + best.rtt / 2), best.rtt / 2


def refresh_due(oauth: OAuthFacts, now: float) -> bool | None:
    """Whether the next use refreshes the access token (as the service decides it)."""
    if oauth.access_expires_at is None:
        return None
    return oauth.access_expires_at - REFRESH_MARGIN_SECONDS <= now


# ----- which hosts ----------------------------------------------------------------------------------------


def plan(local: LocalFacts) -> Plan:
    """The hosts to probe, and where the site in effect comes from (see the module docstring)."""
    cfg, oauth, override = local.config, local.oauth, local.issuer_override
    targets: dict[str, set[Role]] = {}

    def add(url: str, *roles: Role) -> None:
        base, ok = clean_url(url)
        if ok:
            targets.setdefault(base, set()).update(roles)

    source: PlanSource
    keyed = cfg.profile_in_effect()
    site: SiteId | None
    if keyed is not None:
        source, site = "api_key", cfg.key_site or keyed.site
        fallback = keyed.base_url if keyed.base_url and keyed.base_url_ok else SITES[site or "global"].api_base_url
        add(cfg.key_target or fallback, "api")
    if oauth.status in ("logged_in", "pending") and oauth.site is not None:
        if oauth.issuer:
            add(oauth.issuer, "oauth")
        if keyed is None:
            source, site = ("session" if oauth.status == "logged_in" else "pending"), oauth.site
            add(override or SITES[oauth.site].api_base_url, "api")
    if not targets:
        site = cfg.any_site()
        if override:
            source = "issuer"
            add(override, "api", "oauth")
        elif site is not None:
            source = "config"
            add(SITES[site].api_base_url, "api", "oauth")
        else:
            source = "all"
            for each in SITE_IDS:
                add(SITES[each].api_base_url, "api", "oauth")
    return Plan(
        source=source,
        site=site,
        targets=tuple(Target(base, frozenset(roles)) for base, roles in targets.items()),
        profile=None if keyed is None else keyed.name,
    )
