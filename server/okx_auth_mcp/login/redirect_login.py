"""The redirect logins (``OKX_OAUTH_GRANT=pkce|code``): the authorization link, and the loopback listener in this
process that takes the browser's answer, checks it and exchanges the code. The native backend starts them
through the same gate as a device login (``NativeBackend.begin_login``).

- :meth:`RedirectLogins.start` (the caller holds the state lock): a ``state`` and a PKCE verifier from
  ``secrets``, kept in this process's memory only; the listener bound on ``OKX_OAUTH_REDIRECT_URI`` (any free
  port on 127.0.0.1 by default); the pending record, with the link, no secret, and this process as its
  ``listener`` (a login whose listener died is ``interrupted``, never pending forever).
- The listener answers only its own ``Host`` and path. A request that is not this login's answer (another
  ``state``, another ``iss``: :func:`~okx_auth_mcp.core.authorization_code.callback_outcome`) changes nothing.
  The first answer that is ends the login: the code exchanged with the verifier (and the client secret for
  ``code``) and the session stored, or the pending record ended with the reason; then the listener stops.
  Under the lock, a pending record that is no longer this login's (a logout, another login) wins: nothing is
  stored for it. The browser's landing page (``core.redirect_landing``) shows no code and no token.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from okx_auth_mcp.core.authorization_code import (
    AUTHORIZATION_TTL_SECONDS,
    Authorized,
    ClientAuth,
    Ended,
    authorization_url,
    callback_outcome,
    client_auth,
    verifier_from,
)
from okx_auth_mcp.core.oauth_errors import BadResponse, OAuthError
from okx_auth_mcp.core.oauth_wire import ServerMetadata, TrustPolicy
from okx_auth_mcp.core.records import Endpoints, Listener, PendingLogin
from okx_auth_mcp.core.redirect_landing import CSP, Landing, landing_page
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.loopback import BackgroundServer
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.processes import this_process
from okx_auth_mcp.edges.state_store import StateStore
from okx_auth_mcp.login.native_records import NativeRecords, session_from
from okx_auth_mcp.login.settings import Settings

log = logging.getLogger(__name__)

STOP_DELAY_SECONDS = 2.0
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass
class _Active:
    """One redirect login this process listens for. ``state`` and ``verifier`` never leave this memory."""

    pending: PendingLogin
    state: str = field(repr=False)
    verifier: str = field(repr=False)
    redirect_uri: str
    client: ClientAuth
    iss_required: bool
    server: BackgroundServer
    done: bool = False


class RedirectLogins:
    """This process's redirect login (one at a time) and its listener."""

    def __init__(
        self, settings: Settings, http: OAuthHttp, store: StateStore, records: NativeRecords, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._http = http
        self._store = store
        self._records = records
        self._clock = clock
        self._lock = threading.Lock()
        self._active: _Active | None = None

    def client(self, metadata: ServerMetadata) -> ClientAuth:
        """The configured client's authentication as ``metadata`` allows it (BadResponse when it allows none)."""
        assert self._settings.client_id is not None  # Settings checked it for pkce and code
        try:
            return client_auth(
                self._settings.client_id,
                self._settings.client_secret,
                metadata.token_endpoint_auth_methods_supported,
            )
        except ValueError as exc:
            raise BadResponse(f"discovery: {exc}") from None

    def start(self, site: SiteId, now: float, policy: TrustPolicy, metadata: ServerMetadata) -> PendingLogin:
        """A new redirect login (the caller holds the state lock and writes the record)."""
        if metadata.authorization_endpoint is None:
            raise BadResponse("discovery: the server's metadata names no authorization_endpoint")
        methods = metadata.code_challenge_methods_supported
        if methods and "S256" not in methods:
            raise BadResponse("discovery: the server does not support the S256 code challenge (plain is never used)")
        policy.check(metadata.authorization_endpoint)
        client = self.client(metadata)
        state, verifier = secrets.token_urlsafe(24), verifier_from(secrets.token_bytes(32))
        redirect = self._settings.redirect
        with self._lock:
            self._stop_active()
            box: list[_Active] = []
            server = BackgroundServer(lambda port: self._app(port, box), host=redirect.host, port=redirect.port)
            redirect_uri = redirect.with_port(server.port)
            link = authorization_url(
                metadata.authorization_endpoint,
                client_id=client.client_id,
                redirect=redirect_uri,
                scope=self._settings.scope,
                state=state,
                verifier=verifier,
            )
            pid, started_at = this_process()
            pending = PendingLogin(
                site=site,
                endpoints=Endpoints(
                    issuer=policy.issuer,
                    client_id=client.client_id,
                    token_endpoint=metadata.token_endpoint,
                    revocation_endpoint=metadata.revocation_endpoint,
                    grant="code" if client.secret is not None else "pkce",
                    auth_method=client.method,
                ),
                verification_uri=link,
                expires_at=now + AUTHORIZATION_TTL_SECONDS,
                scope=self._settings.scope,
                listener=Listener(pid=pid, started_at=started_at),
            )
            active = _Active(
                pending,
                state,
                verifier,
                redirect_uri,
                client,
                metadata.authorization_response_iss_parameter_supported,
                server,
            )
            box.append(active)
            server.start()
            self._active = active
            timer = threading.Timer(AUTHORIZATION_TTL_SECONDS, self._expire, args=(active,))
            timer.daemon = True
            timer.start()
        log.info("redirect login: listening on %s", redirect_uri)
        return pending

    def listening(self, pending: PendingLogin) -> bool:
        """Whether this process listens for ``pending`` (its own login, not ended)."""
        active = self._active
        return active is not None and not active.done and active.pending.verification_uri == pending.verification_uri

    def close(self) -> None:
        """Stop listening; an answer in flight is sent first (uvicorn finishes it before it stops): a command
        that exits as soon as the session is stored does not cut the browser's landing page off."""
        with self._lock:
            active, self._active = self._active, None
        if active is not None:
            active.done = True
            active.server.stop()

    # ----- the listener ----------------------------------------------------------------------------------

    def _stop_active(self) -> None:
        active, self._active = self._active, None
        if active is not None:
            active.done = True
            threading.Thread(target=active.server.stop, name="okx-redirect-stop", daemon=True).start()

    def _expire(self, active: _Active) -> None:
        with self._lock:
            if self._active is active:
                self._stop_active()

    def _app(self, port: int, box: list[_Active]) -> ASGIApp:
        redirect = self._settings.redirect
        own_host = (f"[{redirect.host}]" if ":" in redirect.host else redirect.host) + f":{port}"

        async def callback(request: Request) -> Response:
            active = box[0]
            query = {key: value for key, value in request.query_params.items()}
            return await anyio.to_thread.run_sync(lambda: self._answer(active, query))

        routed = Starlette(routes=[Route(redirect.path, callback, methods=["GET"])])
        routed.router.redirect_slashes = False

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            hosts = [value for name, value in scope.get("headers", []) if name == b"host"]
            if scope["type"] == "http" and hosts != [own_host.encode("ascii")]:
                await _landing("not_this_login", 403)(scope, receive, send)
                return
            await routed(scope, receive, send)

        return app

    def _answer(self, active: _Active, query: dict[str, str]) -> Response:
        """The browser's answer: only the first one of this login counts."""
        outcome = callback_outcome(
            query, state=active.state, issuer=active.pending.endpoints.issuer, iss_required=active.iss_required
        )
        if outcome is None:
            log.info("redirect login: a request that is not this login's answer (ignored)")
            return _landing("not_this_login", 400)
        with self._lock:
            if active.done:
                return _landing("used", 409)
            active.done = True
        try:
            landing = self._finish(active, outcome)
        finally:
            timer = threading.Timer(STOP_DELAY_SECONDS, self._expire, args=(active,))
            timer.daemon = True
            timer.start()
        return _landing(landing, 200 if landing == "done" else 400)

    def _finish(self, active: _Active, outcome: Authorized | Ended) -> Landing:
        pending = active.pending
        if isinstance(outcome, Ended):
            log.info("redirect login: ended at the authorization server (%s)", outcome.error)
            self._end(pending, outcome.reason)
            return outcome.reason
        try:
            tokens = self._http.exchange_code(
                pending.endpoints.token_endpoint, active.client, outcome.code, active.redirect_uri, active.verifier
            )
        except OAuthError as exc:
            log.info("redirect login: the code exchange failed (%s)", type(exc).__name__)
            self._end(pending, "failed")
            return "failed"
        with self._store.locked("storing the session of a redirect login"):
            if not self._still_pending(pending):
                log.info("redirect login: the login was cancelled meanwhile; nothing stored")
                return "used"
            now = self._clock()
            self._records.write_session(session_from(pending.site, pending.endpoints, tokens, now, pending.scope, None))
            self._records.delete_pending()
        log.info("redirect login: logged in (site %s)", pending.site)
        return "done"

    def _end(self, pending: PendingLogin, reason: Landing) -> None:
        outcome = reason if reason in ("denied", "expired") else "failed"
        with self._store.locked("ending a redirect login"):
            if self._still_pending(pending):
                self._records.write_pending(pending.model_copy(update={"outcome": outcome}))

    def _still_pending(self, pending: PendingLogin) -> bool:
        current = self._records.pending()
        return current is not None and current.verification_uri == pending.verification_uri


def _landing(landing: Landing, status: int) -> HTMLResponse:
    return HTMLResponse(landing_page(landing), status_code=status, headers=HEADERS)
