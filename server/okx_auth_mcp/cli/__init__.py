"""The command line; ``okx_auth_mcp.cli.main:main`` is the entry point."""

from okx_auth_mcp.cli.main import main

__all__ = ["main"]
