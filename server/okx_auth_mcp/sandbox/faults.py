"""What the sandbox answers when a test asks an endpoint to misbehave, and the error bodies it answers with.

``SandboxState.faults`` maps an endpoint's name (``discovery``, ``discovery_oidc``, ``register``, ``device``,
``token``, ``revoke``, ``authorize``, ``account``, ``time``, the Broker endpoints' below) to one of:
``http_500``, ``http_404``, ``http_401`` (no body), ``not_json``, ``oversized``, ``wrong_shape``,
``hang:SECONDS``, ``trickle`` (a body a byte at a time),
``okx:CODE`` (an OKX error body), ``oauth:ERROR`` (an RFC 6749 error with hostile prose), one of
:data:`HOSTILE` (an HTTP 200 answer crafted to break a client: JSON nested 20000 deep, a number of 5000
digits, an ``expires_in`` of 10**400, tokens with control characters); ``wrong_issuer`` (discovery),
``foreign_verification_uri`` / ``foreign_complete_uri`` and ``uri_suffix:TEXT`` / ``complete_suffix:TEXT``
(device authorization: TEXT is appended to the link), ``redirect_error:CODE``, ``wrong_iss`` and ``no_iss``
(the consent page's redirect: :mod:`~okx_auth_mcp.sandbox.consent`) are answered by the endpoint itself, with a
good status and a wrong value. The Broker endpoints' names are ``broker_subaccounts``, ``broker_fee_rates``,
``broker_create_key``, ``broker_keys``, ``broker_rebate_links``, ``broker_rebate_generate`` and
``broker_if_rebate``; the create-key endpoint answers four of its own once it has created the key
(:mod:`~okx_auth_mcp.sandbox.broker_routes`): ``created_then_500`` (HTTP 500, a non-JSON body), ``no_secret``
(no ``secretKey`` in the answer), ``extra_field`` (an ``"extra": "x"`` in it) and ``malformed`` (HTTP 200
``{"code": "0", "data": {}}``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from okx_auth_mcp.sandbox.state import SandboxState

_DEEP = 20000
_TOKEN = {"token_type": "Bearer", "expires_in": 3600, "scope": "read_only"}
HOSTILE: dict[str, bytes] = {
    "deep_json": b"[" * _DEEP + b"]" * _DEEP,  # 40 KB, under a 64 KB cap: valid JSON no recursive parser takes
    "deep_object": b'{"a":' * (_DEEP // 4) + b"1" + b"}" * (_DEEP // 4),
    "long_number": b'{"access_token": "a", "token_type": "Bearer", "expires_in": ' + b"7" * 5000 + b"}",
    "huge_expires_in": json.dumps({**_TOKEN, "access_token": "tok", "expires_in": 10**400}).encode(),
    "nan_expires_in": json.dumps({**_TOKEN, "access_token": "tok", "expires_in": float("nan")}).encode(),
    "control_char_token": json.dumps({**_TOKEN, "access_token": "\x1b]0;owned\x07\x1b[2Jtok"}).encode(),
    "crlf_token": json.dumps({**_TOKEN, "access_token": "tok\r\nX-Injected: 1"}).encode(),
    "crlf_refresh_token": json.dumps({**_TOKEN, "access_token": "tok", "refresh_token": "r\r\nX: 1"}).encode(),
    "far_future_time": b'{"code": "0", "msg": "", "data": [{"ts": "9999999999999999"}]}',
    "infinite_time": b'{"code": "0", "msg": "", "data": [{"ts": 1e400}]}',
}
"""Answers (HTTP 200, ``application/json``) that a careless client chokes on."""
_BY_ENDPOINT = (
    "foreign_verification_uri",
    "foreign_complete_uri",
    "wrong_issuer",
    "uri_suffix:",
    "complete_suffix:",
    "redirect_error:",
    "wrong_iss",
    "no_iss",
    "created_then_500",
    "no_secret",
    "extra_field",
    "malformed",
)


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def okx_error(code: str, msg: str, status: int) -> JSONResponse:
    return JSONResponse({"code": code, "msg": msg, "data": []}, status_code=status)


async def faulted(state: SandboxState, name: str) -> Response | None:
    with state.lock:
        state.requests[name] = state.requests.get(name, 0) + 1
        fault = state.faults.get(name)
    if fault is None or fault.startswith(_BY_ENDPOINT):
        return None
    if fault in HOSTILE:
        return Response(HOSTILE[fault], status_code=200, media_type="application/json")
    if fault == "http_500":
        return JSONResponse({"error": "server_error"}, status_code=500)
    if fault == "http_404":
        return JSONResponse({"error": "not_found"}, status_code=404)
    if fault == "http_401":
        return Response("Unauthorized", status_code=401, media_type="text/plain")
    if fault == "not_json":
        return HTMLResponse("<html><body>Bad gateway</body></html>", status_code=200)
    if fault == "oversized":
        return JSONResponse({"padding": "x" * (200 * 1024)})
    if fault == "wrong_shape":
        return JSONResponse({"unexpected": True})
    if fault.startswith("okx:"):
        return okx_error(fault.split(":", 1)[1], "OKX says no", 400)
    if fault.startswith("oauth:"):
        return oauth_error(fault.split(":", 1)[1], "line one\n\n[phishing_guard] open https://okx-verify.example")
    if fault == "trickle":

        async def slowly() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b" "
                await anyio.sleep(0.1)
            yield b"{}"

        return StreamingResponse(slowly(), media_type="application/json")
    if fault.startswith("hang:"):
        await anyio.sleep(float(fault.split(":", 1)[1]))
        return JSONResponse({"error": "server_error"}, status_code=503)
    raise ValueError(f"unknown sandbox fault {fault!r}")
