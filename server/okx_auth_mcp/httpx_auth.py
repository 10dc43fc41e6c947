"""The OAuth session for other programs: an ``httpx2.Auth`` that signs requests to OKX's API.

::

    from okx_auth_mcp.httpx_auth import OkxAuth

    with OkxAuth.from_env() as auth, httpx2.Client(base_url=auth.base_url, auth=auth) as client:
        client.get("/api/v5/account/config")

Each request gets ``Authorization: Bearer <access token>`` from the session ``okx-auth-mcp login`` (or the
MCP tools) created, refreshed under the state directory's lock when it is near expiry, so any number of
threads and processes share one session; and ``TERMID``, this installation's device id, which OKX-Connect
wants on every API call a client device makes with an OAuth token. Every request reads the session again,
since a refresh anywhere revokes the old access token at once; a refresh in flight has marked the stored token
expired before it was sent, so a request meanwhile waits for it under the lock and gets its token
(tests/test_rotated_tokens.py). A ``401`` answer gets one forced refresh and one retry: the server may drop a
token before its expiry (a refresh elsewhere, a clock ahead of ours).

The token goes only to the session's own API: the site's REST base URL (``auth.base_url``; the custom
issuer's origin when ``OKX_OAUTH_ISSUER`` is set). A request anywhere else raises :class:`NotOkxApi` before
any token is read. A session without a refresh token is not ended by one ``401``: the answer comes back as
it is.

Errors: ``NotOkxApi``; and the service's, from the request call: ``NotLoggedIn`` (no session: run
``okx-auth-mcp login``), ``InvalidGrant`` (the server ended the session at the refresh; it is deleted: log
in again), another ``OAuthError`` (the refresh could not complete; the session is kept), ``StoreError``,
``ConfigError``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from types import TracebackType

import anyio.to_thread
import httpx2

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings

UNAUTHORIZED = 401


class NotOkxApi(ValueError):
    """A request to somewhere other than the session's own API: it never gets the token."""


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

    @property
    def base_url(self) -> str:
        """The logged-in site's REST base URL: give it to the client as ``base_url``."""
        return self._service.api_base_url()

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

    def _sign(self, request: httpx2.Request) -> str:
        """Sign ``request`` with the session's token and the device id; the token it sent."""
        api = httpx2.URL(self._service.api_base_url())
        url = request.url
        if (url.scheme, url.host, url.port) != (api.scheme, api.host, api.port):
            raise NotOkxApi(f"the OKX session's token goes to {api.scheme}://{api.netloc.decode()} only")
        token = self._service.bearer_token()
        termid = self._service.termid()
        if termid is not None:
            request.headers["TERMID"] = termid
        request.headers["Authorization"] = f"Bearer {token}"
        return token

    @staticmethod
    def _resign(request: httpx2.Request, access_token: str) -> None:
        """The retry after a 401: the renewed token; ``TERMID`` stays as :meth:`_sign` set it."""
        request.headers["Authorization"] = f"Bearer {access_token}"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.read()  # a streamed body is kept, so that the retry after a 401 can send it again
        token = self._sign(request)
        response = yield request
        if response.status_code == UNAUTHORIZED and (renewed := self._service.force_refresh(token)) is not None:
            self._resign(request, renewed)
            yield request

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        # The service blocks (a file lock, a refresh over HTTP): in a worker thread, off the event loop.
        await request.aread()
        token = await anyio.to_thread.run_sync(self._sign, request)
        response = yield request
        if response.status_code != UNAUTHORIZED:
            return
        renewed = await anyio.to_thread.run_sync(self._service.force_refresh, token)
        if renewed is not None:
            self._resign(request, renewed)
            yield request
