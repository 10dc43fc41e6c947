"""``serve`` (the MCP server, stdio or Streamable HTTP, optionally on an in-process sandbox), ``sandbox`` (the
embedded authorization server alone) and ``demo``: the only commands that import the MCP wiring and the
sandbox, each on first use."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from okx_auth_mcp.cli.common import EXIT_FAILED, EXIT_USAGE
from okx_auth_mcp.core.sites import SITE_IDS
from okx_auth_mcp.login.settings import Settings

if TYPE_CHECKING:
    import socket

    from okx_auth_mcp.sandbox.clients import SandboxClient
    from okx_auth_mcp.sandbox.runner import RunningSandbox


def _serve(args: argparse.Namespace) -> int:
    from okx_auth_mcp.mcp.server import create_server

    settings = Settings.from_env()
    with contextlib.ExitStack() as stack:
        sockets: list[socket.socket] = []
        if args.http:  # listening first: a refused host or a taken port starts nothing
            from okx_auth_mcp.edges.loopback import NotLoopback, bind

            try:
                sockets = bind(args.host, args.port)
            except NotLoopback as exc:
                print(f"okx-auth-mcp: --host {exc}", file=sys.stderr)
                return EXIT_USAGE
            except OSError as exc:
                reason = exc.strerror or str(exc)
                print(f"okx-auth-mcp: cannot listen on {args.host} port {args.port}: {reason}", file=sys.stderr)
                return EXIT_FAILED
            for sock in sockets:
                stack.callback(sock.close)
        if args.sandbox:
            settings = _sandboxed(settings, stack, args.sandbox_port)
        server = create_server(settings)
        if not args.http:
            server.run("stdio")
            return 0
        from okx_auth_mcp.mcp.http_transport import serve_http

        def announce(urls: list[str]) -> None:
            where = " and ".join(urls)
            print(f"okx-auth-mcp: MCP over Streamable HTTP at {where}  (Ctrl-C stops it)", file=sys.stderr, flush=True)

        serve_http(server, sockets, announce)
    return 0


def _sandboxed(settings: Settings, stack: contextlib.ExitStack, port: int) -> Settings:
    """Settings for a sandbox session, which never mixes with a real one: its own issuer, its own short-lived
    state directory, no API-key profile from the real ~/.okx (a key would, rightly, stop the OAuth login),
    API-key requests (a key saved on setup_api_key's page is verified) sent to the sandbox, never to OKX,
    and the native backend (OKX's CLI would log in at OKX, not at the sandbox). With OKX_AUTH_BROKER_TOOLS=1, a
    broker with sub-accounts in the sandbox and its profile in the session's config file. With OKX_OAUTH_GRANT=pkce or
    code, the configured app is registered in the sandbox (its loopback redirect at any port), as OKX registers
    an institution's."""
    from okx_auth_mcp.sandbox.clients import SandboxClient
    from okx_auth_mcp.sandbox.runner import RunningSandbox
    from okx_auth_mcp.sandbox.state import SandboxConfig

    clients: tuple[SandboxClient, ...] = ()
    if settings.grant != "device" and settings.client_id is not None:
        redirect = settings.redirect.registered()
        clients = (SandboxClient(settings.client_id, "okx-auth-mcp", settings.client_secret, (redirect,)),)
    sandbox = stack.enter_context(RunningSandbox(SandboxConfig(clients=clients), port=port))
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="okx-sbx-")))
    print(f"okx-auth-mcp: sandbox authorization server at {sandbox.url}", file=sys.stderr, flush=True)
    environ = {k: v for k, v in settings.environ.items() if not k.startswith("OKX_")}
    environ["OKX_HOME"] = str(tmp / "okx-home")
    environ["OKX_API_BASE_URL"] = sandbox.url
    sandboxed = replace(
        settings, state_dir=tmp / "state", environ=environ, issuer_override=sandbox.url, backend="native"
    )
    if settings.broker_tools:
        sandboxed = replace(sandboxed, broker_profile=_sandbox_broker(sandbox, environ))
    return sandboxed


SANDBOX_BROKER_PROFILE = "sandbox-broker"


def _sandbox_broker(sandbox: RunningSandbox, environ: dict[str, str]) -> str:
    """A DMA broker in the sandbox, with two sub-accounts, and its key as a profile of the session's own
    (throw-away) config file: the broker tools then work offline."""
    import secrets

    from okx_auth_mcp.core.okx_config_edit import NewProfile
    from okx_auth_mcp.edges.okx_config_writer import save_profile

    api_key, secret_key, passphrase = (
        secrets.token_hex(16),
        secrets.token_hex(16).upper(),
        "Sbx#" + secrets.token_hex(6),
    )
    sandbox.state.add_api_key(api_key, secret_key, passphrase, broker="dma", uid="11112222333344")
    for name, uid in (("sandboxDesk1", "289000001696"), ("sandboxDesk2", "289000007777")):
        sandbox.state.add_subaccount(api_key, name, uid=uid, label="sandbox")
    save_profile(environ, NewProfile(SANDBOX_BROKER_PROFILE, "global", False, api_key, secret_key, passphrase))
    print(
        f"okx-auth-mcp: sandbox broker profile {SANDBOX_BROKER_PROFILE} with sub-accounts sandboxDesk1, sandboxDesk2",
        file=sys.stderr,
        flush=True,
    )
    return SANDBOX_BROKER_PROFILE


def _client_option(value: str) -> SandboxClient:
    """``--client ID[:SECRET]=REDIRECT_URI``, checked as the option is read."""
    from okx_auth_mcp.sandbox.clients import parse_client_option

    try:
        return parse_client_option(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _client_name_option(value: str) -> tuple[str, str]:
    client_id, equals, name = value.partition("=")
    if not client_id or not equals or not name.strip() or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{value!r}: expected ID=NAME")
    return client_id, name.strip()


def _describe(client: SandboxClient) -> str:
    """A registered client in one line, without its secret."""
    kind = "confidential (client_secret_basic or _post)" if client.confidential else "public (PKCE, no secret)"
    named = f" {client.name!r}" if client.name else ""
    return f"Client {client.client_id}{named}, {kind}: redirect {', '.join(client.redirect_uris)}"


def _sandbox(args: argparse.Namespace) -> int:
    from okx_auth_mcp.sandbox.clients import merged_clients
    from okx_auth_mcp.sandbox.consent import AUTHORIZE_PATH
    from okx_auth_mcp.sandbox.runner import RunningSandbox
    from okx_auth_mcp.sandbox.state import SandboxConfig

    try:
        clients = merged_clients(args.client, dict(args.client_name))
    except ValueError as exc:
        print(f"okx-auth-mcp: --client: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config = SandboxConfig(
        access_ttl=args.access_ttl,
        refresh_ttl=args.refresh_ttl,
        device_code_ttl=args.code_ttl,
        interval=args.interval,
        clients=clients,
    )
    with RunningSandbox(config, port=args.port) as sandbox:
        sandbox.state.site = args.site
        print(f"OKX sandbox authorization server on {sandbox.url}  (Ctrl-C stops it)")
        for client in clients:
            print(_describe(client))
        if clients:
            print(f"Authorization endpoint: {sandbox.url}{AUTHORIZE_PATH}")
        print(f"Use it: OKX_OAUTH_ISSUER={sandbox.url} okx-auth-mcp serve")
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from okx_auth_mcp.cli.demo import run_demo

    return run_demo(lang=args.lang)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the MCP server over stdio (the default) or Streamable HTTP")
    serve.add_argument("--sandbox", action="store_true", help="use an in-process sandbox instead of OKX")
    serve.add_argument("--sandbox-port", type=int, default=0, help="the sandbox's port (default: any free one)")
    serve.add_argument("--http", action="store_true", help="serve Streamable HTTP at http://HOST:PORT/mcp")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="with --http: a loopback address, or localhost for both 127.0.0.1 and ::1 (default 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8765, help="with --http: the port (default 8765; 0: any free)")
    serve.set_defaults(run=_serve)

    sandbox = commands.add_parser("sandbox", help="run the sandbox authorization server on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8766)
    sandbox.add_argument("--access-ttl", type=int, default=3600, help="access token lifetime, seconds")
    sandbox.add_argument("--refresh-ttl", type=int, default=3 * 24 * 3600, help="refresh token lifetime, seconds")
    sandbox.add_argument("--code-ttl", type=int, default=600, help="device code lifetime, seconds")
    sandbox.add_argument("--interval", type=int, default=5, help="device polling interval, seconds")
    sandbox.add_argument(
        "--site",
        choices=SITE_IDS,
        default="global",
        help="the OKX site the sandbox plays: its pages name it, and it accepts API keys of that site (default global)",
    )
    sandbox.add_argument(
        "--client",
        action="append",
        type=_client_option,
        default=[],
        metavar="ID[:SECRET]=REDIRECT_URI",
        help="register an application for the authorization code flow: with a secret a confidential client, "
        "without one a public (PKCE) client; repeat for more clients or more redirect URIs of one. A "
        "http://127.0.0.1 or http://[::1] redirect matches at any port (RFC 8252)",
    )
    sandbox.add_argument(
        "--client-name",
        action="append",
        type=_client_name_option,
        default=[],
        metavar="ID=NAME",
        help="the name the consent page shows for client ID (default: the ID)",
    )
    sandbox.set_defaults(run=_sandbox)

    demo = commands.add_parser("demo", help="walk the whole login as an MCP client against the sandbox")
    demo.add_argument("--lang", choices=["zh", "en"], default="en")
    demo.set_defaults(run=_demo)
