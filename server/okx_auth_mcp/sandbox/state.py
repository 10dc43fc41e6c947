"""The sandbox's state: an in-memory OKX-like authorization server (clients, device codes, authorization
codes, the forms its pages served, grants, tokens, API keys; brokers' sub-accounts and rebate reports, whose
records are :mod:`~okx_auth_mcp.sandbox.broker_state`'s), what tests set to make it misbehave (``faults``,
``skew``, ``latency``, ``site``, ``rate_limits``) and what they read back (``requests``, ``revoked``,
``termids``, ``reuse_detected``, ``code_reuse_detected``). The routes that serve it are in
:mod:`~okx_auth_mcp.sandbox.oauth_routes`, :mod:`~okx_auth_mcp.sandbox.consent`,
:mod:`~okx_auth_mcp.sandbox.api_routes`, :mod:`~okx_auth_mcp.sandbox.broker_routes` and
:mod:`~okx_auth_mcp.sandbox.pages`; :func:`okx_auth_mcp.sandbox.app.create_app` puts them together.
"""

from __future__ import annotations

import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.sandbox.broker_state import RebateReport, SandboxSubAccount
from okx_auth_mcp.sandbox.clients import SandboxClient

SCOPES = ("read_only", "trade")
"""The scopes OKX grants: viewing the account, and trading (no scope allows a withdrawal)."""


@dataclass
class SandboxConfig:
    access_ttl: int = 3600
    refresh_ttl: int = 3 * 24 * 3600
    device_code_ttl: int = 600
    interval: int = 5
    enforce_interval: bool = True
    """Answer slow_down to a client that polls faster than ``interval`` (RFC 8628 §3.5)."""
    clients: tuple[SandboxClient, ...] = ()
    """Clients registered ahead of time, as OKX registers an institution's application (``--client``)."""
    auth_code_ttl: int = 600
    """An authorization code's lifetime (RFC 6749 §4.1.2: at most 10 minutes); after it, OKX's 53012."""
    page_ttl: int = 600
    """How long the form of a consent or device confirmation page can be sent."""
    rebate_ready_seconds: float = 0.0
    """How long after it was first asked for a broker's rebate report stays ``ongoing`` (then ``finished``)."""


@dataclass
class Device:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    interval: int
    decision: str | None = None  # "approved" | "denied"
    consumed: bool = False
    last_poll: float | None = None


@dataclass
class Grant:
    client_id: str
    scope: str
    revoked: bool = False


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``GET /oauth/authorize``: what its consent page asks the user, and what a code it yields is
    bound to."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str | None
    """The S256 challenge (RFC 7636); None only for a confidential client that sent none."""


@dataclass
class AuthorizationCode:
    request: AuthorizationRequest
    expires_at: float
    spent: bool = False
    """Presented once at the token endpoint by its client (whatever the outcome): never again."""
    grant: Grant | None = None
    """What it was exchanged for: revoked when the code comes back (RFC 6749 §4.1.2)."""


@dataclass(frozen=True)
class PageForm:
    """What a page's CSRF token stands for: the consent to one authorization request, or the decision on one
    device code. Single use; it expires with ``page_ttl``."""

    kind: Literal["consent", "device"]
    expires_at: float
    request: AuthorizationRequest | None = None
    device_code: str = ""


def normalised_user_code(typed: str) -> str:
    """A user code as a person may type it, as issued: full-width letters folded (NFKC), case, spaces and
    dashes of any kind ignored (RFC 8628 §6.1), ``XXXX-XXXX`` when it has eight characters."""
    folded = unicodedata.normalize("NFKC", typed)
    kept = "".join(c for c in folded if not c.isspace() and unicodedata.category(c) != "Pd").upper()
    return f"{kept[:4]}-{kept[4:]}" if len(kept) == 8 else kept


@dataclass
class Token:
    grant: Grant
    expires_at: float
    superseded: bool = False
    """An access token replaced by a refresh, or a refresh token already rotated."""


@dataclass
class SandboxApiKey:
    """An API key the sandbox accepts, and the account it belongs to."""

    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)
    uid: str = "44556677889900"
    perm: str = "read_only,trade"
    demo: bool = False
    """A demo-trading key: its requests must carry ``x-simulated-trading: 1``, a live key's must not."""
    site: str = "global"
    """The OKX site the key was created on."""
    answer: str | None = None
    """An OKX code every authenticated request of this key gets instead of the account (e.g. ``51155``)."""
    broker: Literal["dma", "fd"] | None = None
    """A broker account's key (a DMA or an FD broker): None for an ordinary account, which OKX's broker
    endpoints refuse (59608), as a DMA endpoint refuses an FD broker and the other way round."""


@dataclass
class SandboxState:
    config: SandboxConfig = field(default_factory=SandboxConfig)
    clock: Callable[[], float] = time.time
    issuer: str = ""
    clients: dict[str, SandboxClient] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    forms: dict[str, PageForm] = field(default_factory=dict)
    """The forms the pages served, by their CSRF token."""
    access_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    """Requests per endpoint name, for tests that count them (``token``, ``device``, ``register`` ...)."""
    reuse_detected: int = 0
    """Rotated refresh tokens presented again (each revoked its grant)."""
    code_reuse_detected: int = 0
    """Authorization codes presented again (each revoked what the code was exchanged for)."""
    revoked: list[str] = field(default_factory=list)
    """What each revocation request revoked: "refresh_token", "access_token" or "unknown"."""
    faults: dict[str, str] = field(default_factory=dict)
    skew: float = 0.0
    """Seconds the API's clock runs ahead of ``clock`` (negative: behind): what ``/api/v5/public/time``
    says, and what request timestamps are checked against."""
    latency: float = 0.0
    """Seconds every ``/api/v5`` answer waits before it goes out."""
    site: SiteId = "global"
    """The OKX site whose REST host the sandbox plays: a key registered for another site gets 50119."""
    api_keys: dict[str, SandboxApiKey] = field(default_factory=dict)
    termids: list[str] = field(default_factory=list)
    """The ``TERMID`` header of each Bearer request to the account endpoint (``""`` when absent)."""
    subaccounts: dict[str, SandboxSubAccount] = field(default_factory=dict)
    """DMA brokers' sub-accounts by name (:meth:`add_subaccount`)."""
    if_rebate: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What ``fd/if-rebate`` answers for a user's apiKey (else ``broker_state.DEFAULT_IF_REBATE``)."""
    rebate_reports: list[RebateReport] = field(default_factory=list)
    rate_limits: bool = True
    """Enforce the broker routes' rate limits (50011, HTTP 429); off for tests that call a route freely."""
    rate_hits: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """The ``api_now()`` of each request a broker route took, by (route name, broker uid)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for client in self.config.clients:
            self.clients[client.client_id] = client

    def add_client(self, client: SandboxClient) -> SandboxClient:
        """Register ``client`` ahead of time (as ``SandboxConfig.clients`` does)."""
        with self.lock:
            self.clients[client.client_id] = client
        return client

    def api_now(self) -> float:
        """The API's clock: ``clock`` plus ``skew``."""
        return self.clock() + self.skew

    def add_api_key(self, api_key: str, secret_key: str, passphrase: str, **options: Any) -> SandboxApiKey:
        """Make ``api_key`` known; ``options`` are :class:`SandboxApiKey`'s other fields."""
        key = SandboxApiKey(secret_key, passphrase, **options)
        with self.lock:
            self.api_keys[api_key] = key
        return key

    def add_subaccount(
        self,
        broker_api_key: str,
        sub_acct: str,
        *,
        uid: str,
        label: str = "",
        acct_lv: str = "1",
        enable: bool = True,
        frozen_func: tuple[str, ...] = (),
        can_trans_out: bool = False,
        main_acct: str = "",
        ts_ms: int | None = None,
    ) -> SandboxSubAccount:
        """A sub-account of the broker account whose key is ``broker_api_key`` (a known key: its ``uid`` owns it),
        created at ``ts_ms`` (default: now)."""
        with self.lock:
            if broker_api_key not in self.api_keys:
                raise ValueError(f"add the broker's key {broker_api_key!r} first (add_api_key)")
            created = int(self.clock() * 1000) if ts_ms is None else ts_ms
            account = SandboxSubAccount(
                sub_acct,
                uid,
                self.api_keys[broker_api_key].uid,
                label=label,
                acct_lv=acct_lv,
                enable=enable,
                frozen_func=frozen_func,
                can_trans_out=can_trans_out,
                main_acct=main_acct,
                ts_ms=created,
            )
            self.subaccounts[sub_acct] = account
        return account

    def count(self, name: str) -> int:
        with self.lock:
            return self.requests.get(name, 0)

    def undecided_device(self, user_code: str) -> str | None:
        """The device code whose user code this is, typed as a person may type it, while it awaits a decision;
        None for an unknown, expired, decided or used one. Call with the lock held."""
        wanted = normalised_user_code(user_code)
        now = self.clock()
        for device_code, device in self.devices.items():
            if device.user_code == wanted:
                waiting = device.decision is None and not device.consumed and now < device.expires_at
                return device_code if waiting else None
        return None

    def decide(self, user_code: str | None, approve: bool) -> bool:
        """What the verification page does when the user clicks; False for an unknown or spent code (and for
        None: a login with no code, a redirect login, has nothing to decide here)."""
        if user_code is None:
            return False
        with self.lock:
            device_code = self.undecided_device(user_code)
            if device_code is None:
                return False
            return self.decide_device(device_code, approve)

    def decide_device(self, device_code: str, approve: bool) -> bool:
        """Approve or deny the device code itself (the confirmation page's form); call with the lock held."""
        device = self.devices.get(device_code)
        if device is None or device.consumed or device.decision or self.clock() >= device.expires_at:
            return False
        device.decision = "approved" if approve else "denied"
        return True

    def issue_form(self, form: PageForm) -> str:
        """A new CSRF token for ``form``; call with the lock held. Expired forms are forgotten here."""
        now = self.clock()
        for token in [t for t, f in self.forms.items() if now >= f.expires_at]:
            del self.forms[token]
        token = secrets.token_urlsafe(24)
        self.forms[token] = form
        return token

    def take_form(self, token: str, kind: str) -> PageForm | None:
        """The form ``token`` was issued for, once: None for an unknown, used or expired token, or one of another
        kind of page. Call with the lock held."""
        form = self.forms.pop(token, None)
        if form is None or form.kind != kind or self.clock() >= form.expires_at:
            return None
        return form

    def issue_code(self, request: AuthorizationRequest) -> str:
        """A new authorization code for ``request``; call with the lock held."""
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(request, self.clock() + self.config.auth_code_ttl)
        return code

    def mint(self, grant: Grant) -> dict[str, Any]:
        now = self.clock()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.access_tokens[access] = Token(grant, now + self.config.access_ttl)
        self.refresh_tokens[refresh] = Token(grant, now + self.config.refresh_ttl)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.config.access_ttl,
            "refresh_token": refresh,
            "scope": grant.scope,
        }
