"""``status``, ``logout`` and ``token``: the session, checked once, ended, or handed to another program."""

from __future__ import annotations

import argparse
import json
import sys

from okx_auth_mcp.cli.common import (
    EXIT_FAILED,
    EXIT_NOT_LOGGED_IN,
    EXIT_OK,
    EXIT_REFRESH_FAILED,
    guarded,
    lang_of,
    lang_option,
    report,
    service,
)
from okx_auth_mcp.core import replies, texts
from okx_auth_mcp.core.oauth_errors import InvalidGrant, OAuthError
from okx_auth_mcp.core.replies import LOGIN_COMMAND
from okx_auth_mcp.login.errors import NotLoggedIn
from okx_auth_mcp.login.refusals import error_code, terminal_next
from okx_auth_mcp.login.service import AuthService


@guarded
def _status(args: argparse.Namespace) -> int:
    with service() as svc:
        profile = svc.api_key_profile_name()
        state = svc.status()
        storage = svc.token_storage()
    if args.json:
        view = {
            "status": state.status,
            "site": state.site,
            "scopes": state.scopes,
            "reason": state.reason,
            "api_key_profile": profile,
            "storage": storage,
        }
        print(json.dumps(view, ensure_ascii=False))
        return EXIT_OK if state.status == "logged_in" else EXIT_FAILED
    if profile is None:
        print(replies.status(lang_of(args), state, "terminal"))
    else:  # the key is what OKX's tools use: no hint to log in, which would be skipped anyway
        print(texts.api_key_configured(profile))
        lang = lang_of(args)
        ended = state.status == "not_logged_in"
        print(texts.login_ended(lang, state.reason) if ended else replies.status(lang, state, "terminal"))
    if storage is not None:
        print(f"Token storage: {storage}")
    return EXIT_OK if state.status == "logged_in" else EXIT_FAILED


@guarded
def _logout(args: argparse.Namespace) -> int:
    with service() as svc:
        svc.logout()
    print(replies.logged_out(lang_of(args)))
    return EXIT_OK


def token_or_exit_code(svc: AuthService) -> str | int:
    """The access token (refreshed first when near expiry), or the exit code after a one-line report: not
    logged in (2), the refresh failed (3)."""
    try:
        return svc.bearer_token()
    except NotLoggedIn as exc:
        report(exc)
        return EXIT_NOT_LOGGED_IN
    except InvalidGrant as exc:
        report(exc, "session_expired", f"the session has ended and was removed; log in again: {LOGIN_COMMAND}")
        return EXIT_REFRESH_FAILED
    except OAuthError as exc:
        report(exc, next_step=f"{terminal_next(error_code(exc), 'retry later')}; the session is kept")
        return EXIT_REFRESH_FAILED


@guarded
def _token(args: argparse.Namespace) -> int:
    with service() as svc:
        token = token_or_exit_code(svc)
    if isinstance(token, int):
        return token
    sys.stdout.write(token + "\n")
    return EXIT_OK


def add_status(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = commands.add_parser("status", help="check the OKX login once (exit 0 when logged in)")
    status.add_argument("--json", action="store_true", help="one JSON object: status, site, scopes, reason")
    lang_option(status)
    status.set_defaults(run=_status)


def add_logout_and_token(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    logout = commands.add_parser("logout", help="log out of OKX (revokes the session, keeps the registration)")
    lang_option(logout)
    logout.set_defaults(run=_logout)

    token = commands.add_parser(
        "token", help="print a valid access token for other tools (exit 2: not logged in, 3: refresh failed)"
    )
    token.set_defaults(run=_token)
