"""Who is calling the sandbox's token, device and revocation endpoints (RFC 6749 §2.3): a confidential client
proves it with its secret, in an ``Authorization: Basic`` header (``client_secret_basic``; id and secret each
form-encoded first, §2.3.1) or in the body (``client_secret_post``), never both; a public client names itself
with ``client_id`` in the body and sends no secret (``none``).

Every failure is ``invalid_client`` with HTTP 401 (and ``WWW-Authenticate: Basic`` when the client tried Basic,
§5.2); two methods at once is ``invalid_request``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse

from okx_auth_mcp.sandbox.clients import SandboxClient
from okx_auth_mcp.sandbox.faults import oauth_error
from okx_auth_mcp.sandbox.state import SandboxState

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str | None
    basic: bool


def _refused(description: str, basic: bool) -> JSONResponse:
    answer = oauth_error("invalid_client", description, 401)
    if basic:
        answer.headers["WWW-Authenticate"] = 'Basic realm="okx-sandbox"'
    return answer


def credentials(request: Request, form: dict[str, str]) -> Credentials | JSONResponse:
    """What the request says about its client, or the refusal of a malformed ``Authorization`` header."""
    header = request.headers.get("authorization")
    if header is None:
        return Credentials(form.get("client_id", ""), form.get("client_secret"), basic=False)
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return _refused("client authentication: Basic, or the secret in the body", basic=True)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return _refused("the Basic credentials are not base64 of id:secret", basic=True)
    user, colon, password = decoded.partition(":")
    if not colon:
        return _refused("the Basic credentials are not base64 of id:secret", basic=True)
    client_id = unquote_plus(user)
    if "client_secret" in form:
        return oauth_error("invalid_request", "more than one client authentication method (RFC 6749 §2.3)")
    if form.get("client_id", client_id) != client_id:
        return oauth_error("invalid_request", "client_id in the body differs from the Basic credentials")
    return Credentials(client_id, unquote_plus(password), basic=True)


def check(state: SandboxState, claimed: Credentials) -> SandboxClient | JSONResponse:
    """The client, once it proved who it is; call with the state's lock held."""
    client = state.clients.get(claimed.client_id)
    if client is None:
        return _refused("unknown client_id", claimed.basic)
    if client.secret is not None:
        given = (claimed.secret or "").encode("utf-8")
        if claimed.secret is None or not hmac.compare_digest(given, client.secret.encode("utf-8")):
            return _refused("client authentication failed", claimed.basic)
    elif claimed.secret:
        return _refused("this is a public client: it has no secret", claimed.basic)
    return client


def authenticate(state: SandboxState, request: Request, form: dict[str, str]) -> SandboxClient | JSONResponse:
    """:func:`credentials`, then :func:`check`; call with the state's lock held."""
    claimed = credentials(request, form)
    return claimed if isinstance(claimed, JSONResponse) else check(state, claimed)
