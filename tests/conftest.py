"""Every test runs with HOME, OKX_HOME and the state directory under its own tmp_path, and no OKX or proxy
variables from the machine (but the harness's own, ``HARNESS_VARIABLES``), so no test touches a real ~/.okx or
the internet."""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from okx_auth_mcp.sandbox.state import SandboxConfig
from tests.brokers import broker, okx_home  # noqa: F401 (fixtures for every test)
from tests.browser import CHROMIUM_VARIABLE, SHOTS_VARIABLE
from tests.helpers import CI_FLAG, CLIENT_KINDS, REAL_OKX_VARIABLE, STDIO, FakeClock, connected, use_storage

HARNESS_VARIABLES = (CI_FLAG, REAL_OKX_VARIABLE, CHROMIUM_VARIABLE, SHOTS_VARIABLE)
"""What ``.ci/run`` tells the tests (in CI; where OKX's real CLI is; where Chromium is), and where a person wants
the browser tests' screenshots, kept when every other OKX_ variable goes."""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name in HARNESS_VARIABLES:
            continue
        if name.startswith("OKX_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)
    values = {
        "HOME": str(tmp_path / "home"),
        "OKX_HOME": str(tmp_path / "okx-home"),
        "OKX_AUTH_MCP_STATE_DIR": str(tmp_path / "state"),
        "NO_PROXY": "127.0.0.1,localhost",
        "OKX_AUTH_BACKEND": "native",  # an okx CLI installed on this machine must not change what is tested
        "OKX_AUTH_STORAGE": "file",  # a keyring on this machine neither: the keyring tests ask for it
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[RunningSandbox]:
    with RunningSandbox(SandboxConfig()) as running:
        running.state.clock = clock
        yield running


@pytest.fixture
def token_storage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``OKX_AUTH_STORAGE`` for the test's settings: ``file`` unless the test asks for others with
    ``@pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)`` (keyring: a real Secret
    Service, or the test skips; in CI it fails)."""
    storage = str(getattr(request, "param", "file"))
    use_storage(storage, monkeypatch)
    return storage


@pytest.fixture
def settings(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, token_storage: str) -> Settings:
    monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
    monkeypatch.setenv("OKX_AUTH_HTTP_TIMEOUT", "2")
    return Settings.from_env()


@pytest.fixture
def service(settings: Settings, clock: FakeClock) -> Iterator[AuthService]:
    svc = AuthService(settings, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def me(live: RunningSandbox, settings: Settings) -> Iterator[AuthService]:
    """A service on the commands' state directory and real time, for setting up and checking what they do."""
    svc = AuthService(settings)
    yield svc
    svc.close()


@pytest.fixture
def live(sandbox: RunningSandbox, settings: Settings) -> RunningSandbox:
    """The sandbox on real time, as the commands run on it, with a one-second polling interval."""
    sandbox.state.clock = time.time
    sandbox.state.config.interval = 1
    return sandbox


@pytest.fixture(params=CLIENT_KINDS)
async def client(request: pytest.FixtureRequest, service: AuthService) -> AsyncIterator[Client]:
    """The SDK's client on ``service``'s server, in each of :data:`~tests.helpers.CLIENT_KINDS`."""
    async with connected(service, str(request.param)) as joined:
        yield joined


@pytest.fixture(params=[*CLIENT_KINDS, STDIO])
async def any_client(request: pytest.FixtureRequest, service: AuthService) -> AsyncIterator[Client]:
    """The ``client`` kinds and a real server process over stdio (:data:`~tests.helpers.STDIO`), for tests that
    neither advance the fake clock nor reach into the in-process service (they may read its state directory,
    which the process shares)."""
    async with connected(service, str(request.param)) as joined:
        yield joined


def _literal(host: object) -> bool:
    if host is None or host in ("localhost", b"localhost"):
        return True
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host))
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_system_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the internet: any lookup of a name (not an IP literal, not localhost) through the
    system resolver fails the test. (Subprocesses are not covered; they are given loopback URLs.)"""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _literal(host):
            raise AssertionError(f"a test resolved {host!r} through the system resolver")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
