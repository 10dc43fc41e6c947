"""The official ``okx`` CLI as the login backend: the same gate, texts and tools, with OKX's own ``okx-auth``
binary doing the OAuth (it knows OKX's production endpoints).

The backend steps (the API-key check, the OAuth status, starting a login, logging out) run the commands
OKX documents (through ``edges.okx_cli``) instead of this package's OAuth client. The site menu, the tickets
and every refusal stay the service's own. The binary keeps its tokens to itself: :attr:`tokens` is None, so
what needs a token (``token``, ``OkxAuth``) gets ``[backend_unsupported]`` from the service.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped, pending_view
from okx_auth_mcp.core.oauth_errors import PhishingGuard
from okx_auth_mcp.core.oauth_wire import TrustPolicy
from okx_auth_mcp.core.okx_cli_output import CliLoginSkipped, parse_config, parse_login, parse_status
from okx_auth_mcp.core.okx_profiles import env_profile
from okx_auth_mcp.core.records import StartedLogin
from okx_auth_mcp.core.sites import SITES, SiteId
from okx_auth_mcp.edges.okx_cli import OkxCli
from okx_auth_mcp.edges.state_store import STARTED_FILE, StateStore
from okx_auth_mcp.login.backend import Claim, Tokens
from okx_auth_mcp.login.errors import AlreadyLoggedIn, PendingElsewhere
from okx_auth_mcp.login.settings import BackendName, Settings

LOGIN_TIMEOUT_FACTOR = 3
"""``okx auth login --manual`` does discovery, registration and device authorization: up to three requests."""


class OkxCliBackend:
    name: BackendName = "okx-cli"
    tokens: Tokens | None = None

    def __init__(
        self, settings: Settings, store: StateStore, cli: OkxCli, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.store = store
        self._cli = cli
        self._clock = clock

    def close(self) -> None:
        pass  # nothing held between commands

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        """The environment's key first, as OKX's client takes it; then what ``okx config show`` lists."""
        from_env = env_profile(self.settings.environ)
        config = parse_config(self._cli.run("config", "show", "--json"))
        if from_env is not None:
            return from_env.name, from_env.site or config.site
        return config.api_key_profile, config.site

    def auth_state(self, now: float) -> AuthState:
        """``okx auth status --json``, with the link and code of a login this server started. Without the lock:
        the record is replaced whole, and deleting it once the login is done is the same from any process."""
        status = parse_status(self._cli.run("auth", "status", "--json"))
        started = self._started()
        if status.status == "logged_in":
            self.store.delete(STARTED_FILE)
            return AuthState("logged_in", status.chosen_site, list(status.scopes))
        if status.status == "pending":
            login = None
            if started is not None and started.site == status.chosen_site and started.expires_at > now:
                login = pending_view(started, now)
            return AuthState("pending", status.chosen_site, login=login)
        if started is not None:  # the login this server started ended without a session
            return AuthState("not_logged_in", reason="expired" if now >= started.expires_at else "denied")
        return AuthState("not_logged_in")

    def status(self) -> AuthState:
        return self.auth_state(self._clock())  # the binary polls, at most once per interval, when asked

    def begin_login(self, site: SiteId, claim: Claim) -> LoginSkipped | LoginPending:
        with self.store.locked("starting a login through okx"):
            now = self._clock()
            state = self.auth_state(now)
            if state.status == "logged_in":
                raise AlreadyLoggedIn("an OAuth session is logged in; log out first to log in again")
            if state.status == "pending" and state.site != site:
                raise PendingElsewhere(
                    f"a login for {state.site} is pending; finish it, or log out to choose another site"
                )
            if state.login is not None:
                return state.login
            timeout = LOGIN_TIMEOUT_FACTOR * self._cli.timeout
            claim.check()
            started = parse_login(self._cli.run("auth", "login", "--manual", "--site", site, timeout=timeout))
            if isinstance(started, CliLoginSkipped):
                return LoginSkipped(started.profile)
            self._policy(site).check(started.verificationUri)
            record = StartedLogin(
                site=site,
                verification_uri=started.verificationUri,
                user_code=started.userCode,
                expires_at=now + started.expiresIn,
            )
            self.store.write_model(STARTED_FILE, record)
            claim.spend()
        return LoginPending(site, started.verificationUri, started.userCode, started.expiresIn)

    def logout(self) -> bool:
        """``okx auth logout`` (which revokes); whatever it does, the local record is gone."""
        try:
            self._cli.run("auth", "logout")
        finally:
            self.store.delete(STARTED_FILE)
        return True

    def cancel_login(self, user_code: str | None) -> bool:
        """Forget the login this server started (the binary's own device code dies with its lifetime)."""
        with self.store.locked("cancelling a login"):
            started = self._started()
            if started is None or (user_code is not None and started.user_code != user_code):
                return False
            return self.store.delete(STARTED_FILE)

    def _policy(self, site: SiteId) -> TrustPolicy:
        return TrustPolicy(SITES[site].api_base_url, False, self.settings.allowed_hosts)

    def _started(self) -> StartedLogin | None:
        """The login this server started, its link checked again as when okx printed it."""
        started = self.store.read_model(STARTED_FILE, StartedLogin)
        if started is not None:
            try:
                self._policy(started.site).check(started.verification_uri)
            except PhishingGuard:
                raise self.store.corrupt(STARTED_FILE, "holds a verification link the trust policy refuses") from None
        return started
