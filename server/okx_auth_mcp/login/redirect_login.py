"""The redirect logins (``OKX_OAUTH_GRANT=pkce|code``): the authorization link, and the loopback listener in this
process that takes the browser's answer, checks it and exchanges the code. The native backend starts them
through the same gate as a device login (``NativeBackend.begin_login``).

- :meth:`RedirectLogins.start` (the caller holds the state lock): a ``state`` and a PKCE verifier from
  ``secrets``, the verifier kept in this process's memory only (``state`` is in the link, which the user is
  shown); the listener bound on ``OKX_OAUTH_REDIRECT_URI`` (any free
  port on 127.0.0.1 by default); the pending record, with the link, no secret, and this process as its
  ``listener`` (a login whose listener died is ``interrupted``, never pending forever).
- The listener answers only its own ``Host`` and path. A request that is not this login's answer (another
  ``state``, another ``iss``: :func:`~okx_auth_mcp.core.authorization_code.callback_outcome`) changes nothing.
  The first answer that is ends the login, under the state lock: for the login still pending only (a logout
  or another login meanwhile wins, and its code is never exchanged), the code exchanged with the verifier
  (and the client secret for ``code``) and the session stored, or the pending record ended with the reason;
  then the listener stops. The browser's landing page (``core.redirect_landing``) shows no code and no token.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from okx_auth_mcp.core.authorization_code import (
    AUTHORIZATION_TTL_SECONDS,
    Authorized,
    ClientAuth,
    Ended,
    EndReason,
    authorization_url,
    callback_outcome,
    client_auth,
    verifier_from,
)
from okx_auth_mcp.core.diagnosis.urls import bracketed
from okx_auth_mcp.core.oauth_errors import BadResponse, OAuthError
from okx_auth_mcp.core.oauth_wire import ServerMetadata, TrustPolicy
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.records import Endpoints, Listener, PendingLogin
from okx_auth_mcp.core.redirect_landing import CSP, Landing, landing_page
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.loopback import BackgroundServer, names_host
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.processes import alive, this_process
from okx_auth_mcp.edges.state_store import StateStore
from okx_auth_mcp.login.native_records import NativeRecords, session_from
from okx_auth_mcp.login.settings import Settings

log = logging.getLogger(__name__)

STOP_DELAY_SECONDS = 2.0
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass
class _Active:
    """One redirect login this process listens for. The verifier never leaves this memory (``state`` is in the
    link the user is shown, so it is no secret: it binds the answer to this login)."""

    pending: PendingLogin
    state: str = field(repr=False)
    verifier: str = field(repr=False)
    redirect_uri: str
    issuer: str
    """The issuer as its metadata names it: an answer's ``iss`` must be exactly this (RFC 9207 §2.4)."""
    client: ClientAuth
    iss_required: bool
    server: BackgroundServer
    timer: threading.Timer
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
        self._me_read: tuple[int, float] | None = None

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
            try:
                server = BackgroundServer(self._app, host=redirect.host, port=redirect.port, name="okx-redirect")
            except OSError as exc:
                raise ConfigError(
                    f"OKX_OAUTH_REDIRECT_URI: cannot listen on {redirect.with_port(redirect.port)} "
                    f"({exc.strerror or exc}); free that port, or name another"
                ) from None
            redirect_uri = redirect.with_port(server.port)
            link = authorization_url(
                metadata.authorization_endpoint,
                client_id=client.client_id,
                redirect=redirect_uri,
                scope=self._settings.scope,
                state=state,
                verifier=verifier,
            )
            pid, started_at = self._me
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
            timer = threading.Timer(AUTHORIZATION_TTL_SECONDS, self._stop_if, args=(server,))
            timer.daemon = True
            self._active = _Active(
                pending,
                state,
                verifier,
                redirect_uri,
                metadata.issuer,
                client,
                metadata.authorization_response_iss_parameter_supported,
                server,
                timer,
            )
            server.start()
            timer.start()
        log.info("redirect login: listening on %s", redirect_uri)
        return pending

    @property
    def _me(self) -> tuple[int, float]:
        """This process (read on first use: psutil is not loaded by commands that never need it)."""
        if self._me_read is None:
            self._me_read = this_process()
        return self._me_read

    def orphaned(self, pending: PendingLogin) -> bool:
        """A redirect login whose listener is gone (its process died, or this process no longer listens for it):
        it can never finish. A device login is never orphaned."""
        listener = pending.listener
        if listener is None or self.listening(pending):
            return False
        if (listener.pid, listener.started_at) == self._me:
            return True
        return not alive(listener.pid, listener.started_at)

    def listening(self, pending: PendingLogin) -> bool:
        """Whether this process listens for ``pending`` (or is finishing it)."""
        active = self._active  # an answered login stays ours until its listener stops: its record ends first
        return active is not None and active.pending.verification_uri == pending.verification_uri

    def close(self) -> None:
        """Stop listening (a logout, a cancel, the end of the process); an answer in flight is sent first (uvicorn
        finishes it before it stops): a command that exits as soon as the session is stored does not cut the
        browser's landing page off."""
        with self._lock:
            active, self._active = self._active, None
        if active is not None:
            active.done = True
            active.timer.cancel()
            active.server.stop()

    # ----- the listener ----------------------------------------------------------------------------------

    def _stop_active(self) -> None:
        active, self._active = self._active, None
        if active is not None:
            active.done = True
            active.timer.cancel()
            threading.Thread(target=active.server.stop, name="okx-redirect-stop", daemon=True).start()

    def _stop_if(self, server: BackgroundServer) -> None:
        """Stop the listener ``server`` if it is still the active one (its time is up, or its login ended)."""
        with self._lock:
            if self._active is not None and self._active.server is server:
                self._stop_active()

    def _app(self, port: int) -> ASGIApp:
        redirect = self._settings.redirect
        own_host = f"{bracketed(redirect.host)}:{port}"

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            """Only GET on the redirect's own path and ``Host`` (matched literally: no route patterns)."""
            if scope["type"] != "http":
                return
            if not names_host(scope, own_host):
                response: Response = _landing("not_this_login", 403)
            elif scope["path"] != redirect.path or scope["method"] != "GET":
                response = _landing("not_this_login", 404)
            else:
                pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
                active = self._active
                if active is None or active.server.port != port:
                    response = _landing("used", 409)
                else:
                    response = await anyio.to_thread.run_sync(lambda: self._answer(active, pairs))
            await response(scope, receive, send)

        return app

    def _answer(self, active: _Active, pairs: list[tuple[str, str]]) -> Response:
        """The browser's answer: only the first one of this login counts."""
        outcome = callback_outcome(pairs, state=active.state, issuer=active.issuer, iss_required=active.iss_required)
        if outcome is None:
            log.info("redirect login: a request that is not this login's answer (ignored)")
            return _landing("not_this_login", 400)
        with self._lock:
            if active.done:
                return _landing("used", 409)
            active.done = True
        try:
            landing = self._finish(active, outcome)
        except Exception as exc:  # the browser gets our page, never a traceback; the login ends
            log.warning("redirect login: could not finish (%s)", type(exc).__name__)
            with contextlib.suppress(Exception):  # the state directory may be what failed
                self._end(active.pending, "failed")
            landing = "failed"
        finally:
            timer = threading.Timer(STOP_DELAY_SECONDS, self._stop_if, args=(active.server,))
            timer.daemon = True
            timer.start()
        return _landing(landing, 200 if landing == "done" else 400)

    def _finish(self, active: _Active, outcome: Authorized | Ended) -> Landing:
        """Under the state lock, so that a logout or another login meanwhile wins: the exchange (bounded by the
        HTTP timeout) happens only for the login still pending, and its session is stored at once."""
        pending = active.pending
        if isinstance(outcome, Ended):
            log.info("redirect login: ended at the authorization server (%s)", outcome.error)
            self._end(pending, outcome.reason)
            return outcome.reason
        with self._store.locked("finishing a redirect login"):
            if not self._still_pending(pending):
                log.info("redirect login: the login was cancelled meanwhile; its code is not exchanged")
                return "used"
            try:
                tokens = self._http.exchange_code(
                    pending.endpoints.token_endpoint, active.client, outcome.code, active.redirect_uri, active.verifier
                )
            except OAuthError as exc:
                log.info("redirect login: the code exchange failed (%s)", type(exc).__name__)
                self._records.write_pending(pending.model_copy(update={"outcome": "failed"}))
                return "failed"
            session = session_from(pending.site, pending.endpoints, tokens, self._clock(), pending.scope, None)
            try:
                self._records.write_session(session)
            except Exception:
                self._revoke(pending, active.client, session.refresh_token or session.access_token)
                raise  # tokens that cannot be kept are not left live at the server
            self._records.delete_pending()
        log.info("redirect login: logged in (site %s)", pending.site)
        return "done"

    def _revoke(self, pending: PendingLogin, client: ClientAuth, token: str) -> None:
        endpoint = pending.endpoints.revocation_endpoint
        if endpoint is not None:
            with contextlib.suppress(OAuthError):
                self._http.revoke(endpoint, client.client_id, token, "refresh_token", client)

    def _end(self, pending: PendingLogin, reason: EndReason) -> None:
        with self._store.locked("ending a redirect login"):
            if self._still_pending(pending):
                self._records.write_pending(pending.model_copy(update={"outcome": reason}))

    def _still_pending(self, pending: PendingLogin) -> bool:
        current = self._records.pending()
        return current is not None and current.verification_uri == pending.verification_uri


def _landing(landing: Landing, status: int) -> HTMLResponse:
    return HTMLResponse(landing_page(landing), status_code=status, headers=HEADERS)
