"""The procedure's settings, read once from the environment and checked before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

from okx_auth_mcp.core.authorization_code import GRANTS, Grant, RedirectUri, redirect_uri
from okx_auth_mcp.core.oauth_wire import is_safe_issuer
from okx_auth_mcp.core.okx_profiles import ConfigError, OkxConfig
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.http import DEFAULT_TIMEOUT_SECONDS
from okx_auth_mcp.edges.state_store import default_state_dir

DEFAULT_SCOPE = "read_only trade"

BackendName = Literal["native", "okx-cli"]
BackendChoice = Literal["native", "okx-cli", "auto"]
StorageChoice = Literal["auto", "keyring", "file"]
DEFAULT_KEYRING_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    environ: Mapping[str, str] = field(repr=False)
    """The environment read: it holds OKX_SECRET_KEY and the rest, so it is never in the repr."""
    issuer_override: str | None = None
    scope: str = DEFAULT_SCOPE
    allowed_hosts: tuple[str, ...] = ()
    http_timeout: float = DEFAULT_TIMEOUT_SECONDS
    backend: BackendChoice = "auto"
    """OKX_AUTH_BACKEND: ``native`` (this package's OAuth client), ``okx-cli`` (OKX's official CLI), or
    ``auto`` (the official CLI when it is installed and answers, else native)."""
    storage: StorageChoice = "auto"
    """OKX_AUTH_STORAGE: where the native backend keeps the tokens and the device code: ``keyring`` (the OS
    keyring), ``file`` (the 0600 state files), or ``auto`` (the keyring when a real one answers, else file)."""
    keyring_timeout: float = DEFAULT_KEYRING_TIMEOUT_SECONDS
    """OKX_AUTH_KEYRING_TIMEOUT: the longest wait for one keyring call (a locked keyring prompts, or hangs)."""
    grant: Grant = "device"
    """OKX_OAUTH_GRANT: ``device`` (the device flow with dynamic registration), ``pkce`` (an app on the user's
    device: OKX_OAUTH_CLIENT_ID, no secret) or ``code`` (an app server: OKX_OAUTH_CLIENT_ID and
    OKX_OAUTH_CLIENT_SECRET); the last two come back to OKX_OAUTH_REDIRECT_URI, on loopback."""
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect: RedirectUri = field(default_factory=lambda: redirect_uri(None))
    broker_tools: bool = False
    """OKX_AUTH_BROKER_TOOLS=1: the broker tools are offered (off by default: a trader's tool list stays short)."""
    broker_profile: str | None = None
    """OKX_AUTH_BROKER_PROFILE: the config profile holding the broker account's API key (never a default)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; ConfigError for a value that cannot be used."""
        env = dict(os.environ if environ is None else environ)
        issuer = env.get("OKX_OAUTH_ISSUER") or None
        if issuer is not None and not is_safe_issuer(issuer):
            raise ConfigError(
                "OKX_OAUTH_ISSUER must be an https URL without credentials, query or fragment "
                "(plain http only on 127.0.0.1 / localhost)"
            )
        timeout = _seconds(env, "OKX_AUTH_HTTP_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
        hosts = env.get("OKX_AUTH_ALLOWED_HOSTS", "")
        backend = env.get("OKX_AUTH_BACKEND") or "auto"
        if backend not in get_args(BackendChoice):
            raise ConfigError("OKX_AUTH_BACKEND must be native, okx-cli or auto")
        storage = env.get("OKX_AUTH_STORAGE") or "auto"
        if storage not in get_args(StorageChoice):
            raise ConfigError("OKX_AUTH_STORAGE must be auto, keyring or file")
        keyring_timeout = _seconds(env, "OKX_AUTH_KEYRING_TIMEOUT", DEFAULT_KEYRING_TIMEOUT_SECONDS, least=0.1)
        grant, client_id, client_secret, redirect = _grant(env)
        broker_tools, broker_profile = _broker(env)
        return cls(
            state_dir=default_state_dir(env),
            environ=env,
            issuer_override=issuer,
            scope=env.get("OKX_OAUTH_SCOPE") or DEFAULT_SCOPE,
            allowed_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip()),
            http_timeout=timeout,
            backend=cast(BackendChoice, backend),
            storage=cast(StorageChoice, storage),
            keyring_timeout=keyring_timeout,
            grant=grant,
            client_id=client_id,
            client_secret=client_secret,
            redirect=redirect,
            broker_tools=broker_tools,
            broker_profile=broker_profile,
        )


def _grant(env: Mapping[str, str]) -> tuple[Grant, str | None, str | None, RedirectUri]:
    """OKX_OAUTH_GRANT and what it needs, checked before any request; a ConfigError names the variable, never
    its value (a secret pasted into the wrong one must not be shown)."""
    grant = env.get("OKX_OAUTH_GRANT") or "device"
    if grant not in GRANTS:
        raise ConfigError("OKX_OAUTH_GRANT must be device, pkce or code")
    client_id = env.get("OKX_OAUTH_CLIENT_ID") or None
    secret = env.get("OKX_OAUTH_CLIENT_SECRET") or None
    if grant == "device":
        return "device", None, None, redirect_uri(None)
    if client_id is None:
        raise ConfigError(f"OKX_OAUTH_GRANT={grant} needs OKX_OAUTH_CLIENT_ID: the client id OKX issued to the app")
    if len(client_id) > 256 or not client_id.isascii() or not client_id.isprintable() or " " in client_id:
        raise ConfigError("OKX_OAUTH_CLIENT_ID must be the client id OKX issued: printable ASCII, no spaces")
    if grant == "code" and secret is None:
        raise ConfigError("OKX_OAUTH_GRANT=code needs OKX_OAUTH_CLIENT_SECRET: the app server's client secret")
    if grant == "pkce" and secret is not None:
        raise ConfigError(
            "OKX_OAUTH_GRANT=pkce takes no OKX_OAUTH_CLIENT_SECRET (an app on the user's device keeps no secret); "
            "use OKX_OAUTH_GRANT=code for an app server"
        )
    if secret is not None and (len(secret) > 512 or not secret.isascii() or not secret.isprintable()):
        raise ConfigError("OKX_OAUTH_CLIENT_SECRET must be printable ASCII, as OKX issues it")
    try:
        redirect = redirect_uri(env.get("OKX_OAUTH_REDIRECT_URI"))
    except ValueError as exc:
        raise ConfigError(f"OKX_OAUTH_REDIRECT_URI {exc}") from None
    return cast(Grant, grant), client_id, secret, redirect


_ON, _OFF = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _broker(env: Mapping[str, str]) -> tuple[bool, str | None]:
    """OKX_AUTH_BROKER_TOOLS and OKX_AUTH_BROKER_PROFILE, checked (a profile name as OKX's config file has them)."""
    switch = env.get("OKX_AUTH_BROKER_TOOLS", "").strip().lower()
    if switch not in _ON + _OFF:
        raise ConfigError("OKX_AUTH_BROKER_TOOLS must be 1 (the broker tools are offered) or 0")
    profile = env.get("OKX_AUTH_BROKER_PROFILE", "").strip() or None
    if profile is not None and (len(profile) > 128 or not profile.isprintable()):
        raise ConfigError("OKX_AUTH_BROKER_PROFILE must name a profile of OKX's config file (as config show lists it)")
    return switch in _ON, profile


def _seconds(env: Mapping[str, str], name: str, default: float, least: float = 0.0) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        value = -1.0
    if not least < value <= 300:
        raise ConfigError(f"{name} must be a number of seconds above {least:g} and at most 300")
    return value


def load_okx_config(settings: Settings) -> OkxConfig:
    """OKX's configuration (``config.toml`` and the ``OKX_*`` profile) as OKX's client reads it."""
    return okx_config.load(settings.environ)
