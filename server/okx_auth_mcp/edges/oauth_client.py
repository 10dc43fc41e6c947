"""The OAuth client's I/O: one HTTP request per method, every response validated by ``core.oauth_wire``.

Requests are form-encoded with ``client_id`` in the body (registration is JSON, as RFC 7591 requires),
send ``Accept: application/json``, carry a timeout, and read at most ``MAX_BODY_BYTES`` of the answer.
The bounds are ``edges.http``'s, shared with ``okx_api``'s REST calls and the probes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from okx_auth_mcp import __version__
from okx_auth_mcp.core.authorization_code import ClientAuth
from okx_auth_mcp.core.oauth_errors import BadResponse, DiscoveryFailed, OAuthError, OkxError
from okx_auth_mcp.core.oauth_wire import (
    DEVICE_CODE_GRANT,
    DeviceAuthorization,
    Registration,
    ServerMetadata,
    TokenResponse,
    as_token_error,
    check_device_links,
    error_from_body,
    okx_error_in_success,
    parse,
    well_known_urls,
)
from okx_auth_mcp.edges.http import DEFAULT_TIMEOUT_SECONDS, decode_json, make_client, send_bounded

if TYPE_CHECKING:
    import httpx2

CLIENT_NAME = "okx-auth-mcp"


class OAuthHttp:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT_SECONDS, transport: httpx2.BaseTransport | None = None) -> None:
        self._timeout = timeout
        self._transport = transport
        self._made: httpx2.Client | None = None
        self._making = threading.Lock()

    @property
    def _client(self) -> httpx2.Client:
        """Made on the first request: most tool calls send none, and building the TLS context costs a
        noticeable part of the server's cold start."""
        with self._making:
            if self._made is None:
                self._made = make_client(self._timeout, self._transport)
            return self._made

    def close(self) -> None:
        with self._making:
            if self._made is not None:
                self._made.close()

    def send(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, bytes]:
        """(status, body), within :func:`send_bounded`'s bounds."""
        return send_bounded(self._client, self._timeout, method, url, what, **kwargs)

    def send_json(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, decoded JSON body); BadResponse for a body that is not JSON."""
        status, raw = self.send(method, url, what, **kwargs)
        return status, decode_json(raw, status, what)

    def _post_form(self, url: str, form: Mapping[str, str], what: str, headers: Mapping[str, str] | None = None) -> Any:
        status, body = self.send_json("POST", url, what, data=dict(form), headers=dict(headers or {}))
        if status != 200:
            raise error_from_body(status, body, what)
        okx = okx_error_in_success(body)
        if okx is not None:
            raise okx
        return body

    def discover(self, issuer: str) -> ServerMetadata:
        """RFC 8414 metadata from the first well-known location that gives a valid document for ``issuer``."""
        tried = well_known_urls(issuer)
        reasons: list[str] = []
        for url in tried:
            try:
                status, raw = self.send("GET", url, "discovery")
                if status != 200:
                    raise BadResponse(f"HTTP {status} at {url}")
                metadata = parse(ServerMetadata, decode_json(raw, status, f"discovery at {url}"), f"discovery at {url}")
                if metadata.issuer.rstrip("/") != issuer.rstrip("/"):
                    raise BadResponse(f"discovery at {url}: the metadata names another issuer")
            except OAuthError as exc:
                reasons.append(str(exc))
                continue
            return metadata
        raise DiscoveryFailed(issuer, tried, "; ".join(reasons))

    def register(self, metadata: ServerMetadata) -> Registration:
        if metadata.registration_endpoint is None:
            raise BadResponse("the authorization server offers no dynamic client registration endpoint")
        request = {
            "client_name": CLIENT_NAME,
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_CODE_GRANT, "refresh_token"],
            "response_types": [],
            "software_id": "okx-auth-mcp",
            "software_version": __version__,
        }
        status, body = self.send_json("POST", metadata.registration_endpoint, "client registration", json=request)
        if status not in (200, 201):
            raise error_from_body(status, body, "client registration")
        return parse(Registration, body, "client registration")

    def device_authorize(self, metadata: ServerMetadata, client_id: str, scope: str) -> DeviceAuthorization:
        if metadata.device_authorization_endpoint is None:
            raise BadResponse("discovery: the server's metadata names no device_authorization_endpoint")
        body = self._post_form(
            metadata.device_authorization_endpoint,
            {"client_id": client_id, "scope": scope},
            "device authorization",
        )
        device = parse(DeviceAuthorization, body, "device authorization")
        check_device_links(device)
        return device

    def poll_device_token(self, token_endpoint: str, client_id: str, device_code: str) -> TokenResponse:
        form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": client_id}
        return self._token(token_endpoint, form, "token")

    def exchange_code(
        self, token_endpoint: str, client: ClientAuth, code: str, redirect_uri: str, verifier: str
    ) -> TokenResponse:
        """The authorization code for tokens (RFC 6749 §4.1.3, with the PKCE verifier, RFC 7636 §4.5)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token(token_endpoint, {**form, "code_verifier": verifier}, "code exchange", client)

    def refresh(
        self, token_endpoint: str, client_id: str, refresh_token: str, client: ClientAuth | None = None
    ) -> TokenResponse:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
        return self._token(token_endpoint, form, "token refresh", client)

    def _token(
        self, token_endpoint: str, form: Mapping[str, str], what: str, client: ClientAuth | None = None
    ) -> TokenResponse:
        headers: dict[str, str] = {}
        if client is not None:
            form, headers = client.applied(form)
        try:
            body = self._post_form(token_endpoint, form, what, headers)
        except OkxError as exc:
            raise as_token_error(exc) from None
        return parse(TokenResponse, body, what)

    def revoke(
        self, revocation_endpoint: str, client_id: str, token: str, hint: str, client: ClientAuth | None = None
    ) -> None:
        """RFC 7009: HTTP 200 means revoked (or already invalid); the body, if any, carries nothing."""
        form, headers = (client or ClientAuth(client_id)).applied({"token": token, "token_type_hint": hint})
        status, raw = self.send("POST", revocation_endpoint, "revocation", data=form, headers=headers)
        if status != 200:
            try:
                body = decode_json(raw, status, "revocation")
            except BadResponse:
                body = None
            raise error_from_body(status, body, "revocation")
