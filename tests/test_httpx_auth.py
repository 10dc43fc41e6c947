"""OkxAuth with real httpx2 clients, sync and async: against the sandbox's Bearer-protected API, and against
a loopback server that refuses every token (the retry happens once, with the body intact)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import httpx2
import pytest

from okx_auth_mcp.core.oauth_errors import InvalidGrant
from okx_auth_mcp.httpx_auth import NotOkxApi, OkxAuth
from okx_auth_mcp.login.errors import NotLoggedIn
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, stored_session

pytestmark = pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)
"""Every test here with the tokens in the state file and in the OS keyring."""


def account_url(sandbox: RunningSandbox) -> str:
    return f"{sandbox.url}/api/v5/account/config"


def stored_access_token(service: AuthService) -> str:
    return service.bearer_token()


def get_account(auth: OkxAuth, sandbox: RunningSandbox, mode: str) -> httpx2.Response:
    """``GET /api/v5/account/config`` through a ``mode`` ("sync" or "async") httpx2 client signed by ``auth``."""
    if mode == "sync":
        with httpx2.Client(auth=auth) as client:
            return client.get(account_url(sandbox))

    async def call() -> httpx2.Response:
        async with httpx2.AsyncClient(auth=auth) as client:
            return await client.get(account_url(sandbox))

    return anyio.run(call)


class Refusing(ThreadingHTTPServer):
    """Answers 401 to everything, and keeps what each request carried."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RefusingHandler)
        self.seen: list[tuple[str, bytes]] = []

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/api/v5/trade/order"


class _RefusingHandler(BaseHTTPRequestHandler):
    server: Refusing

    def do_POST(self) -> None:
        body = self._chunked() if self.headers.get("Transfer-Encoding") == "chunked" else self._sized()
        self.server.seen.append((self.headers.get("Authorization", ""), body))
        payload = json.dumps({"code": "53000", "msg": "Invalid token", "data": []}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _sized(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _chunked(self) -> bytes:
        body = b""
        while size := int(self.rfile.readline().strip(), 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return body

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def refusing() -> Iterator[Refusing]:
    server = Refusing()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_sync_client_calls_the_api_with_the_session(service: AuthService, sandbox: RunningSandbox) -> None:
    log_in(service, sandbox)
    with httpx2.Client(auth=OkxAuth(service)) as client:
        answer = client.get(account_url(sandbox))
    assert (answer.status_code, answer.json()["code"]) == (200, "0")
    assert answer.request.headers["Authorization"] == f"Bearer {stored_access_token(service)}"
    assert answer.history == []


@pytest.mark.anyio
async def test_an_async_client_calls_the_api_with_the_session(service: AuthService, sandbox: RunningSandbox) -> None:
    log_in(service, sandbox)
    async with httpx2.AsyncClient(auth=OkxAuth(service)) as client:
        answer = await client.get(account_url(sandbox))
    assert (answer.status_code, answer.json()["code"]) == (200, "0")
    assert answer.history == []


def test_a_token_near_expiry_is_refreshed_before_the_request(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    old = stored_access_token(service)
    refreshes = sandbox.state.count("token")
    clock.advance(3600 - 30)
    with httpx2.Client(auth=OkxAuth(service)) as client:
        answer = client.get(account_url(sandbox))
    assert (answer.status_code, answer.json()["code"], answer.history) == (200, "0", [])
    assert sandbox.state.count("token") == refreshes + 1
    assert stored_access_token(service) != old


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_token_the_server_dropped_early_is_refreshed_once_and_the_request_retried(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, mode: str
) -> None:
    log_in(service, sandbox)
    old = stored_access_token(service)
    sandbox.state.access_tokens[old].expires_at = clock.now  # the server's clock says it is over; ours not
    refreshes = sandbox.state.count("token")
    answer = get_account(OkxAuth(service), sandbox, mode)
    assert [r.status_code for r in answer.history] == [401]
    assert answer.history[0].json()["code"] == "53002"
    assert (answer.status_code, answer.json()["code"]) == (200, "0")
    new = stored_access_token(service)
    assert new != old and answer.request.headers["Authorization"] == f"Bearer {new}"
    assert sandbox.state.count("token") == refreshes + 1
    assert sandbox.state.reuse_detected == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_request_and_its_retry_after_a_401_carry_the_device_id(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, mode: str
) -> None:
    """OKX-Connect wants the device id (``TERMID``) on every API call a client device makes with a token."""
    log_in(service, sandbox)
    sandbox.state.access_tokens[stored_access_token(service)].expires_at = clock.now  # one 401, one retry
    answer = get_account(OkxAuth(service), sandbox, mode)
    assert [r.status_code for r in answer.history] == [401] and answer.status_code == 200
    device = service.store.device_id()
    assert str(uuid.UUID(device)) == device
    assert sandbox.state.termids == [device, device]
    assert answer.request.headers["TERMID"] == answer.history[0].request.headers["TERMID"] == device


@pytest.fixture
def refusing_api(refusing: Refusing, settings: Settings, clock: FakeClock) -> Iterator[AuthService]:
    """The same session, with the refusing server as its API (a session is bound to its issuer, so the issuer
    stays the sandbox; only where the API lives is moved)."""

    class RefusingApi(AuthService):
        def api_base_url(self) -> str:
            return refusing.origin

    api = RefusingApi(settings, clock=clock)
    yield api
    api.close()


def test_a_server_that_keeps_refusing_gets_one_retry_with_the_same_body(
    service: AuthService, sandbox: RunningSandbox, refusing: Refusing, refusing_api: AuthService
) -> None:
    log_in(service, sandbox)
    old = stored_access_token(service)
    refreshes = sandbox.state.count("token")

    def streamed() -> Iterator[bytes]:  # a body that can be read only once
        yield b'{"instId":'
        yield b'"BTC-USDT"}'

    with httpx2.Client(auth=OkxAuth(refusing_api)) as client:
        answer = client.post(refusing.url, content=streamed())
    assert answer.status_code == 401 and len(answer.history) == 1
    new = stored_access_token(service)
    assert refusing.seen == [(f"Bearer {old}", b'{"instId":"BTC-USDT"}'), (f"Bearer {new}", b'{"instId":"BTC-USDT"}')]
    assert sandbox.state.count("token") == refreshes + 1


@pytest.mark.anyio
async def test_an_async_retry_also_happens_once(
    service: AuthService, sandbox: RunningSandbox, refusing: Refusing, refusing_api: AuthService
) -> None:
    log_in(service, sandbox)
    async with httpx2.AsyncClient(auth=OkxAuth(refusing_api)) as client:
        answer = await client.post(refusing.url, content=b"{}")
    assert answer.status_code == 401
    assert len(refusing.seen) == 2 and refusing.seen[0][0] != refusing.seen[1][0]


def test_two_callers_refused_with_the_same_token_refresh_once(service: AuthService, sandbox: RunningSandbox) -> None:
    log_in(service, sandbox)
    old = stored_access_token(service)
    refreshes = sandbox.state.count("token")
    first = service.force_refresh(old)
    assert service.force_refresh(old) == first  # the second finds the pair renewed already
    assert sandbox.state.count("token") == refreshes + 1
    assert sandbox.state.reuse_detected == 0


def test_without_a_session_nothing_is_sent(refusing: Refusing, refusing_api: AuthService) -> None:
    with httpx2.Client(auth=OkxAuth(refusing_api)) as client, pytest.raises(NotLoggedIn):
        client.post(refusing.url, content=b"{}")
    assert refusing.seen == []


def test_the_token_goes_to_the_sessions_api_only(
    service: AuthService, sandbox: RunningSandbox, refusing: Refusing
) -> None:
    log_in(service, sandbox)
    auth = OkxAuth(service)
    assert auth.base_url == sandbox.url
    port = httpx2.URL(sandbox.url).port
    elsewhere = [refusing.url, f"http://localhost:{port}/api/v5/account/config", f"https://127.0.0.1:{port}/"]
    with httpx2.Client(auth=auth) as client:
        for url in elsewhere:
            with pytest.raises(NotOkxApi, match=re.escape(sandbox.url)):
                client.post(url, content=b"{}")
        assert client.get(account_url(sandbox)).json()["code"] == "0"
    assert refusing.seen == []


def test_one_refusal_does_not_end_a_session_without_a_refresh_token(
    service: AuthService, sandbox: RunningSandbox, refusing: Refusing, refusing_api: AuthService
) -> None:
    log_in(service, sandbox)
    session = stored_session(service)
    assert session is not None and isinstance(service.backend, NativeBackend)
    service.backend.records.write_session(session.model_copy(update={"refresh_token": None}))
    with httpx2.Client(auth=OkxAuth(refusing_api)) as client:
        answer = client.post(refusing.url, content=b"{}")
    assert answer.status_code == 401 and answer.history == [] and len(refusing.seen) == 1
    assert service.auth_state().status == "logged_in"


def test_a_session_the_server_ended_raises_and_is_forgotten(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    for token in sandbox.state.refresh_tokens.values():
        token.grant.revoked = True  # the server ends the grant: the access token stops working too
    with httpx2.Client(auth=OkxAuth(service)) as client, pytest.raises(InvalidGrant):
        client.get(account_url(sandbox))
    assert service.auth_state().status == "not_logged_in"


def test_from_env_uses_the_session_the_environment_points_at(
    service: AuthService, sandbox: RunningSandbox, settings: Settings
) -> None:
    log_in(service, sandbox)
    with OkxAuth.from_env() as auth, httpx2.Client(auth=auth) as client:
        answer = client.get(account_url(sandbox))
    assert answer.json()["code"] == "0"
