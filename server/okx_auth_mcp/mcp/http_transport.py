"""``serve --http``: the MCP server over Streamable HTTP, on loopback only, with DNS-rebinding protection.

The gate needs nothing from the connection: each step's ticket is signed with the state directory's key, so
it holds across requests, sessions and server processes that share that directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from okx_auth_mcp.core.diagnosis.urls import bracketed
from okx_auth_mcp.edges.loopback import url_of, uvicorn_server

if TYPE_CHECKING:
    import socket  # the type only: the sockets come bound from edges.loopback

MCP_PATH = "/mcp"


def _listed(addresses: str | Sequence[str]) -> list[str]:
    return [addresses] if isinstance(addresses, str) else list(addresses)


def transport_security(addresses: str | Sequence[str], port: int) -> TransportSecuritySettings:
    """Accept exactly this server's own ``Host`` values (each bound address, and ``localhost``), and ``Origin``
    values of the same origin (a browser page from anywhere else, including another local port, is refused).
    Clients that are not browsers send no ``Origin``."""
    literals = [bracketed(a) for a in _listed(addresses)]
    hosts = sorted({*(f"{literal}:{port}" for literal in literals), f"localhost:{port}"})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )


def http_app(server: MCPServer, addresses: str | Sequence[str], port: int) -> Starlette:
    """The app for sockets bound to ``addresses`` (one, or for ``localhost`` 127.0.0.1 and ::1) and ``port``:
    the bound ones, so ``localhost`` is resolved."""
    listed = _listed(addresses)
    return server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=transport_security(listed, port), host=listed[0]
    )


def serve_http(server: MCPServer, sockets: Sequence[socket.socket], announce: Callable[[list[str]], None]) -> None:
    """Serve on ``sockets`` (from ``loopback.bind``: one port) until interrupted. ``announce`` gets the endpoint
    URLs once they listen."""
    addresses = [sock.getsockname()[0] for sock in sockets]
    port = sockets[0].getsockname()[1]
    app = http_app(server, addresses, port)
    announce([url_of(sock) + MCP_PATH for sock in sockets])
    uvicorn_server(app, lifespan="on").run(sockets=list(sockets))
