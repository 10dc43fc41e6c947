"""``serve --http``: Streamable HTTP on loopback, Host and Origin checked, and a gate that holds across
requests and across two server processes that share a state directory. (The tool tests of
test_mcp_tools also run over HTTP: its ``client`` fixture has http-legacy and http-auto variants.)"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO

import httpx2
import pytest
from mcp.client import Client
from mcp.client.context import ClientRequestContext
from mcp.types import ElicitRequest, ElicitRequestParams, ElicitResult, ErrorData, InputRequiredResult

from okx_auth_mcp.core import texts
from okx_auth_mcp.edges.loopback import NotLoopback, check_loopback
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.http_transport import transport_security
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import data, ipv6_loopback, serving_http

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post_initialize(url: str, headers: dict[str, str]) -> httpx2.Response:
    with httpx2.Client(timeout=5) as http:
        return http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})


def test_only_its_own_host_and_origin_are_served(service: AuthService) -> None:
    with serving_http(build_server(service)) as url:
        port = httpx2.URL(url).port
        assert port is not None
        assert post_initialize(url, {}).status_code == 200
        assert post_initialize(url, {"Host": f"localhost:{port}"}).status_code == 200
        assert post_initialize(url, {"Origin": f"http://127.0.0.1:{port}"}).status_code == 200
        # DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1.
        assert post_initialize(url, {"Host": f"evil.example:{port}"}).status_code == 421
        assert post_initialize(url, {"Host": "127.0.0.1:1"}).status_code == 421
        assert post_initialize(url, {"Origin": "http://evil.example"}).status_code == 403
        # Another local web page (another port) is another origin.
        assert post_initialize(url, {"Origin": f"http://localhost:{port + 1}"}).status_code == 403


def test_the_security_settings_name_exactly_this_server() -> None:
    v4 = transport_security("127.0.0.1", 8765)
    assert v4.enable_dns_rebinding_protection
    assert v4.allowed_hosts == ["127.0.0.1:8765", "localhost:8765"]
    assert v4.allowed_origins == ["http://127.0.0.1:8765", "http://localhost:8765"]
    assert transport_security("::1", 9).allowed_hosts == ["[::1]:9", "localhost:9"]
    # localhost: both loopback families on one port.
    both = transport_security(["127.0.0.1", "::1"], 9)
    assert both.allowed_hosts == ["127.0.0.1:9", "[::1]:9", "localhost:9"]
    assert both.allowed_origins == ["http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert check_loopback(host) == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", "", "127.0.0.1.nip.io"])
def test_other_hosts_are_refused(host: str) -> None:
    with pytest.raises(NotLoopback, match="not a loopback address"):
        check_loopback(host)


def test_serve_refuses_a_non_loopback_host() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "okx_auth_mcp", "serve", "--http", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr and "Traceback" not in done.stderr


def _endpoint(stderr: IO[str]) -> str:
    for line in stderr:
        found = re.search(r"at (http://127\.0\.0\.1:\d+/mcp)", line)
        if found:
            return found.group(1)
    raise AssertionError("the server never announced its endpoint")


@pytest.fixture
def two_servers(isolated_env: dict[str, str]) -> Iterator[tuple[RunningSandbox, str, str]]:
    """Two ``serve --http`` processes on one state directory, against one sandbox."""
    with ExitStack() as stack:
        sandbox = stack.enter_context(RunningSandbox())
        env = {**os.environ, "OKX_OAUTH_ISSUER": sandbox.url}
        urls = []
        for _ in range(2):
            process = subprocess.Popen(
                [sys.executable, "-m", "okx_auth_mcp", "serve", "--http", "--port", "0"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert process.stderr is not None
            stack.callback(process.stderr.close)
            stack.callback(process.wait, timeout=15)
            stack.callback(process.terminate)
            urls.append(_endpoint(process.stderr))
        yield sandbox, urls[0], urls[1]


async def test_the_gate_holds_across_two_server_processes(two_servers: tuple[RunningSandbox, str, str]) -> None:
    sandbox, first, second = two_servers
    async with Client(first, mode="legacy") as a, Client(second, mode="auto") as b:
        pre = data(await a.call_tool("preflight", {}))
        # The menu ticket from one process is good at the other; a site for it is still the user's choice.
        choice = data(await b.call_tool("choose_site", {"reply": "2", "menu_ticket": pre["menu_ticket"]}))
        refused = await a.call_tool(
            "auth_login_manual", {"site": "global", "site_ticket": choice["site_ticket"], "lang": "en"}
        )
        assert refused.is_error and "[site_mismatch]" in str(refused.content)
        login = data(
            await a.call_tool("auth_login_manual", {"site": "eea", "site_ticket": choice["site_ticket"], "lang": "en"})
        )
        # The other process sees the same pending login, and starts no second one.
        again = data(await b.call_tool("preflight", {}))
        assert (again["next"], again["userCode"]) == ("pending", login["userCode"])
        assert sandbox.state.count("device") == 1
        assert sandbox.state.decide(login["userCode"], approve=True)
        status = data(await b.call_tool("auth_status", {"lang": "en"}))
        assert (status["status"], status["site"]) == ("logged_in", "eea")
        assert data(await a.call_tool("preflight", {}))["next"] == "logged_in"


async def _never_asked(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
    raise AssertionError("the retry carries the answer: nobody should be asked again")


async def test_a_site_question_asked_by_one_process_is_answered_at_the_other(
    two_servers: tuple[RunningSandbox, str, str],
) -> None:
    # 2026-07-28: the question comes back from A as an input-required result with sealed request state; the
    # retry with the user's answer reaches B (another worker, or A restarted) and confirms the site there.
    _, first, second = two_servers
    async with (
        Client(first, mode="auto", elicitation_callback=_never_asked) as a,
        Client(second, mode="auto", elicitation_callback=_never_asked) as b,
    ):
        ticket = data(await a.call_tool("preflight", {}))["menu_ticket"]
        asked = await a.session.call_tool("choose_site", {"menu_ticket": ticket}, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult) and asked.input_requests and asked.request_state
        ((key, question),) = asked.input_requests.items()
        assert isinstance(question, ElicitRequest) and question.params.message == texts.SITE_QUESTION
        answer = ElicitResult(action="accept", content={"site": "us"})
        done = await b.call_tool(
            "choose_site", {"menu_ticket": ticket}, input_responses={key: answer}, request_state=asked.request_state
        )
        assert data(done)["site"] == "us"


@dataclass
class LocalhostServer:
    stderr: IO[str]
    """What the server writes, as it writes it."""
    rest: str = ""
    """What it wrote after the test's last read, until it stopped."""


@contextlib.contextmanager
def localhost_server() -> Iterator[LocalhostServer]:
    """``okx-auth-mcp serve --http --host localhost --port 0`` as a real process, stopped at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "okx_auth_mcp", "serve", "--http", "--host", "localhost", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    server = LocalhostServer(process.stderr)
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)
        server.rest = process.stderr.read()
        process.stderr.close()


async def test_serve_on_localhost_answers_at_the_url_it_announces(isolated_env: dict[str, str]) -> None:
    with localhost_server() as server:
        url = _endpoint(server.stderr)
        answer = post_initialize(url, {})
        assert answer.status_code == 200
        port = httpx2.URL(url).port
        assert post_initialize(url, {"Host": f"localhost:{port}"}).status_code == 200
        assert post_initialize(url, {"Host": f"evil.example:{port}"}).status_code == 421
    session_id = answer.headers["mcp-session-id"]
    assert session_id and session_id not in server.rest  # it would let a reader of the log act in the session


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_serve_on_localhost_answers_on_127_0_0_1_and_on_ipv6(isolated_env: dict[str, str]) -> None:
    with localhost_server() as server:
        announced = next(line for line in server.stderr if "Streamable HTTP at" in line)
        found = re.search(r" at http://127\.0\.0\.1:(\d+)/mcp and http://\[::1\]:(\d+)/mcp ", announced)
        assert found and found.group(1) == found.group(2), announced
        port = int(found.group(1))
        own = [f"127.0.0.1:{port}", f"[::1]:{port}", f"localhost:{port}"]
        for url in (f"http://127.0.0.1:{port}/mcp", f"http://[::1]:{port}/mcp"):
            assert post_initialize(url, {}).status_code == 200
            for host in own:  # whichever address a client resolved localhost to, and whichever it sends
                assert post_initialize(url, {"Host": host}).status_code == 200
                assert post_initialize(url, {"Host": host, "Origin": f"http://{host}"}).status_code == 200
            assert post_initialize(url, {"Host": f"evil.example:{port}"}).status_code == 421
            assert post_initialize(url, {"Host": f"[::1]:{port + 1}"}).status_code == 421
            assert post_initialize(url, {"Origin": f"http://[::1]:{port + 1}"}).status_code == 403


@pytest.mark.parametrize(
    ("host", "taken"),
    [
        ("127.0.0.1", "127.0.0.1"),
        pytest.param("localhost", "::1", marks=pytest.mark.skipif(not ipv6_loopback(), reason="no ::1")),
    ],
)
def test_serve_on_a_taken_port_says_so_in_one_line(host: str, taken: str) -> None:
    family = socket.AF_INET6 if ":" in taken else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.bind((taken, 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "okx_auth_mcp", "serve", "--http", "--host", host, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
    assert (
        done.stderr.startswith(f"okx-auth-mcp: cannot listen on {host} port {port}: ") and done.stderr.count("\n") == 1
    )
    assert "Traceback" not in done.stderr
