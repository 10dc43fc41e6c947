"""``okx-auth-mcp``: the command line. Each command family is a module of this package with its own
``add_commands``: ``serve`` (serve, sandbox, demo), ``login``, ``session`` (status, logout, token),
``config_show`` (config show), ``config_init`` (config init), ``config_remove`` (config remove),
``diagnose``, ``broker`` (broker ...). Exit codes: ``cli.common``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from okx_auth_mcp import __version__
from okx_auth_mcp.cli import broker, config_init, config_remove, config_show, diagnose, login, serve, session
from okx_auth_mcp.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, encodable_output
from okx_auth_mcp.core.okx_profiles import ConfigError

DEFAULT_COMMAND = "serve"
OWN_OPTIONS = ("-h", "--help", "--version")
"""The options of ``okx-auth-mcp`` itself. Any other first argument that is an option belongs to the default
command: ``okx-auth-mcp --sandbox`` is ``okx-auth-mcp serve --sandbox``."""


def with_command(argv: Sequence[str]) -> list[str]:
    """``argv`` with the default command named when it starts with none: no arguments, or an option other than
    ``okx-auth-mcp``'s own (which argparse then checks against ``serve``'s, so an unknown one is still refused)."""
    if not argv or (argv[0].startswith("-") and argv[0] not in OWN_OPTIONS):
        return [DEFAULT_COMMAND, *argv]
    return list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="okx-auth-mcp",
        description="Sign a user into OKX safely, over MCP. With no command, or only options of serve, it runs serve.",
        allow_abbrev=False,  # an abbreviation of --help or --version would be taken for an option of serve
    )
    parser.add_argument("--version", action="version", version=f"okx-auth-mcp {__version__}")
    commands = parser.add_subparsers(dest="command")
    serve.add_commands(commands)
    session.add_status(commands)
    login.add_commands(commands)
    session.add_logout_and_token(commands)
    config_commands = config_show.add_commands(commands)
    config_init.add_commands(config_commands)
    config_remove.add_commands(config_commands)
    diagnose.add_commands(commands)
    broker.add_commands(commands)

    encodable_output()
    args = parser.parse_args(with_command(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"okx-auth-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # Ctrl-C: the usual exit status, without a traceback
