"""The sandbox's state: an in-memory OKX-like authorization server (clients, device codes, grants, tokens,
API keys), what tests set to make it misbehave (``faults``, ``skew``, ``latency``, ``site``) and what they read
back (``requests``, ``revoked``, ``termids``, ``reuse_detected``). The routes that serve it are in
:mod:`~okx_auth_mcp.sandbox.oauth_routes`, :mod:`~okx_auth_mcp.sandbox.api_routes` and
:mod:`~okx_auth_mcp.sandbox.pages`; :func:`okx_auth_mcp.sandbox.app.create_app` puts them together.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SandboxConfig:
    access_ttl: int = 3600
    refresh_ttl: int = 3 * 24 * 3600
    device_code_ttl: int = 600
    interval: int = 5
    enforce_interval: bool = True
    """Answer slow_down to a client that polls faster than ``interval`` (RFC 8628 §3.5)."""


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


@dataclass
class SandboxState:
    config: SandboxConfig = field(default_factory=SandboxConfig)
    clock: Callable[[], float] = time.time
    issuer: str = ""
    clients: set[str] = field(default_factory=set)
    devices: dict[str, Device] = field(default_factory=dict)
    access_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    """Requests per endpoint name, for tests that count them (``token``, ``device``, ``register`` ...)."""
    reuse_detected: int = 0
    revoked: list[str] = field(default_factory=list)
    """What each revocation request revoked: "refresh_token", "access_token" or "unknown"."""
    faults: dict[str, str] = field(default_factory=dict)
    skew: float = 0.0
    """Seconds the API's clock runs ahead of ``clock`` (negative: behind): what ``/api/v5/public/time``
    says, and what request timestamps are checked against."""
    latency: float = 0.0
    """Seconds every ``/api/v5`` answer waits before it goes out."""
    site: str = "global"
    """The OKX site whose REST host the sandbox plays: a key registered for another site gets 50119."""
    api_keys: dict[str, SandboxApiKey] = field(default_factory=dict)
    termids: list[str] = field(default_factory=list)
    """The ``TERMID`` header of each Bearer request to the account endpoint (``""`` when absent)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def api_now(self) -> float:
        """The API's clock: ``clock`` plus ``skew``."""
        return self.clock() + self.skew

    def add_api_key(self, api_key: str, secret_key: str, passphrase: str, **options: Any) -> SandboxApiKey:
        """Make ``api_key`` known; ``options`` are :class:`SandboxApiKey`'s other fields."""
        key = SandboxApiKey(secret_key, passphrase, **options)
        with self.lock:
            self.api_keys[api_key] = key
        return key

    def count(self, name: str) -> int:
        with self.lock:
            return self.requests.get(name, 0)

    def device_by_user_code(self, user_code: str) -> Device | None:
        wanted = user_code.strip().upper()
        return next((d for d in self.devices.values() if d.user_code == wanted), None)

    def decide(self, user_code: str, approve: bool) -> bool:
        """What the verification page does when the user clicks; False for an unknown or spent code."""
        with self.lock:
            device = self.device_by_user_code(user_code)
            if device is None or device.consumed or device.decision or self.clock() >= device.expires_at:
                return False
            device.decision = "approved" if approve else "denied"
            return True

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
