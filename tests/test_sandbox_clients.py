"""The sandbox's registered clients: ``--client ID[:SECRET]=REDIRECT_URI`` read and checked, repeated options
merged, the redirect URI rule (exact, but any port for a 127.0.0.1 or [::1] redirect), and the ``sandbox``
command serving the clients it was given."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx2
import pytest

from okx_auth_mcp.sandbox.clients import SandboxClient, merged_clients, parse_client_option, redirect_matches
from tests.code_flow import authorize_url, pkce
from tests.helpers import free_port, run_cli


def test_a_client_option_with_a_secret_is_a_confidential_client_and_without_one_a_public_one() -> None:
    desk = parse_client_option("desk:s3:cr=https://desk.example/cb?x=1")
    assert (desk.client_id, desk.secret, desk.redirect_uris) == ("desk", "s3:cr", ("https://desk.example/cb?x=1",))
    pocket = parse_client_option("pocket=http://127.0.0.1/callback")
    assert (pocket.secret, pocket.confidential, pocket.redirect_uris) == (None, False, ("http://127.0.0.1/callback",))
    assert "s3:cr" not in repr(desk)


def test_a_secret_ends_at_the_first_equals_sign_so_the_redirect_may_hold_one() -> None:
    desk = parse_client_option("desk:secret=https://desk.example/cb?tenant=7")
    assert (desk.secret, desk.redirect_uris) == ("secret", ("https://desk.example/cb?tenant=7",))


@pytest.mark.parametrize(
    ("option", "why"),
    [
        ("desk", "expected ID[:SECRET]=REDIRECT_URI"),
        ("desk=", "expected ID[:SECRET]=REDIRECT_URI"),
        ("=https://desk.example/cb", "printable, with no space"),
        ("my desk=https://desk.example/cb", "printable, with no space"),
        ("desk:=https://desk.example/cb", "an empty secret"),
        ("desk=/callback", "not an absolute URI"),
        ("desk=https://desk.example/cb#top", "fragment"),
        ("desk=https://me@desk.example/cb", "user information"),
        ("desk=http://desk.example/cb", "plain http only on loopback"),
        ("desk=http://127.0.0.1:port/cb", "not an absolute URI"),
    ],
)
def test_a_client_option_that_does_not_fit_is_refused_saying_why(option: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_client_option(option)


def test_options_for_one_client_add_its_redirect_uris_and_a_name() -> None:
    options = [
        parse_client_option("desk:s=https://desk.example/a"),
        parse_client_option("pocket=http://127.0.0.1/cb"),
        parse_client_option("desk:s=https://desk.example/b"),
        parse_client_option("desk:s=https://desk.example/a"),
    ]
    desk, pocket = merged_clients(options, {"desk": "Acme Trading Desk"})
    assert desk == SandboxClient("desk", "Acme Trading Desk", "s", ("https://desk.example/a", "https://desk.example/b"))
    assert pocket.title == "pocket"


def test_options_that_disagree_on_a_secret_or_name_no_client_are_refused() -> None:
    with pytest.raises(ValueError, match="two different secrets"):
        merged_clients([parse_client_option("d:s=https://d.example/a"), parse_client_option("d=https://d.example/b")])
    with pytest.raises(ValueError, match="no --client nobody"):
        merged_clients([parse_client_option("d=https://d.example/a")], {"nobody": "Nobody"})


@pytest.mark.parametrize(
    ("registered", "asked", "matches"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:1/callback", True),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1/callback", True),
        ("http://[::1]:8080/callback", "http://[::1]:9/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:8080/callback#x", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:99999/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.2:8080/callback", False),
        ("http://localhost/callback", "http://localhost/callback", True),
        ("http://localhost/callback", "http://localhost:8080/callback", False),
        ("https://desk.example/cb", "https://desk.example/cb", True),
        ("https://desk.example/cb", "https://desk.example:443/cb", False),
    ],
)
def test_a_redirect_matches_exactly_or_at_another_port_on_a_loopback_ip(
    registered: str, asked: str, matches: bool
) -> None:
    assert redirect_matches(registered, asked) is matches


def test_the_sandbox_command_refuses_a_client_option_that_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, "sandbox", "--client", "desk=http://desk.example/cb")
    assert exited.value.code == 2
    assert "plain http only on loopback" in capsys.readouterr().err
    code, out, err = run_cli(
        capsys, "sandbox", "--client", "d:a=https://d.example/x", "--client", "d:b=https://d.example/y"
    )
    assert (code, out) == (2, "")
    assert err == "okx-auth-mcp: --client: client 'd' is given two different secrets (or one and none)\n"


def test_the_sandbox_command_serves_the_clients_and_the_site_it_was_given_and_never_prints_a_secret() -> None:
    port = free_port()
    argv = ["sandbox", "--port", str(port), "--client", "desk:Desk-Secret-1=https://desk.example/cb"]
    argv += ["--client", "pocket=http://127.0.0.1/callback", "--client-name", "desk=Acme Trading Desk", "--site", "eea"]
    proc = subprocess.Popen([sys.executable, "-m", "okx_auth_mcp", *argv], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        issuer = f"http://127.0.0.1:{port}"
        assert lines == [
            f"OKX sandbox authorization server on {issuer}  (Ctrl-C stops it)\n",
            "Client desk 'Acme Trading Desk', confidential (client_secret_basic or _post): redirect "
            "https://desk.example/cb\n",
            "Client pocket, public (PKCE, no secret): redirect http://127.0.0.1/callback\n",
            f"Authorization endpoint: {issuer}/oauth/authorize\n",
            f"Use it: OKX_OAUTH_ISSUER={issuer} okx-auth-mcp serve\n",
        ]
        desk = SandboxClient("desk")
        page = httpx2.get(authorize_url(issuer, desk, "https://desk.example/cb", pkce()), timeout=5)
        assert (
            page.status_code == 200 and "Authorize Acme Trading Desk" in page.text and "EEA (my.okx.com)" in page.text
        )
        pocket = httpx2.get(authorize_url(issuer, SandboxClient("pocket"), "http://127.0.0.1:4711/callback", pkce()))
        assert pocket.status_code == 200 and "Authorize pocket" in pocket.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
