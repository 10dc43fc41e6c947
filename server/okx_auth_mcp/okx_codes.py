"""OKX's error codes and what to do about each, in one place. Pure.

Only these texts, never the server's own ``msg``, reach a tool result: a message from the network could
carry a link or instructions that the agent would relay to the user."""

from __future__ import annotations

OKX_CODES: dict[str, str] = {
    "53000": "Invalid token. Log in again.",
    "53001": "Authorization canceled. Start the login again and approve it in the browser.",
    "53002": "Token expired. Log in again.",
    "53003": "Token revoked. Log in again.",
    "53004": "Account has been frozen. Contact OKX support.",
    "53005": "Wrong refresh token. Log in again.",
    "53006": "Invalid device. Log in again from this device.",
    "53009": "Authorization failed. Start the login again.",
    "53010": "A parameter was rejected. This is a bug in okx-auth-mcp; please report it.",
    "53011": "A required parameter was empty. This is a bug in okx-auth-mcp; please report it.",
    "53012": "Authorization code expired. Start the login again.",
    "53013": "You don't have permission to access this API. Log in with the scopes it needs.",
    "53014": "Invalid IP: the request came from an IP address this authorization does not allow.",
    "53015": "A parameter is too long. This is a bug in okx-auth-mcp; please report it.",
    "53016": "Invalid redirect_uri. This is a bug in okx-auth-mcp; please report it.",
    "53017": "Fast API permissions not enabled for this account.",
}


def describe_okx_code(code: str) -> str:
    """A clear message with a next step, for every code."""
    return OKX_CODES.get(code, "OKX refused the request with a code okx-auth-mcp does not know yet.")
