"""The floor: the SDK's own minimum, a bare ``MCPServer`` with one trivial tool, over stdio (the default) or,
with ``--http``, over Streamable HTTP on 127.0.0.1 with a port of the OS's choosing.

``bench.py`` spawns it next to ``okx-auth-mcp serve``; whatever this costs, no MCP server on this SDK and
interpreter can cost less. Over HTTP it is the SDK's app on uvicorn's own listener (which sets
``TCP_NODELAY`` on every connection), with the same uvicorn settings as ours: no access log, warnings only.
It announces ``... at http://127.0.0.1:PORT/mcp`` on stderr once it listens.
"""

from __future__ import annotations

import asyncio
import sys

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("floor")


@mcp.tool()
def ping() -> str:
    """Answers pong."""
    return "pong"


async def serve_http() -> None:
    import uvicorn

    app = mcp.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"floor: MCP over Streamable HTTP at http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    await serving


if __name__ == "__main__":
    if sys.argv[1:] == ["--http"]:
        asyncio.run(serve_http())
    else:
        mcp.run("stdio")
