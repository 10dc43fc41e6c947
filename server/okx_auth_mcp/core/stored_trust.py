"""What a login or a session may point to: checked when a server's answer arrives and again on every read of
a state file. Pure.

The state directory is this user's, but a file planted in it (or left by another version, or restored from a
backup of another configuration) must not make this program show a phishing link or send a refresh token to
another host. So a record read back passes the same checks as the answer it was made from: its issuer is the
one this site uses now, every endpoint is on that issuer's hosts, and its verification link passes the trust
policy. A reason names the field, never the value.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from okx_auth_mcp.core.authorization_code import redirect_uri
from okx_auth_mcp.core.oauth_errors import PhishingGuard
from okx_auth_mcp.core.oauth_wire import TrustPolicy, Url, is_safe_issuer
from okx_auth_mcp.core.records import Endpoints, PendingLogin, Session


def endpoint_trusted(policy: TrustPolicy, url: str) -> bool:
    """An endpoint a token may be sent to: https (http on loopback only) on the issuer's origin for a custom
    issuer; for OKX's own sites, an okx.com host or one listed in OKX_AUTH_ALLOWED_HOSTS."""
    if not is_safe_issuer(url):
        return False
    parsed = Url.parse(url)
    if policy.custom_issuer:
        return parsed.origin == Url.parse(policy.issuer).origin
    allowed = {h.lower() for h in policy.allowed_hosts}
    return parsed.scheme == "https" and (
        parsed.host == "okx.com" or parsed.host.endswith(".okx.com") or parsed.host in allowed
    )


def untrusted_endpoint(policy: TrustPolicy, endpoints: dict[str, str | None]) -> str | None:
    """The name of the first endpoint that is not trusted, else None."""
    for name, url in endpoints.items():
        if url is not None and not endpoint_trusted(policy, url):
            return name
    return None


def _endpoints_problem(endpoints: Endpoints, policy: TrustPolicy) -> str | None:
    if endpoints.issuer.rstrip("/") != policy.issuer.rstrip("/"):
        return "names another issuer than this site's (was OKX_OAUTH_ISSUER changed?)"
    bad = untrusted_endpoint(
        policy,
        {"token_endpoint": endpoints.token_endpoint, "revocation_endpoint": endpoints.revocation_endpoint},
    )
    return None if bad is None else f"names a {bad} outside the issuer's hosts"


def pending_problem(pending: PendingLogin, policy: TrustPolicy, client_id: str | None = None) -> str | None:
    """Why a pending login read back cannot be shown or polled, else None. ``client_id``: the redirect grants'
    configured client (None when the device grant is configured)."""
    problem = _endpoints_problem(pending.endpoints, policy)
    if problem is not None:
        return problem
    if pending.listener is not None:
        return _authorization_link_problem(pending, policy, client_id)
    try:
        policy.check(pending.verification_uri)
    except PhishingGuard:
        return "holds a verification link the trust policy refuses"
    if urlsplit(pending.verification_uri).query:  # as on receipt: the code is shown apart, never in the link
        return "holds a verification link with a query"
    if pending.verification_uri_complete is not None:
        try:
            policy.check(pending.verification_uri_complete, user_code=pending.user_code)
        except PhishingGuard:
            return "holds a complete verification link the trust policy refuses"
    return None


def _authorization_link_problem(pending: PendingLogin, policy: TrustPolicy, client_id: str | None) -> str | None:
    """A redirect login's link: on the issuer's hosts, asking for a code for the configured client
    (``client_id``; None: no redirect grant is configured, so none can be pending), with an S256 challenge and
    the login's own scope, to come back to a loopback redirect URI as ``core.authorization_code`` takes one."""
    if pending.device_code is not None or pending.user_code is not None:
        return "holds both a device login and a redirect login"
    parts = urlsplit(pending.verification_uri)
    if parts.fragment or not endpoint_trusted(policy, f"{parts.scheme}://{parts.netloc}{parts.path}"):
        return "holds an authorization link outside the issuer's hosts"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        return "holds an authorization link with a parameter twice"
    want = {"response_type": "code", "client_id": client_id, "code_challenge_method": "S256", "scope": pending.scope}
    if client_id is None or pending.endpoints.client_id != client_id or any(query.get(k) != v for k, v in want.items()):
        return "holds an authorization link for another client or scope, or without the S256 challenge"
    if not query.get("code_challenge") or not query.get("state"):
        return "holds an authorization link without its state or challenge"
    try:
        redirect_uri(query.get("redirect_uri", ""))
    except ValueError:
        return "holds an authorization link whose answer does not come back to this computer"
    if not query.get("redirect_uri"):
        return "holds an authorization link whose answer does not come back to this computer"
    return None


def session_problem(session: Session, policy: TrustPolicy) -> str | None:
    """Why a session read back cannot be used, else None."""
    return _endpoints_problem(session.endpoints, policy)
