"""The OAuth client's I/O: one HTTP request per method, every response validated by ``oauth_protocol``.

Requests are form-encoded with ``client_id`` in the body (registration is JSON, as RFC 7591 requires),
send ``Accept: application/json``, carry a timeout, and read at most ``MAX_BODY_BYTES`` of the answer.
:func:`send_bounded` (those bounds) and :func:`decode_json` serve ``okx_api``'s REST calls too.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

from okx_auth_mcp import __version__
from okx_auth_mcp.core.oauth_errors import BadResponse, DiscoveryFailed, NetworkError, OAuthError, OkxError
from okx_auth_mcp.core.oauth_wire import (
    DEVICE_CODE_GRANT,
    DeviceAuthorization,
    Registration,
    ServerMetadata,
    TokenResponse,
    as_token_error,
    error_from_body,
    okx_error_in_success,
    parse,
)

MAX_BODY_BYTES = 64 * 1024
DEFAULT_TIMEOUT_SECONDS = 10.0
BODY_DEADLINE_FACTOR = 2
"""httpx's timeouts bound each phase (connect, write, each read); a server trickling bytes could still
hold a request open for long. The whole body must arrive within this many timeouts of the request's start."""


def request_worst_case(timeout: float) -> float:
    """The longest one request can take: the body deadline, plus one read and the connect that precede it."""
    return (BODY_DEADLINE_FACTOR + 2) * timeout


CLIENT_NAME = "okx-auth-mcp"


def well_known_urls(issuer: str) -> list[str]:
    """RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path; then the OpenID
    Connect location as a fallback."""
    base = issuer.rstrip("/")
    parts = urlsplit(base)
    return [
        urlunsplit((parts.scheme, parts.netloc, f"/.well-known/oauth-authorization-server{parts.path}", "", "")),
        f"{base}/.well-known/openid-configuration",
    ]


def decode_json(raw: bytes, status: int, what: str) -> Any:
    """The decoded JSON body; BadResponse when it is not JSON."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadResponse(f"{what}: HTTP {status} with a body that is not JSON") from None


def send_bounded(
    client: httpx2.Client, timeout: float, method: str, url: str, what: str, **kwargs: Any
) -> tuple[int, bytes]:
    """One request through ``client``: (status, body). NetworkError when nothing came back (or the body did not
    arrive within ``BODY_DEADLINE_FACTOR * timeout``), BadResponse for a body larger than ``MAX_BODY_BYTES``.
    Errors name the host, never the rest of the URL or any header."""
    deadline = time.monotonic() + BODY_DEADLINE_FACTOR * timeout
    try:
        with client.stream(method, url, **kwargs) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BadResponse(f"{what}: the response is larger than {MAX_BODY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise NetworkError(f"{what}: {urlsplit(url).netloc} did not finish answering in time")
                chunks.append(chunk)
            status = response.status_code
    except httpx2.TimeoutException as exc:
        raise NetworkError(f"{what}: {urlsplit(url).netloc} did not answer in time ({type(exc).__name__})") from None
    except httpx2.HTTPError as exc:
        raise NetworkError(f"{what}: cannot reach {urlsplit(url).netloc} ({type(exc).__name__})") from None
    return status, b"".join(chunks)


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
                self._made = httpx2.Client(
                    timeout=httpx2.Timeout(self._timeout),
                    transport=self._transport,
                    headers={"Accept": "application/json", "User-Agent": f"okx-auth-mcp/{__version__}"},
                    follow_redirects=False,
                    trust_env=True,
                )
            return self._made

    def close(self) -> None:
        with self._making:
            if self._made is not None:
                self._made.close()

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, bytes]:
        """(status, body). NetworkError when nothing came back, BadResponse for a body too large."""
        return send_bounded(self._client, self._timeout, method, url, what, **kwargs)

    def _send_json(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, decoded JSON body); BadResponse for a body that is not JSON."""
        status, raw = self._send(method, url, what, **kwargs)
        return status, decode_json(raw, status, what)

    def _post_form(self, url: str, form: Mapping[str, str], what: str) -> Any:
        status, body = self._send_json("POST", url, what, data=dict(form))
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
                status, raw = self._send("GET", url, "discovery")
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
        status, body = self._send_json("POST", metadata.registration_endpoint, "client registration", json=request)
        if status not in (200, 201):
            raise error_from_body(status, body, "client registration")
        return parse(Registration, body, "client registration")

    def device_authorize(self, metadata: ServerMetadata, client_id: str, scope: str) -> DeviceAuthorization:
        body = self._post_form(
            metadata.device_authorization_endpoint,
            {"client_id": client_id, "scope": scope},
            "device authorization",
        )
        return parse(DeviceAuthorization, body, "device authorization")

    def poll_device_token(self, token_endpoint: str, client_id: str, device_code: str) -> TokenResponse:
        form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": client_id}
        return self._token(token_endpoint, form, "token")

    def refresh(self, token_endpoint: str, client_id: str, refresh_token: str) -> TokenResponse:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
        return self._token(token_endpoint, form, "token refresh")

    def _token(self, token_endpoint: str, form: Mapping[str, str], what: str) -> TokenResponse:
        try:
            body = self._post_form(token_endpoint, form, what)
        except OkxError as exc:
            raise as_token_error(exc) from None
        return parse(TokenResponse, body, what)

    def revoke(self, revocation_endpoint: str, client_id: str, token: str, hint: str) -> None:
        """RFC 7009: HTTP 200 means revoked (or already invalid); the body, if any, carries nothing."""
        form = {"token": token, "token_type_hint": hint, "client_id": client_id}
        status, raw = self._send("POST", revocation_endpoint, "revocation", data=form)
        if status != 200:
            try:
                body = decode_json(raw, status, "revocation")
            except BadResponse:
                body = None
            raise error_from_body(status, body, "revocation")
