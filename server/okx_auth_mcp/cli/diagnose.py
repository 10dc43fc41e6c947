"""``diagnose``: the read-only checklist (clock, network, proxy, config, login state)."""

from __future__ import annotations

import argparse
import json

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_OK, guarded, lang_of, lang_option, service


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError("must be a number of seconds above 0, at most 60")
    return value


@guarded
def _diagnose(args: argparse.Namespace) -> int:
    from okx_auth_mcp.login.diagnose import ProbeOptions, diagnose  # the probes load only for this command

    options = ProbeOptions() if args.timeout is None else ProbeOptions(timeout=args.timeout)
    with service() as svc:
        found = diagnose(svc, options)
    lang = lang_of(args)
    print(json.dumps(found.view(lang), ensure_ascii=False, indent=1) if args.json else found.render(lang))
    return EXIT_FAILED if found.failed else EXIT_OK


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    lang_option(diagnose)
    diagnose.set_defaults(run=_diagnose)
