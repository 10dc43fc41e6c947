"""``config remove NAME``: remove one API-key profile from OKX's config file (its block, and ``default_profile``
when it names it; a timestamped 0600 backup is kept), after the person at the terminal answers the question the
``remove_api_key_profile`` tool asks (``yes`` or ``是`` confirms, anything else keeps it), or with ``--yes`` (the
person typing the command confirms it). Without a terminal to ask at (stdin and stderr) and without ``--yes``,
nothing is removed. The question goes to stderr, so that ``--json`` leaves stdout to the result.

Exit codes (``cli.common``'s table)::

    0    removed
    1    not removed after the question: the answer was not yes/是, or the file changed (or became unusable)
         while the question was open; or not asked: no terminal and no --yes
    2    nothing asked: NAME is not a profile name, no such profile in the file, the environment's profile
         (env), a config file that cannot be used (not TOML, another owner, writable by others)
    130  Ctrl-C at the question
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, guarded, lang_of, lang_option, report
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.profile_removal import Kept, ProfileRemoval, Removed
from okx_auth_mcp.login.settings import Settings

NOT_CONFIRMED = "not_confirmed"


class NotAsked(Exception):
    """No terminal to ask at, and no ``--yes``."""


@guarded
def _config_remove(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    key = secrets.token_bytes(32)  # the question is asked and answered in this process
    removal = ProfileRemoval(Settings.from_env().environ, lambda: key)
    try:
        question = removal.ask(args.name)
    except ConfigError as exc:
        report(exc)
        return EXIT_USAGE
    if args.yes:
        try:
            return _print(args, lang, removal.remove_now(question.profile))
        except ConfigError as exc:
            report(exc)
            return EXIT_FAILED
    if sys.stdin.isatty() and sys.stderr.isatty():
        print(question.text(lang), end="\n> ", file=sys.stderr, flush=True)
        reply = sys.stdin.readline()
    else:
        report(
            NotAsked("no terminal to ask the question at, and no --yes; nothing was removed"),
            code=NOT_CONFIRMED,
            next_step="run it at a terminal and answer the question, or add --yes if you mean it",
        )
        return EXIT_FAILED
    try:
        outcome: Removed | Kept = removal.confirm(question.profile, question.ticket, reply)
    except ConfigError as exc:
        report(exc)
        return EXIT_FAILED
    return _print(args, lang, outcome)


def _print(args: argparse.Namespace, lang: Lang, outcome: Removed | Kept) -> int:
    print(json.dumps(outcome.summary(), ensure_ascii=False, indent=1) if args.json else outcome.text(lang))
    return EXIT_OK if isinstance(outcome, Removed) else EXIT_FAILED


def add_commands(config_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``remove`` to ``config``'s commands."""
    remove = config_commands.add_parser(
        "remove",
        help="remove one API-key profile from config.toml, after you confirm (a backup is kept)",
        description="Remove one API-key profile from OKX's config.toml after you confirm (a backup is kept).",
        epilog="exit codes: 0 removed; 1 not removed (another answer, no terminal and no --yes, the file changed "
        "meanwhile); 2 nothing asked (not a profile name, no such profile, env, an unusable file); 130 Ctrl-C",
    )
    remove.add_argument("name", metavar="NAME", help="the profile, as config show lists it")
    remove.add_argument("--yes", action="store_true", help="confirm without being asked (for scripts)")
    remove.add_argument("--json", action="store_true", help="the result as one JSON object")
    lang_option(remove)
    remove.set_defaults(run=_config_remove)
