"""Helpers the tests share (imported from here, never from another test module)."""

from __future__ import annotations

from okx_auth_mcp.core.records import Session
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login.service import AuthService


def stored_session(service: AuthService) -> Session | None:
    """The OAuth session as the state directory holds it (no refresh, no request)."""
    return service.store.read_model(SESSION_FILE, Session)
