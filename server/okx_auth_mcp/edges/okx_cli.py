"""The official ``okx`` CLI as the login backend: the same gate, templates and tools, with OKX's own
``okx-auth`` binary doing the OAuth (it knows OKX's production endpoints).

:class:`OkxCliService` is an :class:`AuthService` whose backend steps (the API-key check, the OAuth status,
starting a login, logging out) run the commands OKX documents instead of this package's OAuth client. The
site menu, the tickets and every refusal stay the service's own. The binary keeps its tokens to itself, so
what needs a token here (``token``, ``OkxAuth``) says so instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO

from pydantic import BaseModel, ConfigDict

from okx_auth_mcp.core.oauth_wire import TrustPolicy
from okx_auth_mcp.core.okx_cli_output import (
    MAX_OUTPUT_CHARS,
    CliLoginSkipped,
    OkxAuthMissing,
    OkxCliBadOutput,
    OkxCliError,
    OkxCliFailed,
    OkxCliMissing,
    OkxCliTimeout,
    parse_config,
    parse_login,
    parse_status,
)
from okx_auth_mcp.core.records import Session
from okx_auth_mcp.core.sites import SITES, SiteId
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.login.service import (
    AlreadyLoggedIn,
    AuthService,
    AuthState,
    BackendName,
    FlowError,
    LoginPending,
    LoginSkipped,
    PendingElsewhere,
    Settings,
    _validated,
)

STARTED_FILE = "okx-cli-login.json"
"""The login this server started through the CLI: its link and code, to show them again while it is pending
(``okx auth status`` does not repeat them)."""
LOGIN_TIMEOUT_FACTOR = 3
"""``okx auth login --manual`` does discovery, registration and device authorization: up to three requests."""


class BackendUnsupported(FlowError):
    code = "backend_unsupported"


class StartedLogin(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built on first use, not at start-up
    site: SiteId
    verification_uri: str
    user_code: str
    expires_at: float


@dataclass(frozen=True)
class OkxCli:
    """Runs one ``okx`` command and returns its standard output, within a time limit."""

    executable: str
    environ: Mapping[str, str]
    timeout: float

    @classmethod
    def find(cls, settings: Settings) -> OkxCli | None:
        found = shutil.which("okx", path=settings.environ.get("PATH", os.defpath))
        return None if found is None else cls(found, settings.environ, settings.http_timeout)

    def run(self, *args: str, timeout: float | None = None) -> str:
        """Its standard output. The output goes to temporary files and is read up to a cap (memory stays
        bounded whatever it prints); on a timeout the whole process group is killed (``okx`` starts
        ``okx-auth``), and a helper that outlives ``okx`` cannot hold the answer back."""
        limit = timeout or self.timeout
        what = "okx " + " ".join(a for a in args if not a.startswith("-"))
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                process = subprocess.Popen(  # noqa: S603 (a fixed command line; the site is one of three ids)
                    [self.executable, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=dict(self.environ),
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise OkxCliMissing("the okx CLI is no longer where it was found") from None
            try:
                status = process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise OkxCliTimeout(f"{what} did not finish within {limit:g} s") from None
            stdout, stderr = _bounded(out, what), _bounded(err, what)
        if "Failed to spawn okx-auth" in stdout + stderr:
            raise OkxAuthMissing(f"{what}: okx could not start its okx-auth binary")
        if status != 0:
            raise OkxCliFailed(f"{what} exited with status {status}")
        return stdout

    def answers(self) -> bool:
        """Whether ``okx auth status --json`` works here (how ``auto`` decides)."""
        try:
            parse_status(self.run("auth", "status", "--json"))
        except OkxCliError:
            return False
        return True


class OkxCliService(AuthService):
    def __init__(self, settings: Settings, cli: OkxCli, clock: Callable[[], float] = time.time) -> None:
        super().__init__(settings, clock)
        self._cli = cli

    @property
    def backend_name(self) -> BackendName:
        return "okx-cli"

    # ----- the backend steps -----------------------------------------------------------------------

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        """The environment's key first, as OKX's client takes it; then what ``okx config show`` lists."""
        from_env = okx_config.env_profile(self.settings.environ)
        config = parse_config(self._cli.run("config", "show", "--json"))
        if from_env is not None:
            return from_env.name, from_env.site or config.site
        return config.api_key_profile, config.site

    def auth_state(self, now: float | None = None) -> AuthState:
        """``okx auth status --json``, with the link and code of a login this server started."""
        now = self._clock() if now is None else now
        status = parse_status(self._cli.run("auth", "status", "--json"))
        with self.store.locked():
            started = self._started()
            if status.status == "logged_in":
                self.store.delete(STARTED_FILE)
                return AuthState("logged_in", status.chosen_site, list(status.scopes))
            if status.status == "pending":
                login = None
                if started is not None and started.site == status.chosen_site and started.expires_at > now:
                    login = LoginPending(
                        started.site, started.verification_uri, started.user_code, int(started.expires_at - now)
                    )
                return AuthState("pending", status.chosen_site, login=login)
            if started is not None:  # the login this server started ended without a session
                return AuthState("not_logged_in", reason="expired" if now >= started.expires_at else "denied")
            return AuthState("not_logged_in")

    def status(self) -> AuthState:
        return self.auth_state()  # the binary polls, at most once per interval, when asked

    def _begin_login(self, site: SiteId) -> LoginSkipped | LoginPending:
        with self.store.locked():
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
            started = parse_login(self._cli.run("auth", "login", "--manual", "--site", site, timeout=timeout))
            if isinstance(started, CliLoginSkipped):
                return LoginSkipped(started.profile)
            TrustPolicy(SITES[site].api_base_url, False, self.settings.allowed_hosts).check(started.verificationUri)
            record = StartedLogin(
                site=site,
                verification_uri=started.verificationUri,
                user_code=started.userCode,
                expires_at=now + started.expiresIn,
            )
            self.store.write_json(STARTED_FILE, record.model_dump(mode="json"))
        return LoginPending(site, started.verificationUri, started.userCode, started.expiresIn)

    def logout(self) -> bool:
        """``okx auth logout`` (which revokes); whatever it does, the local record and every ticket issued
        before are gone, as with the native backend (a site chosen before a logout never logs in after it)."""
        try:
            self._cli.run("auth", "logout")
        finally:
            with self.store.locked():
                self.store.delete(STARTED_FILE)
                self.store.rotate_ticket_key()
        return True

    def cancel_login(self, user_code: str | None = None) -> bool:
        """Forget the login this server started (the binary's own device code dies with its lifetime)."""
        with self.store.locked():
            started = self._started()
            if started is None or (user_code is not None and started.user_code != user_code):
                return False
            return self.store.delete(STARTED_FILE)

    # ----- what needs the tokens, which the binary keeps -------------------------------------------

    def _no_tokens(self) -> BackendUnsupported:
        return BackendUnsupported(
            "the okx-cli backend keeps its tokens inside okx-auth; use okx's own commands, or set "
            "OKX_AUTH_BACKEND=native"
        )

    def fresh_session(self) -> Session:
        raise self._no_tokens()

    def bearer_token(self) -> str:
        raise self._no_tokens()

    def force_refresh(self, rejected_access_token: str) -> str | None:
        raise self._no_tokens()

    def api_base_url(self) -> str:
        raise self._no_tokens()

    def _started(self) -> StartedLogin | None:
        data = self.store.read_json(STARTED_FILE)
        return None if data is None else _validated(StartedLogin, data, self.store.directory / STARTED_FILE)


def _bounded(file: IO[bytes], what: str) -> str:
    file.seek(0)
    data = file.read(MAX_OUTPUT_CHARS + 1)
    if len(data) > MAX_OUTPUT_CHARS:
        raise OkxCliBadOutput(f"{what}: the output is larger than {MAX_OUTPUT_CHARS} characters")
    return data.decode("utf-8", errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover (Windows: no process groups here)
            process.kill()
    process.wait()


def open_service(settings: Settings, clock: Callable[[], float] = time.time) -> AuthService:
    """The service for ``settings.backend``: ``auto`` picks the official CLI when it is on PATH and
    ``okx auth status --json`` answers, else the native client."""
    if settings.backend == "native":
        return AuthService(settings, clock)
    cli = OkxCli.find(settings)
    if settings.backend == "okx-cli":
        if cli is None:
            raise okx_config.ConfigError(
                "OKX_AUTH_BACKEND=okx-cli, but there is no okx on PATH (npm install -g @okx_ai/okx-trade-cli)"
            )
        return OkxCliService(settings, cli, clock)
    if cli is not None and cli.answers():
        return OkxCliService(settings, cli, clock)
    return AuthService(settings, clock)
