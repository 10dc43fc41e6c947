"""The sandbox's OAuth endpoints: RFC 8414 discovery, RFC 7591 registration (public clients only), RFC 8628
device authorization, the token endpoint (``device_code``, ``authorization_code`` and ``refresh_token``
grants) and RFC 7009 revocation. The authorization endpoint, a page, is :mod:`~okx_auth_mcp.sandbox.consent`.

Every endpoint a client calls authenticates it first (:mod:`~okx_auth_mcp.sandbox.client_auth`: a confidential
client with its secret, Basic or in the body; a public one by its ``client_id``). The ``authorization_code``
grant is :mod:`~okx_auth_mcp.sandbox.code_grant`. Refresh tokens rotate; presenting a refresh token that was
already rotated is treated as theft (RFC 9700 §4.14.2): the whole grant is revoked. Polling faster than
``interval`` earns ``slow_down``.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from okx_auth_mcp.sandbox import client_auth
from okx_auth_mcp.sandbox.clients import SandboxClient
from okx_auth_mcp.sandbox.code_grant import CODE_GRANT, code_grant
from okx_auth_mcp.sandbox.consent import AUTHORIZE_PATH
from okx_auth_mcp.sandbox.faults import faulted, oauth_error
from okx_auth_mcp.sandbox.state import SCOPES, Device, Grant, SandboxState

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def routes(state: SandboxState) -> list[Route]:
    async def metadata(request: Request) -> Response:
        name = "discovery_oidc" if request.url.path.endswith("openid-configuration") else "discovery"
        if (fault := await faulted(state, name)) is not None:
            return fault
        issuer = state.issuer
        with state.lock:
            wrong = state.faults.get(name) == "wrong_issuer"
        return JSONResponse(
            {
                "issuer": "https://another-issuer.example" if wrong else issuer,
                "authorization_endpoint": f"{issuer}{AUTHORIZE_PATH}",
                "device_authorization_endpoint": f"{issuer}/oauth/device/code",
                "token_endpoint": f"{issuer}/oauth/token",
                "registration_endpoint": f"{issuer}/oauth/register",
                "revocation_endpoint": f"{issuer}/oauth/revoke",
                "grant_types_supported": [DEVICE_GRANT, CODE_GRANT, "refresh_token"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": list(SCOPES),
                "token_endpoint_auth_methods_supported": list(client_auth.AUTH_METHODS),
                "revocation_endpoint_auth_methods_supported": list(client_auth.AUTH_METHODS),
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def register(request: Request) -> Response:
        if (fault := await faulted(state, "register")) is not None:
            return fault
        try:
            body = await request.json()
        except ValueError:
            return oauth_error("invalid_client_metadata", "the body is not JSON")
        if not isinstance(body, dict) or body.get("token_endpoint_auth_method") != "none":
            return oauth_error("invalid_client_metadata", "only public clients (auth method none) may register")
        grants = body.get("grant_types")
        if not isinstance(grants, list) or DEVICE_GRANT not in grants:
            return oauth_error("invalid_client_metadata", "grant_types must include the device_code grant")
        client_id = f"sbx-{secrets.token_hex(8)}"
        name = body.get("client_name")
        named = name if isinstance(name, str) and name.isprintable() and len(name) <= 64 else ""
        state.add_client(SandboxClient(client_id, named, self_registered=True))
        return JSONResponse(
            {
                "client_id": client_id,
                "client_id_issued_at": int(state.clock()),
                "token_endpoint_auth_method": "none",
                "grant_types": grants,
            },
            status_code=201,
        )

    async def device_code(request: Request) -> Response:
        if (fault := await faulted(state, "device")) is not None:
            return fault
        form = {k: str(v) for k, v in (await request.form()).items()}
        with state.lock:
            client = client_auth.authenticate(state, request, form)
        if isinstance(client, Response):
            return client
        client_id, scope = client.client_id, form.get("scope", "")
        if not scope or any(s not in SCOPES for s in scope.split()):
            return oauth_error("invalid_scope", f"scopes must be among {', '.join(SCOPES)}")
        user_code = "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(2))
        device = secrets.token_urlsafe(32)
        with state.lock:
            state.devices[device] = Device(
                client_id,
                scope,
                user_code,
                state.clock() + state.config.device_code_ttl,
                state.config.interval,
            )
            hostile = state.faults.get("device")
        page = "https://okx.example.net/device" if hostile == "foreign_verification_uri" else f"{state.issuer}/device"
        complete = "https://okx.example.net/device" if hostile == "foreign_complete_uri" else page
        kind, _, suffix = (hostile or "").partition(":")
        return JSONResponse(
            {
                "device_code": device,
                "user_code": user_code,
                "verification_uri": page + (suffix if kind == "uri_suffix" else ""),
                "verification_uri_complete": f"{complete}?user_code={user_code}"
                + (suffix if kind == "complete_suffix" else ""),
                "expires_in": state.config.device_code_ttl,
                "interval": state.config.interval,
            }
        )

    def device_grant(client: SandboxClient, form: dict[str, str]) -> Response:
        device = state.devices.get(form.get("device_code", ""))
        if device is None or device.client_id != client.client_id or device.consumed:
            return oauth_error("invalid_grant", "unknown or used device_code")
        now = state.clock()
        if now >= device.expires_at:
            return oauth_error("expired_token", "the device code expired")
        too_soon = device.last_poll is not None and now - device.last_poll < device.interval
        device.last_poll = now
        if device.decision == "denied":
            device.consumed = True
            return oauth_error("access_denied", "the user denied the authorization")
        if device.decision is None:
            if too_soon and state.config.enforce_interval:
                device.interval += 5
                return oauth_error("slow_down", "polling too fast")
            return oauth_error("authorization_pending", "the user has not finished yet")
        device.consumed = True
        return JSONResponse(state.mint(Grant(device.client_id, device.scope)))

    def refresh_grant(client: SandboxClient, form: dict[str, str]) -> Response:
        token = state.refresh_tokens.get(form.get("refresh_token", ""))
        if token is None or token.grant.client_id != client.client_id:
            return oauth_error("invalid_grant", "unknown refresh token")
        if token.superseded:
            token.grant.revoked = True
            state.reuse_detected += 1
            return oauth_error("invalid_grant", "refresh token reuse detected; the grant is revoked")
        if token.grant.revoked or state.clock() >= token.expires_at:
            return oauth_error("invalid_grant", "the refresh token is expired or revoked")
        token.superseded = True
        for access in state.access_tokens.values():
            if access.grant is token.grant:
                access.superseded = True
        return JSONResponse(state.mint(token.grant))

    async def token(request: Request) -> Response:
        if (fault := await faulted(state, "token")) is not None:
            return fault
        form = {k: str(v) for k, v in (await request.form()).items()}
        with state.lock:
            client = client_auth.authenticate(state, request, form)
            if isinstance(client, Response):
                return client
            if form.get("grant_type") == DEVICE_GRANT:
                return device_grant(client, form)
            if form.get("grant_type") == CODE_GRANT:
                return code_grant(state, client, form)
            if form.get("grant_type") == "refresh_token":
                return refresh_grant(client, form)
        return oauth_error("unsupported_grant_type", "device_code, authorization_code and refresh_token only")

    async def revoke(request: Request) -> Response:
        if (fault := await faulted(state, "revoke")) is not None:
            return fault
        form = {k: str(v) for k, v in (await request.form()).items()}
        value = form.get("token", "")
        claimed = client_auth.credentials(request, form)
        if isinstance(claimed, Response):
            return claimed
        with state.lock:
            if claimed.client_id in state.clients:  # a known client must prove it; an unknown one revokes nothing
                client = client_auth.check(state, claimed)
                if isinstance(client, Response):
                    return client
            kind = "refresh_token" if value in state.refresh_tokens else "access_token"
            found = state.refresh_tokens.get(value) or state.access_tokens.get(value)
            if found is not None and found.grant.client_id == claimed.client_id:
                found.grant.revoked = True
                state.revoked.append(kind)
            else:
                state.revoked.append("unknown")
        return Response(status_code=200)

    return [
        Route("/.well-known/oauth-authorization-server", metadata),
        Route("/.well-known/openid-configuration", metadata),
        Route("/oauth/register", register, methods=["POST"]),
        Route("/oauth/device/code", device_code, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]
