"""``okx-auth-mcp-bin``: the command line of OKX's ``okx-auth`` binary, served from this package's session.

OKX's ``okx`` CLI and ``okx-trade-mcp`` (1.3+) run the program ``OKX_AUTH_BIN`` names for their OAuth token
(``token``, read from fd 3) and their login status (``status --json``). Pointed at this one, they trade on the
session the site gate created, and their own ungated ``login`` is refused: the gate is the only door.

::

    token            the access token (refreshed first under the lock when near expiry) to fd 3 (on Windows: the
                     named pipe OKX_AUTH_TOKEN_PIPE names), nothing on stdout
    status --json    {"profile", "site", "status", "scopes", "apiKey"} from local state: no poll, no refresh
    logout           as ``okx-auth-mcp logout``
    login --manual   refused ({"status": "refused", "reason": "use_gate", ...}): an agent logs in through the
                     MCP tools; without --manual, at a terminal, the interactive ``okx-auth-mcp login``

It always serves the native backend's session (``OKX_AUTH_BACKEND=okx-cli`` keeps the session in OKX's own
okx-auth, which this program cannot read, and running ``okx`` from here would call back into it).

Exit codes, as OKX's kit reads them::

    0  done (status: whatever the status)
    1  token: the caller is refused (fd 3 is not a pipe, or the allow-list says no); login: refused
    2  token: not logged in (or the login is pending); a command line that cannot be parsed
    3  token: the refresh failed (the session ended and was removed, or could not be refreshed: kept)
    4  the state directory or the configuration cannot be used (damaged, unsafe, locked too long)

Messages go to stderr, one line each, never the token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from okx_auth_mcp import __version__
from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_OK, encodable_output, lang_of, lang_option, report
from okx_auth_mcp.cli.login import run_login, site_argument
from okx_auth_mcp.cli.prompts import InputEnded, ask_site
from okx_auth_mcp.cli.session import token_or_exit_code
from okx_auth_mcp.core import replies
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.replies import LOGIN_COMMAND
from okx_auth_mcp.login.refusals import KNOWN_FAILURES, error_code
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.login.token_handoff import PIPE_VARIABLE, CallerRefused, checked_channel, hand_over

PROG = "okx-auth-mcp-bin"
EXIT_REFUSED = EXIT_FAILED
EXIT_UNUSABLE = 4
GATE_TOOLS = ("preflight", "choose_site", "auth_login_manual")
CALLER_NEXT = f"{PROG} token gives the token only to the pipe OKX's tools open (fd 3; on Windows OKX_AUTH_TOKEN_PIPE)"
STATE_CODES = ("state_error", "state_busy")


def native_service() -> AuthService:
    """The native backend's service over the environment's state directory."""
    settings = Settings.from_env()
    if settings.backend == "okx-cli":
        raise ConfigError(
            f"OKX_AUTH_BACKEND=okx-cli keeps the session in OKX's own okx-auth; {PROG} serves the native session "
            "(unset OKX_AUTH_BIN to let OKX's tools use their okx-auth, or set OKX_AUTH_BACKEND=native)"
        )
    return AuthService(settings)


def _token(args: argparse.Namespace) -> int:
    """The caller is checked before anything is read: a refused caller learns nothing about the session."""
    try:
        to = checked_channel(os.environ)
    except CallerRefused as exc:
        report(exc, next_step=CALLER_NEXT)
        return EXIT_REFUSED
    os.environ.pop(PIPE_VARIABLE, None)  # read once; nothing started from here inherits it
    svc = native_service()
    try:
        token = token_or_exit_code(svc)
    finally:
        svc.close()
    if isinstance(token, int):
        return token
    try:
        hand_over(token, to)
    except CallerRefused as exc:
        report(exc, next_step=CALLER_NEXT)
        return EXIT_REFUSED
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    svc = native_service()
    try:
        profile = svc.api_key_profile_name()
        state = svc.auth_state()
    finally:
        svc.close()
    if args.json:
        view = {
            "profile": profile or "",
            "site": "" if state.status == "not_logged_in" else state.site or "",  # never a placeholder
            "status": state.status,
            "scopes": state.scopes if state.status == "logged_in" else [],
            "apiKey": profile is not None,
        }
        print(json.dumps(view))  # ASCII only: any locale's stdout takes it
    else:
        print(replies.status(lang_of(args), state, "terminal"))
    return EXIT_OK


def _logout(args: argparse.Namespace) -> int:
    svc = native_service()
    try:
        svc.logout()
    finally:
        svc.close()
    print(replies.logged_out(lang_of(args)))
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    """A person at a terminal gets the interactive login, with the site menu when ``--site`` was not typed.
    (An agent's ``--manual``, and any call without a terminal, was refused before the arguments were read.)"""
    lang = lang_of(args)
    try:
        site = args.site or ask_site(lang)
    except InputEnded:
        return EXIT_REFUSED
    svc = native_service()
    try:
        return run_login(svc, site, lang)
    finally:
        svc.close()


def _at_a_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _refused_login(argv: Sequence[str]) -> bool:
    """``login`` with ``--manual`` (in any spelling argparse would take), or without a terminal: whatever else
    the arguments say, the gate is the only door."""
    if argv[:1] != ["login"]:
        return False
    manual = any(arg == "--manual" or (arg.startswith("--m") and "--manual".startswith(arg)) for arg in argv[1:])
    asks_help = any(arg in ("-h", "--help") for arg in argv[1:])
    return manual or not (asks_help or _at_a_terminal())


REFUSAL = {
    "status": "refused",
    "reason": "use_gate",
    "tools": list(GATE_TOOLS),
    "command": LOGIN_COMMAND,
    "message": (
        "Logins go through the site gate: call the MCP tools preflight, then choose_site with the user's reply "
        f"to the site menu, then auth_login_manual; or the user types {LOGIN_COMMAND} with the site they "
        "choose, in a terminal of their own."
    ),
}
"""Never with a site in it: the command is the user's to type, with the site the user chooses."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="OKX's okx-auth command line, served from the okx-auth-mcp session (set OKX_AUTH_BIN to it).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{token,status,logout,login}")
    token = commands.add_parser("token", help="write the access token to fd 3 (a pipe only)")
    token.set_defaults(run=_token)
    status = commands.add_parser("status", help="the login status from local state")
    status.add_argument("--json", action="store_true", help="one line of JSON")
    lang_option(status)
    status.set_defaults(run=_status)
    logout = commands.add_parser("logout", help="log out (as okx-auth-mcp logout)")
    lang_option(logout)
    logout.set_defaults(run=_logout)
    login = commands.add_parser("login", help="refused for agents: the MCP tools' site gate is the only door")
    login.add_argument("--manual", action="store_true", help="what an agent runs: always refused")
    login.add_argument("--site", type=site_argument, metavar="SITE", help="the site the user typed")
    lang_option(login)
    login.set_defaults(run=_login)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    encodable_output()
    given = sys.argv[1:] if argv is None else list(argv)
    if _refused_login(given):
        print(json.dumps(REFUSAL))
        return EXIT_REFUSED
    args = _parser().parse_args(given)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        report(exc, "config_error", "fix the setting named")
        return EXIT_UNUSABLE
    except KNOWN_FAILURES as exc:
        report(exc)
        return EXIT_UNUSABLE if error_code(exc) in STATE_CODES else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
