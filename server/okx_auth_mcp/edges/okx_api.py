"""The HTTP edge for OKX's REST API: one request (a GET, or a POST of a JSON body), bounded and validated before
use; the account the credential
belongs to (:meth:`OkxApi.account_config`) and OKX's clock (:meth:`OkxApi.server_time`).

Every request has the timeout, the body size cap and the body deadline of
:func:`~okx_auth_mcp.edges.http.send_bounded`, follows no redirect (the headers carry credentials) and goes
only to an https URL, or plain http on loopback (the sandbox).

OKX answers ``{"code": "0", "msg": "", "data": [...]}``. Any other code is a refusal whatever the HTTP
status (OKX sends 50111 with HTTP 401, 51155 with 200, 50001 with 503). Only the code travels on, and only
when it is digits: the ``msg`` is kept on the exception for debugging and never shown.

Errors are the wire's, from ``oauth_errors`` (shared with the OAuth client)::

    NetworkError         nothing came back in time
    BadResponse          not JSON, too large, the wrong shape, an unexpected HTTP status
    └── Unauthorized     HTTP 401 without an OKX error body
    OkxError             an OKX error body: ``code``, ``status``
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from okx_auth_mcp.core.clock_offset import okx_time
from okx_auth_mcp.core.diagnosis.facts import Sample
from okx_auth_mcp.core.oauth_errors import BadResponse, OkxError
from okx_auth_mcp.core.oauth_wire import is_safe_issuer, okx_code
from okx_auth_mcp.core.records import Frozen, Unfit, validated
from okx_auth_mcp.edges.http import decode_json, make_client, send_bounded

ACCOUNT_CONFIG_PATH = "/api/v5/account/config"
"""Read-only: the account's UID, level and the permissions of the credential that asks."""
TIME_PATH = "/api/v5/public/time"
"""Public: OKX's clock, in milliseconds."""
UNAUTHORIZED = 401
_MSG_LIMIT = 200


class Unauthorized(BadResponse):
    """HTTP 401 with no OKX error body: the credential was refused, with no code saying why."""


class AccountConfig(Frozen):
    """The part of ``GET /api/v5/account/config``'s first ``data`` item that is used (and shown, the UID
    masked): plain digits and permission words only, so nothing the server wrote in prose gets through."""

    uid: str = Field(pattern=r"^[0-9]{1,32}$", repr=False)
    perm: str = Field(pattern=r"^[a-z_]{1,32}(,[a-z_]{1,32}){0,15}$")

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(self.perm.split(","))


class OkxApi:
    """Requests to OKX's REST API. A client per request: these calls are rare, and a profile's requests
    must not share connections with another's."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout

    def get(self, base_url: str, request_path: str, headers: Mapping[str, str], what: str) -> list[Any]:
        """The ``data`` of a successful answer to ``GET base_url + request_path``."""
        return self.send("GET", base_url, request_path, headers, what)

    def send(
        self, method: str, base_url: str, request_path: str, headers: Mapping[str, str], what: str, body: str = ""
    ) -> list[Any]:
        """The ``data`` of a successful answer to ``METHOD base_url + request_path``; ``body`` is a POST's JSON,
        exactly as it was signed."""
        if not is_safe_issuer(base_url):
            raise ValueError("OKX API requests go to https URLs only (plain http on loopback)")
        url = base_url.rstrip("/") + request_path
        extra: dict[str, Any] = {"headers": dict(headers)}
        if method == "POST":
            extra = {"headers": {**headers, "Content-Type": "application/json"}, "content": body.encode("utf-8")}
        with make_client(self._timeout) as client:
            status, raw = send_bounded(client, self._timeout, method, url, what, **extra)
        try:
            answer = decode_json(raw, status, what)
        except BadResponse:
            if status == UNAUTHORIZED:
                raise Unauthorized(f"{what}: HTTP 401 without an OKX error body") from None
            if status >= 500:
                raise BadResponse(f"{what}: the server failed (HTTP {status})") from None
            raise
        code = okx_code(answer)
        if code is not None and code != "0":
            msg = answer.get("msg")
            raise OkxError(code, msg[:_MSG_LIMIT] if isinstance(msg, str) else "", status)
        if status == UNAUTHORIZED:
            raise Unauthorized(f"{what}: HTTP 401 without an OKX error body")
        if status != 200:
            raise BadResponse(f"{what}: {'the server failed' if status >= 500 else 'unexpected'} HTTP {status}")
        if code is None:
            raise BadResponse(f"{what}: the answer carries no OKX code")
        data = answer.get("data")
        if not isinstance(data, list):
            raise BadResponse(f"{what}: data: expected a list")
        return data

    def account_config(self, base_url: str, headers: Mapping[str, str]) -> AccountConfig:
        """``GET /api/v5/account/config``: the account the credential in ``headers`` belongs to."""
        what = "account check"
        data = self.get(base_url, ACCOUNT_CONFIG_PATH, headers, what)
        if not data:
            raise BadResponse(f"{what}: data: no account in the answer")
        try:
            return validated(AccountConfig, data[0])
        except Unfit as exc:  # name the fields, never their values
            fields = ", ".join(field or "item" for field in exc.fields)
            raise BadResponse(f"{what}: the account's {fields} is not what OKX sends") from None

    def server_time(self, base_url: str, wall: Callable[[], float]) -> Sample:
        """One unauthenticated ``GET /api/v5/public/time``, timed: ``wall`` when it left, the round trip and
        OKX's time (``core.diagnosis.facts.clock_offset`` turns it into an offset)."""
        what = "server time"
        sent_at = wall()
        started = time.perf_counter()
        data = self.get(base_url, TIME_PATH, {}, what)
        rtt = time.perf_counter() - started
        try:
            return Sample(sent_at, rtt, okx_time(data))
        except BadResponse as exc:
            raise BadResponse(f"{what}: {exc}") from None
