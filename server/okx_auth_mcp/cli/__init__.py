"""The command line; ``okx_auth_mcp.cli.main:main`` is the entry point of ``okx-auth-mcp``, and
``okx_auth_mcp.cli.okx_auth_bin:main`` that of ``okx-auth-mcp-bin``. ``main`` is imported on first use, so that
``okx-auth-mcp-bin`` (started for every token OKX's tools need) does not load every command family."""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from okx_auth_mcp.cli.main import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
