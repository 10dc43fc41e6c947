"""Helpers the tests share (imported from here, never from another test module)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.records import Session
from okx_auth_mcp.edges.loopback import LOOPBACK, BackgroundServer
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.http_transport import MCP_PATH, http_app

CLIENT_KINDS = ["legacy", "auto", "http-legacy", "http-auto"]
"""The SDK's client in both protocol generations (``legacy``: 2025-11-25; ``auto``: the newest both speak),
in memory and over Streamable HTTP on loopback."""


def stored_session(service: AuthService) -> Session | None:
    """The OAuth session as the state directory holds it (no refresh, no request)."""
    return service.store.read_model(SESSION_FILE, Session)


@contextlib.contextmanager
def serving_http(server: MCPServer) -> Iterator[str]:
    """``server`` over Streamable HTTP on 127.0.0.1, from a thread; yields the endpoint URL."""
    with BackgroundServer(lambda port: http_app(server, LOOPBACK, port), lifespan="on", name="mcp-http") as running:
        yield running.url + MCP_PATH


@contextlib.asynccontextmanager
async def connected(server: MCPServer, kind: str, **options: Any) -> AsyncIterator[Client]:
    """A client of ``kind`` (one of :data:`CLIENT_KINDS`) connected to ``server``; ``options`` go to the
    client (an ``elicitation_callback``, say)."""
    transport, _, mode = kind.rpartition("-")
    if not transport:
        async with Client(server, mode=mode, **options) as client:
            yield client
        return
    with serving_http(server) as url:
        async with Client(url, mode=mode, **options) as client:
            yield client


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    text = result.content[0]
    assert json.loads(getattr(text, "text", "")) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


async def confirmed_site(client: Client, reply: str = "1") -> dict[str, Any]:
    pre = data(await client.call_tool("preflight", {}))
    assert pre["next"] == "choose_site" and pre["reply"] == texts.SITE_MENU
    return data(await client.call_tool("choose_site", {"reply": reply, "menu_ticket": pre["menu_ticket"]}))
