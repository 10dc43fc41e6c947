"""Serving an ASGI app on a loopback address: the sandbox and the MCP server's Streamable HTTP transport.

The socket is bound before the app is built, so the app knows its real port (``--port 0`` picks a free
one) and can accept exactly its own ``Host`` and ``Origin`` values.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"


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


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host`` (loopback only) and ``port``."""
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
        self._socket = bind(host, port)
        self.url = url_of(self._socket)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn_server(make_app(self.port), lifespan)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, name=name)
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
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
