"""Serving an ASGI app on a loopback address: the sandbox and the MCP server's Streamable HTTP transport.

The sockets are bound before the app is built, so the app knows its real port (``--port 0`` picks a free
one) and can accept exactly its own ``Host`` and ``Origin`` values. ``localhost`` is both loopback families:
127.0.0.1 and ::1 on one port (127.0.0.1 alone where the machine has no IPv6 loopback).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

import uvicorn
from starlette.types import ASGIApp, Scope

from okx_auth_mcp.core.diagnosis.urls import bracketed

LOOPBACK = "127.0.0.1"
LOOPBACK6 = "::1"
_FREE_PORT_ATTEMPTS = 20
"""For ``localhost`` on port 0: how often to pick another port when 127.0.0.1's free one is taken on ::1."""


class NotLoopback(ValueError):
    """A host that is not a loopback address: this server holds the user's OKX session, so it never listens
    where another machine could reach it."""


def check_loopback(host: str) -> str:
    """``host`` when it names the loopback interface (``localhost``, ``127.0.0.0/8``, ``::1``), else raises."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise NotLoopback(f"{host!r} is not a loopback address; use 127.0.0.1, ::1 or localhost")


def listen(address: str, port: int) -> socket.socket:
    """A listening TCP socket on the IP ``address`` and ``port``, as ``socket.create_server`` makes one but for
    its protocol, named here (``IPPROTO_TCP``; create_server leaves it 0). asyncio sets ``TCP_NODELAY`` on an
    accepted connection only when the listening socket's ``proto`` says TCP: without it Nagle's algorithm holds
    the second write of an answer until the client's delayed ACK, about 40 ms, on every kept-open
    connection. The listening socket gets ``TCP_NODELAY`` too, which some systems (Linux) pass on."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name not in ("nt", "cygwin"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as create_server: restart on a port
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((address, port))
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


NO_IPV6_LOOPBACK = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT})
"""What binding ::1 fails with on a machine without an IPv6 loopback (unlike ``EADDRINUSE``: the port is taken)."""


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening TCP sockets on ``host`` (loopback only) and ``port``: one, or for ``localhost`` one on
    127.0.0.1 and one on ::1 with the same port (127.0.0.1 alone where ::1 is unavailable). ``port`` 0 picks
    a port free on both. A ``port`` that is taken on either family is an error (``EADDRINUSE``): a client
    resolving ``localhost`` to the other would reach whatever holds it."""
    check_loopback(host)
    if host != "localhost":
        return [listen(host, port)]
    for _ in range(_FREE_PORT_ATTEMPTS):
        v4 = listen(LOOPBACK, port)
        if not socket.has_ipv6:
            return [v4]
        bound = v4.getsockname()[1]
        try:
            v6 = listen(LOOPBACK6, bound)
        except OSError as exc:
            if exc.errno in NO_IPV6_LOOPBACK:
                return [v4]
            v4.close()
            if port or exc.errno != errno.EADDRINUSE:
                raise OSError(exc.errno, f"{exc.strerror} ([::1]:{bound})") from exc
            continue  # port 0: 127.0.0.1's free port is taken on ::1; pick another
        return [v4, v6]
    raise OSError(errno.EADDRINUSE, f"no port free on both 127.0.0.1 and ::1 in {_FREE_PORT_ATTEMPTS} attempts")


def names_host(scope: Scope, host: str) -> bool:
    """Whether a request names exactly ``host`` (``address:port``) as its one ``Host`` header: what a page of
    ours on loopback answers and nothing else (DNS rebinding)."""
    return [value for name, value in scope.get("headers", []) if name == b"host"] == [host.encode("ascii")]


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{bracketed(host)}:{port}"


def uvicorn_server(app: ASGIApp, lifespan: Literal["on", "off"]) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False))


class BackgroundServer:
    """``with BackgroundServer(make_app) as running: running.url``: the app, served from a daemon thread until
    the block ends. ``make_app`` gets the bound port."""

    def __init__(
        self,
        make_app: Callable[[int], ASGIApp],
        *,
        host: str = LOOPBACK,
        port: int = 0,
        lifespan: Literal["on", "off"] = "off",
        name: str = "okx-loopback",
    ) -> None:
        self._sockets = bind(host, port)
        self.url = url_of(self._sockets[0])
        self.urls = [url_of(sock) for sock in self._sockets]
        """Every address it listens on (for ``localhost``: 127.0.0.1 first, and ::1 where there is one)."""
        self.port: int = self._sockets[0].getsockname()[1]
        self._server = uvicorn_server(make_app(self.port), lifespan)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": self._sockets}, name=name)
        self._thread.daemon = True

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C reaches the main thread here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
