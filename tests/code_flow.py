"""What the tests of the sandbox's authorization code flow and its pages share (a module of its own, as
:mod:`tests.browser` is): two registered clients, PKCE pairs computed here (RFC 7636 §4.1-4.2, not with the
sandbox's code), the authorization link, a page's CSRF token, the redirect's parameters, the token request, and
a device authorization as our client asks for one."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2

from okx_auth_mcp.sandbox.clients import SandboxClient
from tests.helpers import csrf_of, origin

PUBLIC = SandboxClient("pocket-app", "Acme Pocket", redirect_uris=("http://127.0.0.1/callback",))
"""An app on the user's device: no secret, a loopback redirect (any port)."""
CONFIDENTIAL = SandboxClient(
    "desk-app", "Acme Trading Desk", secret="s3cret-Desk-App+/=", redirect_uris=("https://desk.example/oauth/cb",)
)
"""An app with a server: a secret (with characters Basic must form-encode), an exact https redirect."""
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CALLBACK = "http://127.0.0.1:53123/callback"
"""Where :data:`PUBLIC` listens in these tests (the registered URI at a port of its own)."""


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)  # 64 unreserved characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_url(issuer: str, client: SandboxClient, redirect: str, pair: Pkce | None, **changes: str | None) -> str:
    """The authorization link a client builds, with ``changes`` (a value None leaves that parameter out)."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect,
        "scope": "read_only trade",
        "state": "state-7f3a",
        "code_challenge": pair.challenge if pair else None,
        "code_challenge_method": "S256" if pair else None,
    }
    params.update(changes)
    return f"{issuer}/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def answered(location: str) -> dict[str, str]:
    """The parameters a redirect carries back (each once)."""
    pairs = parse_qsl(urlsplit(location).query, keep_blank_values=True)
    assert len({k for k, _ in pairs}) == len(pairs), location
    return dict(pairs)


def consent(http: httpx2.Client, url: str, action: str = "approve") -> httpx2.Response:
    """The consent page opened and answered (``approve`` or ``deny``): the redirect, not followed."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    return http.post(f"{origin(url)}/oauth/authorize", data={"csrf": csrf_of(page.text), "action": action})


def approved_code(http: httpx2.Client, url: str) -> str:
    answer = consent(http, url)
    assert answer.status_code == 303, answer.text
    return answered(answer.headers["location"])["code"]


def exchange(
    http: httpx2.Client,
    issuer: str,
    client: SandboxClient,
    code: str,
    redirect_uri: str | None,
    verifier: str | None,
    *,
    how: str = "basic",
) -> httpx2.Response:
    """The token request, the client authenticated ``how``: ``basic`` (client_secret_basic; a public client
    sends its client_id in the body instead), ``post`` (client_secret_post), ``none``."""
    form = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        form["redirect_uri"] = redirect_uri
    if verifier is not None:
        form["code_verifier"] = verifier
    headers = {}
    if how == "basic" and client.secret is not None:
        pair = f"{_form_encoded(client.client_id)}:{_form_encoded(client.secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form["client_id"] = client.client_id
        if how == "post" and client.secret is not None:
            form["client_secret"] = client.secret
    return http.post(f"{issuer}/oauth/token", data=form, headers=headers)


def _form_encoded(value: str) -> str:
    """RFC 6749 §2.3.1: the id and the secret are form-urlencoded before Basic joins them."""
    return urlencode({"": value})[1:]


def device_authorization(issuer: str, scope: str = "read_only") -> dict[str, str]:
    """A device authorization (RFC 8628 §3.2) for a client registered as ours registers (RFC 7591, public,
    named okx-auth-mcp), with that ``client_id`` added."""
    registration = {"token_endpoint_auth_method": "none", "grant_types": [DEVICE_GRANT], "client_name": "okx-auth-mcp"}
    with httpx2.Client() as http:
        client_id = http.post(f"{issuer}/oauth/register", json=registration).json()["client_id"]
        issued = http.post(f"{issuer}/oauth/device/code", data={"client_id": client_id, "scope": scope})
    assert issued.status_code == 200, issued.text
    return {**issued.json(), "client_id": client_id}
