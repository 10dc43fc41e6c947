"""How a session's client authenticates at the token and revocation endpoints (``Endpoints.grant``): a public
client (device flow, PKCE) with its id, an app server's (``code``) with the configured secret. Small on
purpose: every refresh imports it, the redirect listener's server stack stays unloaded."""

from __future__ import annotations

from okx_auth_mcp.core.authorization_code import ClientAuth
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.records import Endpoints
from okx_auth_mcp.login.settings import Settings


def session_client(settings: Settings, endpoints: Endpoints) -> ClientAuth:
    """How a session's client authenticates at the token and revocation endpoints: an app server's (``code``)
    with the configured secret; ConfigError when that app's id and secret are not configured here."""
    if endpoints.grant != "code":
        return ClientAuth(endpoints.client_id)
    if settings.client_secret is None or settings.client_id != endpoints.client_id:
        raise ConfigError(
            "this OAuth session was granted to an app server: OKX_OAUTH_CLIENT_ID and OKX_OAUTH_CLIENT_SECRET "
            "of that app are needed to refresh or revoke it"
        )
    return ClientAuth(endpoints.client_id, settings.client_secret, endpoints.auth_method)
