"""``okx-auth-mcp broker ...``: the broker tools at a terminal, on the broker profile ``--profile`` or
OKX_AUTH_BROKER_PROFILE names (never a default). ``subaccounts``, ``fee-rates``, ``keys``, ``rebates`` and
``if-rebate`` read (``login.broker_reads``); ``create-key`` mints a sub-account key after the person at the
terminal answers the question the MCP tool asks (``login.broker_keys``): ``yes``/``是``, and for a key with
``withdraw`` a second, separate question answered ``withdraw``/``提币``. ``--yes`` answers the first question for a
script; never the second, which needs a terminal. The new secret goes into the config file only, never to the
terminal. Questions go to stderr, so ``--json`` leaves stdout to the result.

Exit codes::

    0    done (create-key: the key is saved in the config file)
    1    a refusal or a failure (OKX's code, the network, a rate limit, no usable broker profile); create-key:
         not created (another answer, no terminal and no --yes)
    2    bad arguments, or a config file that cannot be used: nothing was sent
    3    create-key: the key was created, and its secret is in the recovery file the line names
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, lang_of, lang_option, report
from okx_auth_mcp.core.broker_rules import BrokerArgumentError, BrokerError, WithdrawNotConfirmed
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login import broker_reads
from okx_auth_mcp.login.broker_client import BrokerClient, open_broker
from okx_auth_mcp.login.broker_keys import BrokerKeys, KeyQuestion, KeyRecovered, NotCreated, Outcome
from okx_auth_mcp.login.refusals import KNOWN_FAILURES
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings

EXIT_RECOVERY = 3
FAILURES: tuple[type[Exception], ...] = (*KNOWN_FAILURES, BrokerError)


def _run(call: Callable[[BrokerClient, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = Settings.from_env()
        # The store, the clock and the config are all a broker call needs: no login backend is looked for.
        service = AuthService(replace(settings, broker_profile=args.profile or settings.broker_profile))
        try:
            return call(open_broker(service), args)
        except BrokerArgumentError as exc:
            report(exc)
            return EXIT_USAGE
        except FAILURES as exc:
            report(exc)
            return EXIT_FAILED
        finally:
            service.close()

    return run


def _print(args: argparse.Namespace, data: dict[str, Any], text: str | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json or text is None else text)


def _subaccounts(client: BrokerClient, args: argparse.Namespace) -> int:
    read = broker_reads.fee_rates if args.command_name == "fee-rates" else broker_reads.subaccounts
    _print(args, read(client, args.sub_acct, args.uid, args.page, args.limit))
    return EXIT_OK


def _keys(client: BrokerClient, args: argparse.Namespace) -> int:
    _print(args, broker_reads.subaccount_keys(client, args.sub_acct, args.api_key))
    return EXIT_OK


def _rebates(client: BrokerClient, args: argparse.Namespace) -> int:
    if args.generate:
        _print(args, broker_reads.rebate_generate(client, args.begin or "", args.end or "", args.broker_type))
    else:
        _print(args, broker_reads.rebate_links(client, args.begin, args.end, args.broker_type))
    return EXIT_OK


def _if_rebate(client: BrokerClient, args: argparse.Namespace) -> int:
    _print(args, broker_reads.if_rebate(client, args.api_key, args.broker_type))
    return EXIT_OK


def _ask(question: KeyQuestion, lang: Lang) -> str:
    print(question.text(lang), end="\n> ", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _create_key(client: BrokerClient, args: argparse.Namespace) -> int:
    lang = lang_of(args)
    keys = BrokerKeys(client)
    at_terminal = sys.stdin.isatty() and sys.stderr.isatty()
    outcome: Outcome = keys.ask(args.sub_acct, args.label, args.perm, args.ip)
    while isinstance(outcome, KeyQuestion):
        if outcome.stage == "create" and args.yes:
            reply = "yes"  # the person who typed the command with --yes confirmed it
        elif at_terminal:
            reply = _ask(outcome, lang)
        else:
            needs = "the withdraw question" if outcome.stage == "withdraw" else "the question"
            report(WithdrawNotConfirmed(f"no terminal to ask {needs} at; nothing was created"))
            return EXIT_FAILED
        outcome = keys.answer(outcome.ticket, reply, lang)
    _print(args, outcome.summary(), outcome.text(lang))
    if isinstance(outcome, NotCreated):
        return EXIT_FAILED
    return EXIT_RECOVERY if isinstance(outcome, KeyRecovered) else EXIT_OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="the broker profile (default: OKX_AUTH_BROKER_PROFILE; never guessed)")
    parser.add_argument("--json", action="store_true", help="the result as one JSON object")


def _listing(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, what: str) -> None:
    listing = commands.add_parser(name, help=what, description=what.capitalize() + ".")
    listing.add_argument("--sub-acct", help="only this sub-account")
    listing.add_argument("--uid", help="only the sub-account of this UID")
    listing.add_argument("--page", type=int)
    listing.add_argument("--limit", type=int, help="results per page, at most 100")
    _common(listing)
    listing.set_defaults(run=_run(_subaccounts), command_name=name)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broker = commands.add_parser(
        "broker",
        help="OKX Broker program: sub-accounts, their fee rates and API keys; rebate reports",
        description="OKX's Broker endpoints with the broker profile's API key (--profile or OKX_AUTH_BROKER_PROFILE).",
        epilog="exit codes: 0 done; 1 a refusal or failure, or no key created; 2 bad arguments or configuration, "
        "nothing sent; 3 create-key: created, its secret in the recovery file named",
    )
    broker_commands = broker.add_subparsers(dest="broker_command", required=True)
    _listing(broker_commands, "subaccounts", "the DMA broker's sub-accounts")
    _listing(broker_commands, "fee-rates", "the DMA broker's sub-accounts' fee rates")

    create = broker_commands.add_parser(
        "create-key",
        help="create an API key for a sub-account, after you confirm; the secret goes into config.toml",
        description="Create an API key for a DMA sub-account (read_only unless you add --perm), after you confirm. "
        "The passphrase is generated; the secret key and passphrase go into OKX's config.toml as profile "
        "sub-SUBACCT-LABEL, never to the terminal.",
    )
    create.add_argument("sub_acct", metavar="SUBACCT")
    create.add_argument("label", metavar="LABEL", help="the key's label: 1-50 letters or digits")
    create.add_argument("--perm", action="append", choices=["read_only", "trade", "withdraw"], help="repeatable")
    create.add_argument("--ip", action="append", help="an IP address allowed to use the key (repeatable, up to 20)")
    create.add_argument("--yes", action="store_true", help="answer the first question yes (never the withdraw one)")
    lang_option(create)
    _common(create)
    create.set_defaults(run=_run(_create_key))

    keys = broker_commands.add_parser("keys", help="a sub-account's API keys (masked)")
    keys.add_argument("sub_acct", metavar="SUBACCT")
    keys.add_argument("--api-key", help="only this key (its public part)")
    _common(keys)
    keys.set_defaults(run=_run(_keys))

    rebates = broker_commands.add_parser("rebates", help="the FD broker's rebate report links, or generate one")
    rebates.add_argument("--begin", metavar="YYYYMMDD")
    rebates.add_argument("--end", metavar="YYYYMMDD")
    rebates.add_argument("--generate", action="store_true", help="ask OKX to generate the report of --begin/--end")
    rebates.add_argument("--broker-type", choices=["api", "oauth"])
    _common(rebates)
    rebates.set_defaults(run=_run(_rebates))

    if_rebate = broker_commands.add_parser("if-rebate", help="whether a user's API key earns the FD broker a rebate")
    if_rebate.add_argument("api_key", metavar="APIKEY")
    if_rebate.add_argument("--broker-type", choices=["api", "oauth"])
    _common(if_rebate)
    if_rebate.set_defaults(run=_run(_if_rebate))
