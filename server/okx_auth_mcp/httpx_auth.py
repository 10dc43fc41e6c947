"""The OAuth session for other programs: an ``httpx2.Auth`` that signs requests to OKX's API.

::

    from okx_auth_mcp.httpx_auth import OkxAuth

    with OkxAuth.from_env() as auth, httpx2.Client(base_url="https://www.okx.com", auth=auth) as client:
        client.get("/api/v5/account/config")

Each request gets ``Authorization: Bearer <access token>`` from the session ``okx-auth-mcp login`` (or the
MCP tools) created, refreshed under the state directory's lock when it is near expiry, so any number of
threads and processes share one session. A ``401`` answer gets one forced refresh and one retry: the
server may drop a token before its expiry (a refresh elsewhere, a clock ahead of ours).

It raises no errors of its own; the service's come through from the request call:
``NotLoggedIn`` (no session: run ``okx-auth-mcp login``), ``InvalidGrant`` (the server ended the session
at the refresh; it is deleted: log in again), another ``OAuthError`` (the refresh could not complete; the
session is kept), ``StoreError``, ``ConfigError``.

The header goes on every request the client sends: give it a client for OKX's API only.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from types import TracebackType

import anyio.to_thread
import httpx2

from okx_auth_mcp.service import AuthService, Settings

UNAUTHORIZED = 401


class OkxAuth(httpx2.Auth):
    """``Authorization: Bearer`` from the OAuth session; one refresh and one retry on a 401."""

    def __init__(self, service: AuthService) -> None:
        self._service = service
        self._owned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OkxAuth:
        """An ``OkxAuth`` over its own :class:`AuthService`, configured like the CLI (``close`` ends it)."""
        auth = cls(AuthService(Settings.from_env(environ)))
        auth._owned = True
        return auth

    def close(self) -> None:
        """Close the service, if this object created it."""
        if self._owned:
            self._service.close()

    def __enter__(self) -> OkxAuth:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    def _sign(request: httpx2.Request, access_token: str) -> None:
        request.headers["Authorization"] = f"Bearer {access_token}"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.read()  # a streamed body is kept, so that the retry after a 401 can send it again
        token = self._service.bearer_token()
        self._sign(request, token)
        response = yield request
        if response.status_code == UNAUTHORIZED:
            self._sign(request, self._service.force_refresh(token))
            yield request

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        # The service blocks (a file lock, a refresh over HTTP): in a worker thread, off the event loop.
        await request.aread()
        token = await anyio.to_thread.run_sync(self._service.bearer_token)
        self._sign(request, token)
        response = yield request
        if response.status_code == UNAUTHORIZED:
            self._sign(request, await anyio.to_thread.run_sync(self._service.force_refresh, token))
            yield request
