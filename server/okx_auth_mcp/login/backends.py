"""Which backend runs the login: ``OKX_AUTH_BACKEND`` read into a service."""

from __future__ import annotations

import time

from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.edges.okx_cli import OkxCli
from okx_auth_mcp.edges.state_store import StateStore
from okx_auth_mcp.login.backend import Backend
from okx_auth_mcp.login.okx_cli_backend import OkxCliBackend
from okx_auth_mcp.login.service import AuthService, Clock
from okx_auth_mcp.login.settings import Settings


def okx_cli_service(settings: Settings, cli: OkxCli, clock: Clock = time.time) -> AuthService:
    def backend(settings: Settings, store: StateStore, clock: Clock) -> Backend:
        return OkxCliBackend(settings, store, cli, clock)

    return AuthService(settings, clock, backend=backend)


def open_service(settings: Settings, clock: Clock = time.time) -> AuthService:
    """The service for ``settings.backend``: ``auto`` picks the official CLI when it is on PATH and
    ``okx auth status --json`` answers, else the native client."""
    if settings.backend == "native":
        return AuthService(settings, clock)
    cli = OkxCli.find(settings.environ, settings.http_timeout)
    if settings.backend == "okx-cli":
        if cli is None:
            raise ConfigError(
                "OKX_AUTH_BACKEND=okx-cli, but there is no okx on PATH (npm install -g @okx_ai/okx-trade-cli)"
            )
        return okx_cli_service(settings, cli, clock)
    if cli is not None and cli.answers():
        return okx_cli_service(settings, cli, clock)
    return AuthService(settings, clock)
