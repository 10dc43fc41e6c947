"""The token endpoint's ``authorization_code`` grant (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6), for a client that
already proved who it is (:mod:`~okx_auth_mcp.sandbox.client_auth`).

In the order checked:

- ``code`` missing: ``invalid_request``; unknown, or issued to another client: ``invalid_grant``.
- the code presented before: OKX's ``53012`` (Authorization code expired), and everything it was exchanged for
  is revoked (RFC 6749 §4.1.2: a replayed code means someone else has it). The first presentation by its
  client spends the code whatever follows: a failed exchange cannot be retried with other values.
- older than ``auth_code_ttl`` (10 minutes): ``53012``.
- ``redirect_uri`` missing: OKX's ``53011`` (Parameter redirect_uri cannot be empty); not exactly the one of the
  authorization request (the port included): ``53016`` (Invalid redirect_uri).
- with a challenge: ``code_verifier`` missing, malformed (43-128 unreserved characters) or not its S256:
  ``invalid_grant``. Without a challenge (a confidential client may send none): a ``code_verifier`` at all is
  ``invalid_grant`` (RFC 9700 §2.1.1).

Then access and refresh tokens, as the device grant issues them, rotated and revoked the same way after.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from starlette.responses import JSONResponse

from okx_auth_mcp.sandbox.clients import SandboxClient
from okx_auth_mcp.sandbox.faults import oauth_error, okx_error
from okx_auth_mcp.sandbox.state import Grant, SandboxState

CODE_GRANT = "authorization_code"
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}\Z")


def s256(verifier: str) -> str:
    """The S256 ``code_challenge`` of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_grant(state: SandboxState, client: SandboxClient, form: dict[str, str]) -> JSONResponse:
    """The grant's answer (module docstring); call with the state's lock held."""
    if not form.get("code"):
        return oauth_error("invalid_request", "code is required")
    code = state.codes.get(form["code"])
    if code is None or code.request.client_id != client.client_id:
        return oauth_error("invalid_grant", "unknown authorization code")
    if code.spent:
        state.code_reuse_detected += 1
        if code.grant is not None:
            code.grant.revoked = True
        return okx_error("53012", "Authorization code expired", 400)
    code.spent = True
    if state.clock() >= code.expires_at:
        return okx_error("53012", "Authorization code expired", 400)
    if not form.get("redirect_uri"):
        return okx_error("53011", "Parameter redirect_uri cannot be empty", 400)
    if form["redirect_uri"] != code.request.redirect_uri:
        return okx_error("53016", "Invalid redirect_uri", 400)
    verifier = form.get("code_verifier")
    challenge = code.request.code_challenge
    if challenge is None and verifier is not None:
        return oauth_error("invalid_grant", "a code_verifier for an authorization request without code_challenge")
    if challenge is not None and not (
        verifier and _VERIFIER_RE.match(verifier) and hmac.compare_digest(s256(verifier), challenge)
    ):
        return oauth_error("invalid_grant", "the code_verifier does not match the code_challenge")
    code.grant = Grant(client.client_id, code.request.scope)
    return JSONResponse(state.mint(code.grant))
