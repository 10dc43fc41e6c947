"""Which backend runs the login: ``OKX_AUTH_BACKEND`` read into a service.

``auto`` picks OKX's official CLI when ``okx auth status --json`` answers, else the native client, and says why
(:func:`backend_note`) when an okx it passed over could have been meant. Never the CLI while ``OKX_AUTH_BIN``
names ``okx-auth-mcp-bin``: that binary serves this package's native session to okx, so okx's ``auth`` commands
would only call back into it.
"""

from __future__ import annotations

import time
from pathlib import PureWindowsPath

from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.okx_cli_output import OkxCliError, OkxCliTooOld
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.edges.okx_cli import OkxCli
from okx_auth_mcp.edges.state_store import StateStore
from okx_auth_mcp.login.backend import Backend
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.okx_cli_backend import OkxCliBackend
from okx_auth_mcp.login.refusals import error_code
from okx_auth_mcp.login.service import AuthService, Clock
from okx_auth_mcp.login.settings import Settings

OUR_AUTH_BIN = "okx-auth-mcp-bin"


class NativeFallback(NativeBackend):
    """The native backend ``auto`` chose for the reason in :attr:`note`."""

    def __init__(self, settings: Settings, store: StateStore, clock: Clock, note: BackendNote) -> None:
        super().__init__(settings, store, clock)
        self.note = note


def backend_note(service: AuthService) -> BackendNote | None:
    """Why ``auto`` runs the native backend, when an okx CLI could have been meant (None otherwise)."""
    backend = service.backend
    return backend.note if isinstance(backend, NativeFallback) else None


def okx_cli_service(settings: Settings, cli: OkxCli, clock: Clock = time.time) -> AuthService:
    def backend(settings: Settings, store: StateStore, clock: Clock) -> Backend:
        return OkxCliBackend(settings, store, cli, clock)

    return AuthService(settings, clock, backend=backend)


def open_service(settings: Settings, clock: Clock = time.time) -> AuthService:
    """The service for ``settings.backend`` (module docstring)."""
    if settings.backend == "native":
        return AuthService(settings, clock)
    if settings.grant != "device":  # OKX's CLI knows the device flow only
        if settings.backend == "okx-cli":
            raise ConfigError(
                f"OKX_OAUTH_GRANT={settings.grant} needs this server's own OAuth client: OKX's okx CLI logs in with "
                "the device flow only. Set OKX_AUTH_BACKEND=native (or auto)"
            )
        return AuthService(settings, clock)
    if _names_our_auth_bin(settings.environ.get("OKX_AUTH_BIN", "")):
        if settings.backend == "okx-cli":
            raise ConfigError(
                f"OKX_AUTH_BACKEND=okx-cli, but OKX_AUTH_BIN points at {OUR_AUTH_BIN}, which serves this server's "
                "native session: okx's auth commands would call back into it. Set OKX_AUTH_BACKEND=native (or auto) "
                "for this server, or unset OKX_AUTH_BIN in its environment"
            )
        return _native(settings, clock, BackendNote("okx_auth_bin_is_ours"))
    cli = OkxCli.find(settings.environ, settings.http_timeout)
    if cli is None:
        if settings.backend == "okx-cli":
            raise ConfigError(
                "OKX_AUTH_BACKEND=okx-cli, but there is no okx on PATH (npm install -g @okx_ai/okx-trade-cli)"
            )
        return AuthService(settings, clock)
    if settings.backend == "okx-cli":
        return okx_cli_service(settings, cli, clock)
    problem = cli.problem()
    if problem is None:
        return okx_cli_service(settings, cli, clock)
    return _native(settings, clock, _note(problem))


def _names_our_auth_bin(value: str) -> bool:
    """Whether ``OKX_AUTH_BIN`` names our binary: its base name without extension, in any case, on any system."""
    return PureWindowsPath(value.strip()).stem.lower() == OUR_AUTH_BIN


def _note(problem: OkxCliError) -> BackendNote:
    if isinstance(problem, OkxCliTooOld):
        return BackendNote("okx_cli_too_old", version=problem.version)
    return BackendNote("okx_cli_error", code=error_code(problem))


def _native(settings: Settings, clock: Clock, note: BackendNote) -> AuthService:
    def backend(settings: Settings, store: StateStore, clock: Clock) -> Backend:
        return NativeFallback(settings, store, clock, note)

    return AuthService(settings, clock, backend=backend)
