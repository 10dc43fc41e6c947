"""The MCP server's assembly: the login tools (``login_tools``), ``verify_credentials`` (``verify_tool``),
``diagnose`` (``diagnose_tool``), ``remove_api_key_profile`` (``profile_tools``) and, with
``OKX_AUTH_BROKER_TOOLS=1``, the broker tools (``broker_tools``, ``broker_key_tool``) on one
:class:`~okx_auth_mcp.mcp.boundary.GatedServer`. Wiring only: the procedure is ``login``'s, the texts ``core``'s."""

from __future__ import annotations

import logging
import secrets
import sys

from mcp.server.mcpserver import RequestStateSecurity

from okx_auth_mcp import __version__
from okx_auth_mcp.core import guidance
from okx_auth_mcp.login import verify
from okx_auth_mcp.login.api_key_page import ApiKeyPages
from okx_auth_mcp.login.backends import open_service
from okx_auth_mcp.login.broker_client import open_broker
from okx_auth_mcp.login.broker_keys import BrokerKeys
from okx_auth_mcp.login.refusals import KNOWN_FAILURES, terminal_line
from okx_auth_mcp.login.secret_page import SecretPages
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp import (
    api_key_tools,
    broker_key_tool,
    broker_tools,
    diagnose_tool,
    login_tools,
    profile_tools,
    verify_tool,
)
from okx_auth_mcp.mcp.boundary import GatedServer


def build_server(service: AuthService) -> GatedServer:
    mcp = GatedServer(
        "okx-auth-mcp",
        title="OKX login",
        version=__version__,
        instructions=guidance.INSTRUCTIONS,
        request_state_security=RequestStateSecurity(keys=[_request_state_key(service)]),
    )
    pages = ApiKeyPages(service, verify.api_client(service))
    login_tools.register(mcp, service, setup_note=lambda lang: api_key_tools.preflight_note(pages, lang))
    verify_tool.register(mcp, service)
    api_key_tools.register(mcp, pages)
    diagnose_tool.register(mcp, service)
    profile_tools.register(mcp, service)
    if service.settings.broker_tools:  # off by default: a trader's tool list stays short
        broker = open_broker(service)
        broker_tools.register(mcp, broker)
        broker_key_tool.register(mcp, BrokerKeys(broker, SecretPages()))
    return mcp


def _request_state_key(service: AuthService) -> bytes:
    """The key that seals elicitation request state, shared by every process on the state directory. When the
    directory cannot be used, a key of this process's own (a retry then reaches only this process): the server
    still starts, and every tool names the problem with its fix."""
    try:
        return service.store.request_state_key()
    except KNOWN_FAILURES as exc:
        print(
            terminal_line(exc, next_step="until it is fixed, elicitation retries reach this process only"),
            file=sys.stderr,
        )
        return secrets.token_bytes(32)


def create_server(settings: Settings | None = None) -> GatedServer:
    server = build_server(open_service(settings or Settings.from_env()))
    # The SDK logs at INFO; one line per HTTP request to stderr is noise in a client's log panel. Its HTTP
    # transport logs each session's id, which lets whoever reads the log act in that session.
    for name in ("httpx2", "mcp.server.streamable_http", "mcp.server.streamable_http_manager"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return server
