"""Run the sandbox on 127.0.0.1 in a background thread (for ``serve --sandbox``, the demo and the tests)
or in the foreground (``okx-auth-mcp sandbox``)."""

from __future__ import annotations

from okx_auth_mcp.edges.loopback import BackgroundServer
from okx_auth_mcp.sandbox.app import create_app
from okx_auth_mcp.sandbox.state import SandboxConfig, SandboxState


class RunningSandbox(BackgroundServer):
    """``with RunningSandbox() as sandbox: sandbox.url``: a live server until the block ends."""

    def __init__(self, config: SandboxConfig | None = None, port: int = 0) -> None:
        self.state = SandboxState(config=config or SandboxConfig())
        super().__init__(lambda _port: create_app(self.state), port=port, name="okx-sandbox")
        self.state.issuer = self.url
