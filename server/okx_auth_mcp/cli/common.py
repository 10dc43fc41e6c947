"""What every command shares: exit codes, the language, one-line failure reports, the service.

stdout carries a command's result only (a text, JSON, or for ``token`` the token alone); progress and errors go
to stderr, one line each, never a traceback, never a token, secret key or passphrase.

Exit codes::

    0    done; status: logged in
    1    status: not logged in (or pending); login: ended without a session (expired, denied); a refusal
         or a failure of the network, the server or the state directory; config init: nothing written (the
         profile exists, the input ended); config remove: not removed (another answer, no terminal and no
         --yes, the file changed meanwhile)
         diagnose: a check failed (warnings alone exit 0)
    2    bad arguments or an unusable configuration (every command); token: not logged in (or pending)
    3    token: the refresh failed: the server ended the session (invalid_grant and the like: the session
         is deleted, log in again) or the refresh could not complete (network, server error: kept, retry)
         config init: the key was saved, and OKX rejected it
    4    config init: the key was saved, and could not be checked (the network, the clock ...)
    130  interrupted with Ctrl-C (login: the pending login is cancelled locally)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping

from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.backends import open_service
from okx_auth_mcp.login.refusals import KNOWN_FAILURES, terminal_line
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = EXIT_NOT_LOGGED_IN = 2
EXIT_REFRESH_FAILED = 3
EXIT_INTERRUPTED = 130


def default_lang(environ: Mapping[str, str]) -> Lang:
    """Chinese when the locale says so (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def lang_of(args: argparse.Namespace) -> Lang:
    chosen: Lang | None = args.lang
    return chosen or default_lang(os.environ)


def lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang", choices=["zh", "en"], default=None, help="the texts' language (default: from LANG, else en)"
    )


def encodable_output() -> None:
    """A locale whose encoding lacks a character of a text (Chinese under ``LANG=C`` with ASCII streams) gets
    an escape in its place, not a crash: stderr does so already (Python's default), stdout from here on."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def report(exc: Exception, code: str | None = None, next_step: str | None = None) -> None:
    """The failure's one line on stderr; a stderr that is gone (a closed pipe) loses the line, never the exit
    code the caller reads."""
    with contextlib.suppress(OSError):
        print(terminal_line(exc, code, next_step), file=sys.stderr, flush=True)


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A known failure becomes one line on stderr and exit 1."""

    @functools.wraps(run)
    def guarded_run(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KNOWN_FAILURES as exc:
            report(exc)
            return EXIT_FAILED

    return guarded_run


@contextlib.contextmanager
def service() -> Iterator[AuthService]:
    """The service for the environment's settings and backend, closed afterwards."""
    opened = open_service(Settings.from_env())
    try:
        yield opened
    finally:
        opened.close()
