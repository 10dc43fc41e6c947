"""``serve --http``: the MCP server over Streamable HTTP, on loopback only, with DNS-rebinding protection.

The gate needs nothing from the connection: each step's ticket is signed with the state directory's key, so
it holds across requests, sessions and server processes that share that directory.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from okx_auth_mcp.edges.loopback import bind, url_of, uvicorn_server

MCP_PATH = "/mcp"


def transport_security(address: str, port: int) -> TransportSecuritySettings:
    """Accept exactly this server's own ``Host`` values (the bound address, and ``localhost``), and ``Origin``
    values of the same origin (a browser page from anywhere else, including another local port, is refused).
    Clients that are not browsers send no ``Origin``."""
    literal = f"[{address}]" if ":" in address else address
    hosts = sorted({f"{literal}:{port}", f"localhost:{port}"})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )


def http_app(server: MCPServer, address: str, port: int) -> Starlette:
    """The app for a socket bound to ``address`` and ``port`` (the bound ones: ``localhost`` is resolved)."""
    return server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=transport_security(address, port), host=address
    )


def serve_http(server: MCPServer, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve until interrupted. ``announce`` gets the endpoint URL once the socket listens (port 0 picks one)."""
    sock = bind(host, port)
    with sock:
        address, bound_port = sock.getsockname()[:2]
        app = http_app(server, address, bound_port)
        announce(url_of(sock) + MCP_PATH)
        uvicorn_server(app, lifespan="on").run(sockets=[sock])
