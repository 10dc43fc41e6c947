"""The commands a person (or a script) runs, like ``gh auth``: ``status``, ``login``, ``logout``, ``token``,
``config show``, ``diagnose``.

Every command goes through :class:`AuthService` with ``Settings.from_env()``: the same state directory, the
same gate and the same templates as the MCP tools. ``login --site SITE`` is the user's answer to the site
menu (typed by the user, never defaulted), so it passes the menu ticket and the site ticket like an agent
must. stdout carries the result only (a template, JSON, or for ``token`` the token alone); progress and
errors go to stderr, one line each, never a traceback, never a token, secret key or passphrase.

Exit codes::

    0    done; status: logged in
    1    status: not logged in (or pending); login: ended without a session (expired, denied); a refusal
         or a failure of the network, the server or the state directory
         diagnose: a check failed (warnings alone exit 0)
    2    bad arguments or an unusable configuration (every command); token: not logged in (or pending)
    3    token: the refresh failed: the server ended the session (invalid_grant and the like: the session
         is deleted, log in again) or the refresh could not complete (network, server error: kept, retry)
    130  login: interrupted with Ctrl-C (the pending login is cancelled locally)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped
from okx_auth_mcp.core.oauth_errors import InvalidGrant, NetworkError, OAuthError
from okx_auth_mcp.core.oauth_wire import DEFAULT_INTERVAL
from okx_auth_mcp.core.okx_cli_output import OkxCliError
from okx_auth_mcp.core.sites import SITE_IDS, SITES, SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.core.tickets import TicketError
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.state_store import StoreError
from okx_auth_mcp.login.backends import open_service
from okx_auth_mcp.login.errors import AlreadyLoggedIn, FlowError, NotLoggedIn, PendingElsewhere
from okx_auth_mcp.login.refusals import error_code
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_LOGGED_IN = 2
EXIT_REFRESH_FAILED = 3
EXIT_INTERRUPTED = 130

POLL_MARGIN_SECONDS = 0.25
"""Added to the polling interval, so that network jitter never makes two polls arrive closer than the
server's interval (which it would answer with slow_down, adding 5 s for good)."""
TICK_SECONDS = 0.1

KNOWN_ERRORS = (FlowError, OAuthError, StoreError, TicketError, OkxCliError)
"""What a command reports as one line on stderr. ``ConfigError`` is reported by ``cli.main`` (exit 2);
anything else is a bug and keeps its traceback."""

_LOGIN_HINT = "okx-auth-mcp login --site global|eea|us"
_CLI_NEXT: dict[str, str] = {
    "not_logged_in": f"log in: {_LOGIN_HINT}",
    "login_pending": "finish the pending login in the browser (okx-auth-mcp status shows it), or run "
    "okx-auth-mcp logout to start over",
    "already_logged_in": "run okx-auth-mcp logout first to log in to another site",
    "network_error": "check the connection or proxy and retry",
    "discovery_failed": "check OKX_OAUTH_ISSUER and the network",
    "phishing_guard": "the authorization server returned an untrusted link, so none was shown; do not retry, "
    "and do not open a login link from elsewhere",
    "okx_error": "retry later",
    "bad_response": "retry later",
    "oauth_error": "retry later",
    "state_error": "fix the file named above (okx-auth-mcp logout deletes the session and a pending login)",
}


def default_lang(environ: Mapping[str, str]) -> Lang:
    """Chinese when the locale says so (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def failure_line(exc: Exception, code: str | None = None, next_step: str | None = None) -> str:
    """``okx-auth-mcp: [code] what happened. Next: what to do`` on one line."""
    if code is None:
        code = error_code(exc)
    what = " ".join(str(exc).split()).rstrip(".")
    return f"okx-auth-mcp: [{code}] {what}. Next: {next_step or _CLI_NEXT.get(code, 'run the command again')}."


def _report(exc: Exception, code: str | None = None, next_step: str | None = None) -> None:
    print(failure_line(exc, code, next_step), file=sys.stderr)


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KNOWN_ERRORS as exc:
            _report(exc)
            return EXIT_FAILED

    return guarded


@contextlib.contextmanager
def _service() -> Iterator[AuthService]:
    service = open_service(Settings.from_env())
    try:
        yield service
    finally:
        service.close()


def _lang(args: argparse.Namespace) -> Lang:
    chosen: Lang | None = args.lang
    return chosen or default_lang(os.environ)


# ----- status, logout, token ------------------------------------------------------------------------------


@_guarded
def _status(args: argparse.Namespace) -> int:
    with _service() as service:
        profile = service.api_key_profile_name()
        state = service.status()
    if args.json:
        view = {
            "status": state.status,
            "site": state.site,
            "scopes": state.scopes,
            "reason": state.reason,
            "api_key_profile": profile,
        }
        print(json.dumps(view, ensure_ascii=False))
    else:
        if profile is not None:
            print(texts.api_key_configured(profile))
        print(texts.status_reply(_lang(args), state.status, state.site, state.scopes, state.reason))
    return EXIT_OK if state.status == "logged_in" else EXIT_FAILED


@_guarded
def _logout(args: argparse.Namespace) -> int:
    with _service() as service:
        service.logout()
    print(texts.logged_out(_lang(args)))
    return EXIT_OK


@_guarded
def _token(args: argparse.Namespace) -> int:
    try:
        with _service() as service:
            token = service.bearer_token()
    except NotLoggedIn as exc:
        _report(exc)
        return EXIT_NOT_LOGGED_IN
    except InvalidGrant as exc:
        _report(
            exc,
            "session_expired",
            f"the session has ended and was removed; log in again: {_LOGIN_HINT}",
        )
        return EXIT_REFRESH_FAILED
    except OAuthError as exc:
        _report(exc, next_step=f"{_CLI_NEXT.get(error_code(exc), 'retry later')}; the session is kept")
        return EXIT_REFRESH_FAILED
    sys.stdout.write(token + "\n")
    return EXIT_OK


# ----- config show ----------------------------------------------------------------------------------------


def config_view(cfg: okx_config.OkxConfig, settings: Settings, file_exists: bool) -> dict[str, Any]:
    """What ``config show`` shows: no secret key, no passphrase, no proxy URL (it may hold credentials), the
    API keys masked. Pure."""
    keyed = cfg.api_key_profile()
    from_env = bool(settings.environ.get("OKX_API_KEY"))  # load() put the env profile first
    profiles = []
    for index, profile in enumerate(cfg.profiles):
        site = None if profile.site is None else SITES[profile.site]
        profiles.append(
            {
                **profile.public(),
                "source": "environment" if from_env and index == 0 else "file",
                "default": profile.name == cfg.default_profile and not (from_env and index == 0),
                "in_effect": profile is keyed,
                "api_base_url": profile.base_url or (None if site is None else site.api_base_url),
            }
        )
    return {
        "config_file": str(cfg.path),
        "config_file_exists": file_exists,
        "default_profile": cfg.default_profile,
        "profile_in_effect": None if keyed is None else keyed.name,
        "profiles": profiles,
        "sites": [
            {"id": s.id, "label": s.label, "web_host": s.web_host, "api_base_url": s.api_base_url}
            for s in SITES.values()
        ],
        "oauth": {
            "issuer": settings.issuer_override,
            "scope": settings.scope,
            "state_dir": str(settings.state_dir),
        },
    }


def render_config(view: Mapping[str, Any]) -> str:
    """The text form of :func:`config_view`."""
    exists = "" if view["config_file_exists"] else " (not found)"
    in_effect = view["profile_in_effect"] or "none (OAuth login applies)"
    lines = [
        f"OKX config: {view['config_file']}{exists}",
        f"default_profile: {view['default_profile'] or '-'}",
        f"API-key profile in effect: {in_effect}",
        "profiles:" if view["profiles"] else "profiles: none",
    ]
    for p in view["profiles"]:
        marks = [m for m, on in (("environment", p["source"] == "environment"), ("default", p["default"])) if on]
        if p["in_effect"]:
            marks.append("in effect")
        label = f"{p['name']} ({', '.join(marks)})" if marks else p["name"]
        lines.append(
            f"  {label}: api_key {p['api_key'] or '-'}, site {p['site'] or '-'}, demo {str(p['demo']).lower()}, "
            f"base_url {p['api_base_url'] or '-'}"
        )
    lines.append("sites:")
    lines.extend(f"  {s['id']}: {s['label']} ({s['web_host']}), API {s['api_base_url']}" for s in view["sites"])
    oauth = view["oauth"]
    lines.append(f"OAuth issuer: {oauth['issuer'] or 'the chosen site API base URL'}")
    lines.append(f"OAuth scope: {oauth['scope']}")
    lines.append(f"state directory: {oauth['state_dir']}")
    return "\n".join(lines)


@_guarded
def _config_show(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    cfg = okx_config.load(settings.environ)
    view = config_view(cfg, settings, cfg.path.is_file())
    print(json.dumps(view, ensure_ascii=False, indent=1) if args.json else render_config(view))
    return EXIT_OK


# ----- diagnose -------------------------------------------------------------------------------------------


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError("must be a number of seconds above 0, at most 60")
    return value


@_guarded
def _diagnose(args: argparse.Namespace) -> int:
    from okx_auth_mcp.edges.probes import ProbeOptions, diagnose

    options = ProbeOptions() if args.timeout is None else ProbeOptions(timeout=args.timeout)
    with _service() as service:
        report = diagnose(service, options)
    lang = _lang(args)
    print(json.dumps(report.view(lang), ensure_ascii=False, indent=1) if args.json else report.render(lang))
    return EXIT_FAILED if report.failed else EXIT_OK


# ----- login ----------------------------------------------------------------------------------------------


@dataclass
class _Attempt:
    """How far a login got: from ``started`` on, Ctrl-C cancels the pending login this command started
    (``user_code``, once known). A login found pending (``attached``: another client's, perhaps the MCP
    server's, which the user may be finishing there) is never cancelled here."""

    started: bool = False
    attached: bool = False
    user_code: str | None = None


_WAITING: dict[Lang, str] = {
    "en": "Waiting for the authorization in the browser (Ctrl-C cancels)",
    "zh": "正在等待浏览器中的授权（Ctrl-C 取消）",
}
_COUNTDOWN: dict[Lang, str] = {"en": "the code expires in {left}", "zh": "验证码将在 {left} 后过期"}


class _Progress:
    """A spinner with the code's countdown on a terminal; one plain line otherwise."""

    FRAMES = "|/-\\"

    def __init__(self, stream: TextIO, lang: Lang) -> None:
        self._stream = stream
        self._lang = lang
        self._tty = stream.isatty()
        self._frame = 0
        self._shown = False

    def tick(self, seconds_left: float) -> None:
        if self._tty:
            minutes, seconds = divmod(max(0, int(seconds_left)), 60)
            countdown = _COUNTDOWN[self._lang].format(left=f"{minutes}:{seconds:02d}")
            frame = self.FRAMES[self._frame % len(self.FRAMES)]
            self._stream.write(f"\r\x1b[K{frame} {_WAITING[self._lang]}; {countdown}")
            self._frame += 1
        elif not self._shown:
            self._stream.write(_WAITING[self._lang] + "\n")
        self._shown = True
        self._stream.flush()

    def note(self, line: str) -> None:
        self.clear()
        self._stream.write(line + "\n")
        self._stream.flush()

    def clear(self) -> None:
        if self._tty and self._shown:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """A second Ctrl-C must not interrupt the clean-up of the first."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _open_browser(uri: str) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(uri)
    except webbrowser.Error:
        opened = False
    if not opened:
        print("okx-auth-mcp: could not open a browser; open the link above yourself", file=sys.stderr)


def _start(service: AuthService, site: SiteId, lang: Lang, attempt: _Attempt) -> LoginPending | str:
    """The login for ``site`` (a new one, or the pending one again), or the text to show when there is
    nothing to do (an API key is configured, or the user is logged in to that site)."""
    pre = service.preflight()
    if pre.next == "api_key_configured":
        return texts.api_key_configured(pre.profile or "")
    if pre.next == "logged_in":
        if pre.site != site:
            raise AlreadyLoggedIn(f"you are logged in to {pre.site}, not {site}")
        return texts.logged_in(lang, site, pre.scopes)
    if pre.next == "pending":
        assert pre.login is not None
        if pre.login.site != site:
            raise PendingElsewhere(f"a login for {pre.login.site} is pending")
        attempt.attached = True
        return pre.login
    assert pre.menu_ticket is not None
    choice = service.choose_site(site, pre.menu_ticket)  # the user typed the site: their answer to the menu
    if choice.next == "api_key_configured":
        return texts.api_key_configured(choice.profile or "")
    attempt.started = True
    outcome = service.login(choice.site, choice.site_ticket)
    if isinstance(outcome, LoginSkipped):
        return texts.api_key_configured(outcome.profile)
    attempt.user_code = outcome.user_code
    return outcome


def _wait(service: AuthService, lang: Lang) -> int:
    """One status check per polling interval until the login ends; a network failure is retried."""
    progress = _Progress(sys.stderr, lang)
    try:
        while True:
            try:
                state = service.status()
            except NetworkError as exc:
                progress.note(failure_line(exc, "network_error", "still waiting; check the connection"))
                state = service.auth_state()
            if state.status == "logged_in":
                assert state.site is not None
                progress.clear()
                print(texts.logged_in(lang, state.site, state.scopes))
                return EXIT_OK
            if state.status == "not_logged_in":
                progress.clear()
                print(texts.not_logged_in(lang, state.reason))
                return EXIT_FAILED
            due, expires_at = _next_check(state)
            while (now := time.time()) < due:
                progress.tick(expires_at - now)
                time.sleep(min(TICK_SECONDS, due - now))
    finally:
        progress.clear()


def _next_check(state: AuthState) -> tuple[float, float]:
    """When to check a pending login again, and when its code expires. The native backend's record has its
    polling schedule; a backend that polls by itself (okx-cli) is asked once per default interval."""
    pending, now = state.pending, time.time()
    if pending is not None:
        return (pending.last_poll_at or 0.0) + pending.interval + POLL_MARGIN_SECONDS, pending.expires_at
    return now + DEFAULT_INTERVAL, now + (state.login.expires_in if state.login is not None else 0)


def _interrupted(service: AuthService, attempt: _Attempt) -> int:
    with _sigint_ignored():
        cancelled = attempt.started and service.cancel_login(attempt.user_code)
        done = service.auth_state().status == "logged_in"
    if done:
        print("okx-auth-mcp: interrupted, but the login had completed: you are logged in", file=sys.stderr)
    elif attempt.attached:
        print(
            "okx-auth-mcp: stopped waiting; the pending login was started elsewhere and is left as it is "
            "(okx-auth-mcp logout removes it)",
            file=sys.stderr,
        )
    elif cancelled:
        print("okx-auth-mcp: login cancelled; the pending login was removed", file=sys.stderr)
    else:
        print("okx-auth-mcp: login cancelled", file=sys.stderr)
    return EXIT_INTERRUPTED


@_guarded
def _login(args: argparse.Namespace) -> int:
    lang = _lang(args)
    site: SiteId = args.site
    attempt = _Attempt()
    with _service() as service:
        try:
            started = _start(service, site, lang, attempt)
            if isinstance(started, str):
                print(started)
                return EXIT_OK
            text = texts.login_started(
                lang, started.site, started.verification_uri, started.user_code, started.expires_in
            )
            print(text, flush=True)
            if args.open:
                _open_browser(started.verification_uri)
            return _wait(service, lang)
        except KeyboardInterrupt:
            return _interrupted(service, attempt)


# ----- the parsers ----------------------------------------------------------------------------------------


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang", choices=["zh", "en"], default=None, help="the texts' language (default: from LANG, else en)"
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status``, ``login``, ``logout``, ``token``, ``config show`` and ``diagnose`` to ``okx-auth-mcp``'s
    commands."""
    status = commands.add_parser("status", help="check the OKX login once (exit 0 when logged in)")
    status.add_argument("--json", action="store_true", help="one JSON object: status, site, scopes, reason")
    _lang_option(status)
    status.set_defaults(run=_status)

    login = commands.add_parser("login", help="log in to OKX in the browser and wait until done")
    login.add_argument(
        "--site", required=True, type=str.lower, choices=SITE_IDS, help="the OKX site you choose (there is no default)"
    )
    login.add_argument("--open", action="store_true", help="open the verification link in the web browser")
    _lang_option(login)
    login.set_defaults(run=_login)

    logout = commands.add_parser("logout", help="log out of OKX (revokes the session, keeps the registration)")
    _lang_option(logout)
    logout.set_defaults(run=_logout)

    token = commands.add_parser(
        "token", help="print a valid access token for other tools (exit 2: not logged in, 3: refresh failed)"
    )
    token.set_defaults(run=_token)

    config = commands.add_parser("config", help="OKX's configuration, as this program reads it")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="profiles, sites and base URLs, secrets masked")
    show.add_argument("--json", action="store_true", help="as one JSON object")
    show.set_defaults(run=_config_show)

    diagnose = commands.add_parser(
        "diagnose", help="read-only checks: clock, network, proxy, config, login state (exit 1 when one fails)"
    )
    diagnose.add_argument("--json", action="store_true", help="as one JSON object")
    diagnose.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=None,
        help="seconds each probe step may take (default 5)",
    )
    _lang_option(diagnose)
    diagnose.set_defaults(run=_diagnose)
