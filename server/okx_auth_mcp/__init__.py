"""okx-auth-mcp: an MCP server that signs a user into OKX the way OKX's own skill prescribes."""

__version__ = "0.1.0"
