"""The loopback listener (``edges.loopback``) that the MCP server's HTTP transport and the sandbox share: every
accepted connection has ``TCP_NODELAY`` (without it a kept-open connection waits ~40 ms per answer for the
client's delayed ACK), and ``localhost`` is both loopback families on one port, or 127.0.0.1 alone where the
machine has no IPv6 loopback. Real sockets, real servers, real connections; no timings (the bench measures
speed)."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator

import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from okx_auth_mcp.edges import loopback
from okx_auth_mcp.edges.loopback import LOOPBACK, BackgroundServer, bind
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import ipv6_loopback, serving_http

LOOPBACK6 = "::1"
NO_IPV6 = ["EADDRNOTAVAIL", "EAFNOSUPPORT"]
"""What binding ::1 fails with where IPv6 is on without ::1, or off."""


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """The smallest app: answers every request with ``hello``, in two writes (head, then body), as the MCP
    transport's answers are written."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


def exchange(address: str, port: int, path: str = "/") -> socket.socket:
    """A client connection that has sent one request and read the head of its answer, and stays open: the
    server has accepted it by then."""
    client = socket.create_connection((address, port), timeout=5)
    host = f"[{address}]" if ":" in address else address
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(4096)
        assert chunk, "the server closed the connection without an answer"
        head += chunk
    assert head.startswith(b"HTTP/1.1 ")
    return client


def open_fds() -> list[int]:
    for listing in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return sorted(int(name) for name in os.listdir(listing))
    pytest.skip("no /proc/self/fd or /dev/fd to find the server's end of a connection")


@contextlib.contextmanager
def server_end(client: socket.socket) -> Iterator[socket.socket]:
    """The server's end of ``client``'s connection: the servers run in this process, so it is one of this
    process's descriptors, the one whose local and peer addresses are the client's the other way round. A
    duplicate of it, closed afterwards (the server's own descriptor is left alone)."""
    wanted = (client.getpeername(), client.getsockname())
    for fd in open_fds():
        try:
            candidate = socket.fromfd(fd, client.family, socket.SOCK_STREAM)
        except OSError:
            continue  # closed meanwhile
        with candidate:
            try:
                found = (candidate.getsockname(), candidate.getpeername()) == wanted
            except OSError:
                found = False  # not a socket, or not a connected one
            if found:
                yield candidate
                return
    raise AssertionError(f"no descriptor of this process is the server's end of {wanted}")


def assert_nodelay(address: str, port: int, path: str = "/") -> None:
    with exchange(address, port, path) as client, server_end(client) as accepted:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize("host", [LOOPBACK, pytest.param(LOOPBACK6, marks=needs_ipv6)])
def test_an_accepted_connection_has_tcp_nodelay(host: str) -> None:
    with BackgroundServer(lambda _port: hello, host=host) as running:
        assert_nodelay(host, running.port)


def test_the_mcp_http_transport_and_the_sandbox_accept_with_tcp_nodelay(service: AuthService) -> None:
    with serving_http(build_server(service)) as url:
        port = httpx2.URL(url).port
        assert port is not None
        assert_nodelay(LOOPBACK, port, "/mcp")
    with RunningSandbox() as sandbox:
        assert_nodelay(LOOPBACK, sandbox.port)


@needs_ipv6
def test_localhost_is_both_loopback_families_on_one_port() -> None:
    sockets = bind("localhost", 0)
    try:
        assert [s.family for s in sockets] == [socket.AF_INET, socket.AF_INET6]
        assert [s.getsockname()[0] for s in sockets] == [LOOPBACK, LOOPBACK6]
        assert len({s.getsockname()[1] for s in sockets}) == 1
        assert all(s.proto == socket.IPPROTO_TCP for s in sockets)
    finally:
        for s in sockets:
            s.close()


@needs_ipv6
def test_a_server_on_localhost_answers_on_127_0_0_1_and_on_ipv6() -> None:
    with BackgroundServer(lambda _port: hello, host="localhost") as running:
        assert running.urls == [f"http://127.0.0.1:{running.port}", f"http://[::1]:{running.port}"]
        for url in running.urls:
            answer = httpx2.get(url, timeout=5)
            assert (answer.status_code, answer.text) == (200, "hello")
        assert_nodelay(LOOPBACK6, running.port)


@pytest.mark.parametrize("missing", ["no has_ipv6", *NO_IPV6])
def test_localhost_without_an_ipv6_loopback_is_127_0_0_1_alone(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_listen = loopback.listen

    def listen(address: str, port: int) -> socket.socket:
        if address == LOOPBACK6:
            code = getattr(errno, missing)
            raise OSError(code, os.strerror(code))
        return real_listen(address, port)

    if missing == "no has_ipv6":
        monkeypatch.setattr(socket, "has_ipv6", False)
    else:
        monkeypatch.setattr(loopback, "listen", listen)
    with BackgroundServer(lambda _port: hello, host="localhost") as running:
        assert running.urls == [f"http://127.0.0.1:{running.port}"]
        assert httpx2.get(running.url, timeout=5).text == "hello"


@needs_ipv6
def test_localhost_on_a_port_taken_on_ipv6_is_refused_and_holds_nothing() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK6, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as refused:
            bind("localhost", port)
        assert refused.value.errno == errno.EADDRINUSE and "[::1]" in str(refused.value)
        bind(LOOPBACK, port)[0].close()  # 127.0.0.1 was let go


@needs_ipv6
def test_localhost_on_port_0_picks_another_port_when_ipv6_has_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    real_listen = loopback.listen
    refused: list[int] = []

    def listen(address: str, port: int) -> socket.socket:
        if address == LOOPBACK6 and not refused:
            refused.append(port)
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        return real_listen(address, port)

    monkeypatch.setattr(loopback, "listen", listen)
    sockets = bind("localhost", 0)
    try:
        assert [s.getsockname()[0] for s in sockets] == [LOOPBACK, LOOPBACK6] and refused
        assert sockets[0].getsockname()[1] == sockets[1].getsockname()[1]
    finally:
        for s in sockets:
            s.close()
