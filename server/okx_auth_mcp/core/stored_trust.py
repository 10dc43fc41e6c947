"""What a login or a session may point to: checked when a server's answer arrives and again on every read of
a state file. Pure.

The state directory is this user's, but a file planted in it (or left by another version, or restored from a
backup of another configuration) must not make this program show a phishing link or send a refresh token to
another host. So a record read back passes the same checks as the answer it was made from: its issuer is the
one this site uses now, every endpoint is on that issuer's hosts, and its verification link passes the trust
policy. A reason names the field, never the value.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

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


def pending_problem(pending: PendingLogin, policy: TrustPolicy) -> str | None:
    """Why a pending login read back cannot be shown or polled, else None."""
    problem = _endpoints_problem(pending.endpoints, policy)
    if problem is not None:
        return problem
    if pending.listener is not None:
        return _authorization_link_problem(pending, policy)
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


def _authorization_link_problem(pending: PendingLogin, policy: TrustPolicy) -> str | None:
    """A redirect login's link: the issuer's authorization endpoint, asking for a code for this login's client,
    with an S256 challenge, to come back to a loopback address (``core.authorization_code``)."""
    parts = urlsplit(pending.verification_uri)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if parts.fragment or not endpoint_trusted(policy, base):
        return "holds an authorization link outside the issuer's hosts"
    query = {key: values for key, values in parse_qs(parts.query).items()}
    want = {"response_type": "code", "client_id": pending.endpoints.client_id, "code_challenge_method": "S256"}
    if any(query.get(key) != [value] for key, value in want.items()):
        return "holds an authorization link for another client or without the S256 challenge"
    redirect = query.get("redirect_uri", [""])
    if len(redirect) != 1 or urlsplit(redirect[0]).hostname not in ("127.0.0.1", "::1"):
        return "holds an authorization link whose answer does not come back to this computer"
    return None


def session_problem(session: Session, policy: TrustPolicy) -> str | None:
    """Why a session read back cannot be used, else None."""
    return _endpoints_problem(session.endpoints, policy)
