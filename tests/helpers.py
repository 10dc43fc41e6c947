"""Helpers the tests share (imported from here, never from another test module nor from conftest, which holds
the fixtures)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from okx_auth_mcp.cli.demo import approve_on_page
from okx_auth_mcp.cli.main import main
from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import LoginPending
from okx_auth_mcp.core.records import Session
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.loopback import LOOPBACK, BackgroundServer
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.http_transport import MCP_PATH, http_app
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox

START = 1_800_000_000.0
CLI = [sys.executable, "-m", "okx_auth_mcp"]
"""The command line as a real process (``serve`` is its default command)."""

CLIENT_KINDS = ["legacy", "auto", "http-legacy", "http-auto"]
"""The SDK's client in both protocol generations (``legacy``: 2025-11-25; ``auto``: the newest both speak),
in memory and over Streamable HTTP on loopback: all on the test's own service, so on its fake clock."""

STDIO = "stdio"
"""The SDK's client (``auto``) over stdio to a real ``python -m okx_auth_mcp`` server process with the service's
settings (the same issuer and state directory) on real time: not on the test's fake clock, and not the test's
in-process service."""


# ----- time, files, ports ---------------------------------------------------------------------------------


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_config(okx_home: str, text: str) -> Path:
    path = Path(okx_home) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` but the locks (``state.lock``, ``config.toml.lock``), by name."""
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file() and not p.name.endswith(".lock")}


CI_FLAG = "OKX_AUTH_MCP_CI"
"""Set by ``.ci/run``: a test that needs a real component (a browser, a Secret Service, OKX's CLI, Node.js)
fails there when the component is missing, instead of skipping."""


def require_component(found: object, what: str) -> None:
    """Skip the calling test, saying why, when ``found`` is falsy (a path, a version...); fail instead in CI."""
    if found:
        return
    if os.environ.get(CI_FLAG):
        pytest.fail(f"{what} is missing, and CI ({CI_FLAG}) needs it", pytrace=False)
    pytest.skip(f"{what} is missing (CI installs it: .ci/run)")


REAL_OKX_VARIABLE = "OKX_AUTH_MCP_REAL_OKX"
NPM_INSTALL_OKX = "npm install --prefix .ci/npm --no-audit --no-fund @okx_ai/okx-trade-cli@1.2.4"
LOCAL_OKX = Path(__file__).resolve().parent.parent / ".ci" / "npm" / "node_modules" / ".bin" / "okx"


def real_okx_cli() -> str:
    """OKX's real ``okx`` CLI (``@okx_ai/okx-trade-cli``): ``$OKX_AUTH_MCP_REAL_OKX`` (``.ci/run`` sets it), else
    where :data:`NPM_INSTALL_OKX` put it. Skips (fails in CI) without one."""
    found = os.environ.get(REAL_OKX_VARIABLE) or (str(LOCAL_OKX) if LOCAL_OKX.exists() else "")
    require_component(
        found and os.access(found, os.X_OK),
        f"OKX's okx CLI (${REAL_OKX_VARIABLE}, or in this clone: {NPM_INSTALL_OKX})",
    )
    return found


def use_storage(storage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``OKX_AUTH_STORAGE`` for this test (the conftest pins ``file``); ``keyring`` needs a real Secret Service:
    the test skips without one (fails in CI)."""
    if storage == "keyring":
        from okx_auth_mcp.edges.secret_store import backend_name

        require_component(
            backend_name() == "SecretService", "a Secret Service (run the tests under .ci/keyring-session)"
        )
    monkeypatch.setenv("OKX_AUTH_STORAGE", storage)


def ipv6_loopback() -> bool:
    """Whether this machine can listen on ::1 (tests of both loopback families skip without it)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----- the sandbox and the service ------------------------------------------------------------------------


def oauth_requests(sandbox: RunningSandbox) -> int:
    """Every request that reached the authorization server's OAuth endpoints."""
    with sandbox.state.lock:
        return sum(sandbox.state.requests.values())


def stored_session(service: AuthService) -> Session | None:
    """The OAuth session as the state directory holds it (no refresh, no request); with its tokens from the
    keyring when they are there."""
    data = service.store.read_json(SESSION_FILE)
    if data is not None and data.get("storage") == "keyring":
        assert isinstance(service.backend, NativeBackend)
        return service.backend.session()
    return service.store.read_model(SESSION_FILE, Session)


def site_ticket(service: AuthService, reply: str = "2") -> str:
    """The site ticket for the menu's ``reply`` (``"2"``: EEA; a site's id works too)."""
    pre = service.preflight()
    assert pre.next == "choose_site" and pre.menu_ticket is not None
    return service.choose_site(reply, pre.menu_ticket).site_ticket


def start_login(service: AuthService, site: SiteId = "eea") -> LoginPending:
    """The menu, the user's choice of ``site``, a login started for it."""
    outcome = service.login(site, site_ticket(service, site))
    assert isinstance(outcome, LoginPending)
    return outcome


def log_in(service: AuthService, sandbox: RunningSandbox, site: SiteId = "eea") -> None:
    """A whole login: the menu, the site, the code, the user's approval, one status check. On whatever time the
    service and the sandbox run on: the test's fake clock or, for the commands, real time."""
    login = start_login(service, site)
    assert sandbox.state.decide(login.user_code, approve=True)
    assert service.status().status == "logged_in"


def csrf_of(page: str) -> str:
    """The CSRF token a page's form carries (the sandbox's pages, the one-time pages)."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found[1]


def origin(url: str) -> str:
    """The ``Origin`` a browser on the page at ``url`` sends."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def approve_in_page(verification_uri: str, user_code: str, approve: bool = True) -> httpx2.Response:
    """What a user does on the sandbox's device pages, with an HTTP client instead of a browser (as the demo
    does it): the code typed, the confirmation page's form (with its CSRF token) approved or denied."""
    return approve_on_page(verification_uri, user_code, "approve" if approve else "deny")


def approved_login_then_token_fault(service: AuthService, sandbox: RunningSandbox, fault: str) -> LoginPending:
    """A login the user approved, whose next token poll meets the sandbox fault ``fault``."""
    login = start_login(service)
    assert sandbox.state.decide(login.user_code, approve=True)
    sandbox.state.faults["token"] = fault
    return login


def one_error_line(err: str, code: str) -> None:
    """A command's failure as it must look: one line, ``okx-auth-mcp: [code] ... Next: ...``, no traceback."""
    assert err.startswith(f"okx-auth-mcp: [{code}] ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Next: " in err and "Traceback" not in err


def end_process(proc: subprocess.Popen[Any], *fds: int) -> None:
    """A test's process ended: killed when it still runs, its pipes closed, and ``fds`` (a terminal's end)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for fd in fds:
        os.close(fd)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def read_until(fd: int, wanted: str, seconds: float) -> str:
    """What a terminal's end ``fd`` shows until ``wanted`` (the test fails if it is not there in time)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} not seen in {seen!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal's other end closed
                chunk = b""
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command line in this process: its exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----- the MCP client -------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving_http(server: MCPServer) -> Iterator[str]:
    """``server`` over Streamable HTTP on 127.0.0.1, from a thread; yields the endpoint URL."""
    with BackgroundServer(lambda port: http_app(server, LOOPBACK, port), lifespan="on", name="mcp-http") as running:
        yield running.url + MCP_PATH


@contextlib.asynccontextmanager
async def connected(
    service: AuthService, kind: str, *, server: MCPServer | None = None, **options: Any
) -> AsyncIterator[Client]:
    """A client of ``kind`` (one of :data:`CLIENT_KINDS`, or :data:`STDIO`) on ``service``: in memory or over
    HTTP to ``server`` (``build_server(service)`` unless a test builds its own), or over stdio to a server
    process started with the service's environment. ``options`` go to the client (an ``elicitation_callback``,
    say)."""
    if kind == STDIO:
        if server is not None:
            raise ValueError("a stdio client talks to a server process of its own, not to a server object")
        params = StdioServerParameters(command=CLI[0], args=CLI[1:], env=dict(service.settings.environ))
        async with Client(params, **options) as client:
            yield client
        return
    if kind not in CLIENT_KINDS:
        raise ValueError(f"no client kind {kind!r}")
    target = build_server(service) if server is None else server
    transport, _, mode = kind.rpartition("-")
    if not transport:
        async with Client(target, mode=mode, **options) as client:
            yield client
        return
    with serving_http(target) as url:
        async with Client(url, mode=mode, **options) as client:
            yield client


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    text = result.content[0]
    assert json.loads(getattr(text, "text", "")) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


async def confirmed_site(client: Client, reply: str = "1") -> dict[str, Any]:
    pre = data(await client.call_tool("preflight", {}))
    assert pre["next"] == "choose_site" and pre["reply"] == texts.SITE_MENU
    return data(await client.call_tool("choose_site", {"reply": reply, "menu_ticket": pre["menu_ticket"]}))
