"""The floor: the SDK's own minimum, a bare ``MCPServer`` with one trivial tool, over stdio.

``bench.py`` spawns it next to ``okx-auth-mcp serve``; whatever this costs, no MCP server on this SDK and
interpreter can cost less.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("floor")


@mcp.tool()
def ping() -> str:
    """Answers pong."""
    return "pong"


if __name__ == "__main__":
    mcp.run("stdio")
