"""The command line: ``okx_auth_mcp.cli.main:main`` is the entry point of ``okx-auth-mcp``, and
``okx_auth_mcp.cli.okx_auth_bin:main`` that of ``okx-auth-mcp-bin``. Nothing is imported here, so that
``okx-auth-mcp-bin`` (started for every token OKX's tools need) loads no other command family."""
