"""``login --site SITE``: the device-flow login for a person at a terminal, like ``gh auth login``.

It goes through :class:`AuthService` with ``Settings.from_env()``: the same state directory and the same gate
as the MCP tools. ``--site`` is the user's answer to the site menu (typed by the user, never defaulted), so
it passes the menu ticket and the site ticket like an agent must. It prints the link and the code, then waits
(a spinner and the code's countdown on a terminal) until the login ends; Ctrl-C cancels the pending login it
started. Exit codes: ``cli.common``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, guarded, lang_of, lang_option, service
from okx_auth_mcp.core import replies
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped
from okx_auth_mcp.core.oauth_errors import NetworkError
from okx_auth_mcp.core.oauth_wire import DEFAULT_INTERVAL
from okx_auth_mcp.core.sites import SITE_IDS, SITE_LIST, SiteId, parse_site_reply
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.errors import AlreadyLoggedIn, PendingElsewhere
from okx_auth_mcp.login.refusals import terminal_line
from okx_auth_mcp.login.service import AuthService

POLL_MARGIN_SECONDS = 0.25
"""Added to the polling interval, so that network jitter never makes two polls arrive closer than the
server's interval (which it would answer with slow_down, adding 5 s for good)."""
TICK_SECONDS = 0.1


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
        return replies.preflight(lang, pre)
    if pre.next == "logged_in":
        if pre.site != site:
            raise AlreadyLoggedIn(f"you are logged in to {pre.site}, not {site}")
        return replies.preflight(lang, pre)
    if pre.next == "pending":
        assert pre.login is not None
        if pre.login.site != site:
            raise PendingElsewhere(f"a login for {pre.login.site} is pending")
        attempt.attached = True
        return pre.login
    assert pre.menu_ticket is not None
    choice = service.choose_site(site, pre.menu_ticket)  # the user typed the site: their answer to the menu
    if choice.next == "api_key_configured":
        return replies.site_choice(choice)
    attempt.started = True
    outcome = service.login(choice.site, choice.site_ticket)
    if isinstance(outcome, LoginSkipped):
        return replies.login(lang, outcome, "terminal")
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
                progress.note(terminal_line(exc, "network_error", "still waiting; check the connection"))
                state = service.auth_state()
            if state.status != "pending":
                progress.clear()
                print(replies.status(lang, state, "terminal"))
                return EXIT_OK if state.status == "logged_in" else EXIT_FAILED
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


@guarded
def _login(args: argparse.Namespace) -> int:
    with service() as svc:
        return run_login(svc, args.site, lang_of(args), open_link=args.open)


def run_login(svc: AuthService, site: SiteId, lang: Lang, *, open_link: bool = False) -> int:
    """The login for the site the person typed, on ``svc``: started (or the pending one shown), then waited
    for; Ctrl-C cancels a login this call started. The exit code."""
    attempt = _Attempt()
    try:
        started = _start(svc, site, lang, attempt)
        if isinstance(started, str):
            print(started)
            return EXIT_OK
        print(replies.login(lang, started, "terminal"), flush=True)
        if open_link:
            _open_browser(started.link_to_open or started.verification_uri)
        return _wait(svc, lang)
    except KeyboardInterrupt:
        return _interrupted(svc, attempt)


def site_argument(value: str) -> SiteId:
    """``--site``: the user's answer to the site menu, read by the same rule as ``choose_site``'s reply."""
    site = parse_site_reply(value)
    if site is None:  # argparse adds "argument --site:"; the value is not repeated
        raise argparse.ArgumentTypeError(
            f"choose {', '.join(SITE_IDS[:-1])} or {SITE_IDS[-1]}, or its number in the menu"
        )
    return site


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = commands.add_parser("login", help="log in to OKX in the browser and wait until done")
    login.add_argument(
        "--site",
        required=True,
        type=site_argument,
        metavar="SITE",
        help=f"the OKX site you choose: {SITE_LIST}, or its number in the site menu (there is no default)",
    )
    login.add_argument("--open", action="store_true", help="open the verification link in the web browser")
    lang_option(login)
    login.set_defaults(run=_login)
