"""``config init``: an API key saved where OKX's tools read it (``$OKX_HOME/config.toml``, 0600, as the profile
``default_profile`` names), then checked once with OKX (``login.api_key_setup``).

At a terminal it asks (``cli.config_wizard``). Without one (stdin is no TTY) or with ``--non-interactive``,
everything comes from the flags (``--site``, ``--demo`` or ``--live``, ``--profile``, ``--replace``) and the key
from the environment only (``OKX_API_KEY``, ``OKX_SECRET_KEY``, ``OKX_PASSPHRASE``): no flag takes a secret,
since arguments land in shell history and ``ps``. Every value is checked before anything is written, and a
config file that could not be written (not TOML, another user's, writable by others) is refused before the first
question. Nothing secret is ever printed or logged.

Exit codes::

    0    saved, and OKX accepted the key
    1    nothing written: the profile exists (and --replace was not given), or the input ended at a question
    2    nothing written: bad arguments, a value that does not fit, a missing OKX_* variable, or a config file
         that cannot be used ([config_error])
    3    saved, but OKX rejected the key (the two options follow)
    4    saved, but the key could not be checked (the network, the clock ...): it stays saved
    130  Ctrl-C: at a question, nothing written; while saving or checking, ``config show`` tells what was
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, lang_of, lang_option, report
from okx_auth_mcp.cli.config_wizard import Answers, Given, ask_profile
from okx_auth_mcp.cli.login import site_argument
from okx_auth_mcp.cli.prompts import InputEnded, say
from okx_auth_mcp.core import terminal_texts as words
from okx_auth_mcp.core import texts
from okx_auth_mcp.core.api_keys import KeyRejected, Verified
from okx_auth_mcp.core.okx_config_edit import (
    FieldName,
    NewProfile,
    ProfileExists,
    default_profile_name,
    problem_message,
    problem_of,
)
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.sites import SITE_LIST
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.api_key_setup import Saved, file_profiles, save_and_verify
from okx_auth_mcp.login.refusals import error_code, terminal_line, terminal_next
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.login.verify import api_client

EXIT_KEY_REJECTED = 3
EXIT_UNCHECKED = 4
SECRET_FIELDS: dict[str, FieldName] = {
    "OKX_API_KEY": "api_key",
    "OKX_SECRET_KEY": "secret_key",
    "OKX_PASSPHRASE": "passphrase",
}
"""Where ``--non-interactive`` reads each value (``terminal_texts.ENV_SECRETS``), and its field."""
UNCHECKED_NEXT = {
    "site_host_mismatch": f"if the key was created on another site, run {words.INIT_COMMAND} again with that site",
    "clock_skew": "turn on automatic time (network time sync); okx-auth-mcp diagnose shows how",
    "okx_error": f"do what the code's meaning says (run {words.INIT_COMMAND} again to change the profile)",
}
DIAGNOSE = "okx-auth-mcp diagnose checks this computer's clock, the network and the config"


class Refused(Exception):
    """Nothing was written: the one-line report's code, next step and the exit code."""

    def __init__(self, message: str, code: str, next_step: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code
        self.next_step = next_step
        self.exit_code = exit_code


def _config_init(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    given = Given(args.site, args.demo, args.profile, args.replace)
    interactive = not args.non_interactive and sys.stdin.isatty()
    try:
        svc = AuthService(Settings.from_env())
    except ConfigError as exc:
        report(exc, "config_error", _CONFIG_NEXT)
        return EXIT_USAGE
    try:
        return _run(svc, lang, given, interactive, args.json)
    finally:
        svc.close()


def _run(svc: AuthService, lang: Lang, given: Given, interactive: bool, as_json: bool) -> int:
    try:
        answers = ask_profile(lang, given, file_profiles(svc)) if interactive else _from_environment(given, svc)
    except KeyboardInterrupt:
        say("\n" + words.cancelled(lang))
        return EXIT_INTERRUPTED
    except InputEnded as exc:
        report(exc, "input_ended", _INPUT_NEXT)
        return EXIT_FAILED
    except Refused as exc:
        report(exc, exc.code, exc.next_step)
        return exc.exit_code
    except ConfigError as exc:
        report(exc, "config_error", _CONFIG_NEXT)
        return EXIT_USAGE
    try:
        saved = save_and_verify(svc, api_client(svc), time.time, answers.profile, replace=answers.replace)
    except ProfileExists as exc:  # another program added it since
        report(exc, "profile_exists", _exists_next(answers.profile.name))
        return EXIT_FAILED
    except ConfigError as exc:  # the writer's refusals say that the file was not changed
        report(exc, "config_error", "fix what the message names, then run it again")
        return EXIT_USAGE
    except KeyboardInterrupt:
        say("\n" + words.interrupted_saving(lang))
        return EXIT_INTERRUPTED
    why = None if saved.check_error is None else _why_unchecked(saved)
    if as_json:
        print(json.dumps(saved_view(saved, answers.profile, why)))
    else:
        print(_saved_text(lang, saved, answers.profile, why, from_environment=not interactive))
    if isinstance(saved.outcome, Verified):
        return EXIT_OK
    return EXIT_KEY_REJECTED if isinstance(saved.outcome, KeyRejected) else EXIT_UNCHECKED


_CONFIG_NEXT = "fix what the message names, then run it again; nothing was written"
_INPUT_NEXT = (
    f"run {words.INIT_COMMAND} at a terminal, or with --non-interactive and the key in "
    f"{', '.join(words.ENV_SECRETS)}; nothing was written"
)


def _exists_next(name: str) -> str:
    return f"add --replace to replace profile {name}, or choose another --profile; nothing was written"


def _from_environment(given: Given, svc: AuthService) -> Answers:
    """The profile from the flags and the key from the environment: each missing or unfit one is refused."""
    missing = [] if given.site else [f"--site ({SITE_LIST}: there is no default)"]
    missing += [] if given.demo is not None else ["--demo or --live (there is no default)"]
    if missing:
        raise Refused(
            f"without a terminal, config init needs {' and '.join(missing)}", "usage", "add them; nothing was written"
        )
    assert given.site is not None and given.demo is not None
    environ = svc.settings.environ
    values = _secrets(environ)
    existing = file_profiles(svc)
    name = given.profile or default_profile_name(given.demo)
    if name in existing and not given.replace:
        raise Refused(f"a profile named {name} exists", "profile_exists", _exists_next(name), EXIT_FAILED)
    profile = NewProfile(name, given.site, given.demo, *values)
    return Answers(profile.checked(), name in existing)


def _secrets(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """``OKX_API_KEY``, ``OKX_SECRET_KEY``, ``OKX_PASSPHRASE``: set, and each fit for its field."""
    missing = [variable for variable in SECRET_FIELDS if not environ.get(variable)]
    if missing:
        raise Refused(
            f"{' and '.join(missing)} not set: without a terminal the key is read from the environment only",
            "secret_missing",
            f"export {', '.join(words.ENV_SECRETS)} (never as arguments: they land in shell history and ps), then "
            "run it again; nothing was written",
        )
    for variable, field_name in SECRET_FIELDS.items():
        problem = problem_of(field_name, environ[variable])
        if problem is not None:
            raise Refused(
                f"{variable}: {problem_message(field_name, problem)}",
                "invalid_value",
                f"set {variable} to the value OKX showed when the key was created; nothing was written",
            )
    api_key, secret_key, passphrase = (environ[variable] for variable in SECRET_FIELDS)
    return api_key, secret_key, passphrase


def _why_unchecked(saved: Saved) -> str:
    """The terminal line of the failure that stopped the check."""
    assert saved.check_error is not None
    code = error_code(saved.check_error)
    next_step = UNCHECKED_NEXT.get(code) or terminal_next(code, DIAGNOSE)
    return terminal_line(saved.check_error, code, words.unchecked_next(saved.profile, next_step))


def saved_view(saved: Saved, profile: NewProfile, why: str | None) -> dict[str, Any]:
    """``--json``'s object: where the profile went and what OKX said of its key; never a secret."""
    view: dict[str, Any] = {
        "status": "saved",
        "profile": saved.profile,
        "path": str(saved.written.path),
        "backup": None if saved.written.backup is None else str(saved.written.backup),
        "replaced": saved.written.replaced,
        "default_profile": saved.profile,
        "site": profile.site,
        "demo": profile.demo,
    }
    outcome = saved.outcome
    if isinstance(outcome, Verified):
        view |= {"verified": "ok", "uid": outcome.uid, "permissions": list(outcome.permissions)}
        if outcome.clock_offset_ms is not None:
            view["clock_offset_ms"] = outcome.clock_offset_ms
    elif isinstance(outcome, KeyRejected):
        view |= {"verified": "rejected", "code": outcome.code}
    else:
        view |= {"verified": "unchecked", "error": why}
    return view


def _saved_text(lang: Lang, saved: Saved, profile: NewProfile, why: str | None, *, from_environment: bool) -> str:
    written = saved.written
    backup = None if written.backup is None else str(written.backup)
    parts = [words.saved(lang, saved.profile, str(written.path), backup, written.replaced)]
    if not saved.in_effect:
        parts.append(words.overridden(lang, saved.profile, from_environment))
    outcome = saved.outcome
    if isinstance(outcome, Verified):
        verified = texts.credentials_verified(
            lang, outcome.profile, outcome.site, outcome.uid, outcome.permissions, outcome.demo
        )
        if outcome.clock_offset_ms is not None:
            verified += "\n" + texts.clock_advice(lang, outcome.clock_offset_ms)
        parts.append(verified)
    elif isinstance(outcome, KeyRejected):
        parts.append(words.rejected(lang, outcome.profile, outcome.site, outcome.code))
    else:
        assert why is not None
        parts.append(words.unchecked(lang, why))
    return "\n\n".join(parts)


def profile_argument(value: str) -> str:
    """``--profile``: a name that is a bare TOML key and an ``okx --profile`` argument."""
    problem = problem_of("name", value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem_message("name", problem))
    return value


def add_commands(config_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = config_commands.add_parser(
        "init",
        help="save an API key as a profile (asked at a terminal; secrets hidden), then check it with OKX",
        description="Asks at a terminal. Without one, or with --non-interactive: --site, --demo or --live, and the "
        f"key from the environment only ({', '.join(words.ENV_SECRETS)}); no option takes a secret.",
        epilog="Exit codes: 0 saved, and OKX accepted the key; 1 nothing written (the profile exists, the input "
        "ended); 2 nothing written (bad arguments or values, a missing variable, an unusable config file); 3 saved, "
        "OKX rejected the key; 4 saved, the key could not be checked; 130 Ctrl-C.",
    )
    init.add_argument(
        "--site", type=site_argument, metavar="SITE", help=f"the OKX site of the key: {SITE_LIST} (there is no default)"
    )
    mode = init.add_mutually_exclusive_group()
    mode.add_argument("--demo", dest="demo", action="store_const", const=True, help="a demo-trading key")
    mode.add_argument("--live", dest="demo", action="store_const", const=False, help="a live-trading key")
    init.add_argument(
        "--profile", type=profile_argument, metavar="NAME", help="the profile's name (default: okx-demo or okx-prod)"
    )
    init.add_argument("--replace", action="store_true", help="replace a profile of that name (else it is refused)")
    init.add_argument(
        "--non-interactive", action="store_true", help="ask nothing: the flags, and the key from the environment"
    )
    init.add_argument("--json", action="store_true", help="the result as one JSON object on stdout")
    lang_option(init)
    init.set_defaults(run=_config_init, demo=None)
