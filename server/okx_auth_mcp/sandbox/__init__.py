"""An embedded OKX-compatible authorization server, for trying the login offline and for the tests."""

from okx_auth_mcp.sandbox.app import SandboxConfig, SandboxState, create_app
from okx_auth_mcp.sandbox.runner import RunningSandbox

__all__ = ["RunningSandbox", "SandboxConfig", "SandboxState", "create_app"]
