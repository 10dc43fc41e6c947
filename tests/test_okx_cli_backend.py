"""OKX's official ``okx`` CLI as the backend: the same gate, templates and tools, with a stand-in ``okx``
(tests/stand_in/okx) that behaves as OKX's skill documents the commands, run as a real executable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.okx_cli_output import OkxCliBadOutput, OkxCliTimeout, parse_config, parse_version
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.edges.okx_cli import OkxCli
from okx_auth_mcp.login.backends import backend_note, open_service
from okx_auth_mcp.login.okx_cli_backend import OkxCliBackend
from okx_auth_mcp.login.refusals import error_text as error_text_of
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp.server import build_server
from tests.helpers import CLIENT_KINDS, FakeClock, connected, data, error_text

STAND_IN = Path(__file__).resolve().parent / "stand_in"
SCOPES = ["live:read", "live:trade"]


@dataclass
class StandIn:
    """The stand-in's state file: what it will print, and every command it ran."""

    path: Path

    def read(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return state

    def set(self, **values: Any) -> None:
        self.path.write_text(json.dumps({**self.read(), **values}), encoding="utf-8")

    def calls(self, *words: str) -> list[list[str]]:
        return [call for call in self.read().get("calls", []) if call[: len(words)] == list(words)]

    def approve(self) -> None:
        site = self.read()["auth"]["site"]
        self.set(auth={"status": "logged_in", "site": site, "scopes": SCOPES, "expiresAt": "x", "ttl": 3600})


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    state = StandIn(tmp_path / "okx-stand-in.json")
    state.path.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("OKX_STAND_IN_STATE", str(state.path))
    # The stand-in runs on this interpreter's directory's python3 too: PATH keeps the rest.
    monkeypatch.setenv("PATH", os.pathsep.join([str(STAND_IN), str(Path(sys.executable).parent), os.environ["PATH"]]))
    monkeypatch.setenv("OKX_AUTH_BACKEND", "okx-cli")
    monkeypatch.setenv("OKX_AUTH_HTTP_TIMEOUT", "5")
    return state


@pytest.fixture
def cli_service(stand_in: StandIn, clock: FakeClock) -> Iterator[AuthService]:
    service = open_service(Settings.from_env(), clock)
    assert isinstance(service.backend, OkxCliBackend)
    yield service
    service.close()


@pytest.fixture(params=CLIENT_KINDS)
async def client(request: pytest.FixtureRequest, cli_service: AuthService) -> AsyncIterator[Client]:
    """The SDK's client on the okx-cli backend's service."""
    async with connected(cli_service, str(request.param)) as joined:
        yield joined


# ----- choosing the backend -------------------------------------------------------------------------------


def test_auto_picks_the_official_cli_when_it_answers(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    assert open_service(Settings.from_env()).backend_name == "okx-cli"
    stand_in.set(fail={"status": "spawn"})
    assert open_service(Settings.from_env()).backend_name == "native"
    stand_in.set(fail={"status": "garbage"})
    assert open_service(Settings.from_env()).backend_name == "native"


def test_auto_without_okx_is_native_and_okx_cli_without_it_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    assert open_service(Settings.from_env()).backend_name == "native"
    monkeypatch.setenv("OKX_AUTH_BACKEND", "okx-cli")
    with pytest.raises(ConfigError, match="no okx on PATH"):
        open_service(Settings.from_env())
    monkeypatch.setenv("OKX_AUTH_BACKEND", "okx")
    with pytest.raises(ConfigError, match="native, okx-cli or auto"):
        Settings.from_env()


@pytest.mark.parametrize(
    "bin_path",
    [
        "/home/u/.local/bin/okx-auth-mcp-bin",
        r"C:\Users\u\AppData\Roaming\Python\Scripts\OKX-Auth-MCP-Bin.EXE",
        "okx-auth-mcp-bin.cmd",
    ],
)
def test_okx_auth_bin_naming_ours_is_native_without_running_okx(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, bin_path: str
) -> None:
    # okx's `auth` commands would run okx-auth-mcp-bin, which serves the native session: a loop.
    monkeypatch.setenv("OKX_AUTH_BIN", bin_path)
    with pytest.raises(ConfigError, match="OKX_AUTH_BIN points at okx-auth-mcp-bin, which serves this server's native"):
        open_service(Settings.from_env())
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    service = open_service(Settings.from_env())
    assert service.backend_name == "native"
    assert backend_note(service) == BackendNote("okx_auth_bin_is_ours")
    assert stand_in.calls() == []


@pytest.mark.parametrize("bin_path", ["/usr/local/bin/okx-auth", "/opt/okx-auth-mcp-bin-old", "okx-auth-mcp-bins"])
def test_okx_auth_bin_naming_another_binary_changes_nothing(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, bin_path: str
) -> None:
    monkeypatch.setenv("OKX_AUTH_BIN", bin_path)
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    service = open_service(Settings.from_env())
    assert (service.backend_name, backend_note(service)) == ("okx-cli", None)


@pytest.mark.anyio
@pytest.mark.parametrize("fail", [{}, {"status": "exit"}])
async def test_an_okx_before_1_3_is_too_old_and_auto_says_so_in_preflight(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, fail: dict[str, str]
) -> None:
    # As okx 1.2.4: `okx auth status` is an unknown command ({}), or fails before it finds that out (exit).
    stand_in.set(version="1.2.4 (88fac29)", fail=fail)
    async with Client(build_server(open_service(Settings.from_env()))) as client:
        text = error_text(await client.call_tool("preflight", {}))
    assert text.startswith("[okx_cli_too_old] okx 1.2.4 has no `okx auth` command (OKX's CLI logs in from 1.3 on).")
    assert texts.OKX_CLI_UPGRADE in text
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    async with Client(build_server(open_service(Settings.from_env()))) as client:
        pre = data(await client.call_tool("preflight", {"lang": "zh"}))
    assert (pre["next"], pre["backend"]) == ("choose_site", "native")
    assert pre["backend_note"] == BackendNote("okx_cli_too_old", version="1.2.4").view("zh")
    assert "1.2.4" in pre["backend_note"] and texts.OKX_CLI_UPGRADE in pre["backend_note"]


def test_auto_says_why_an_okx_that_fails_otherwise_was_passed_over(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    stand_in.set(fail={"status": "spawn"})
    note = backend_note(open_service(Settings.from_env()))
    assert note == BackendNote("okx_cli_error", code="okx_auth_missing")
    assert "([okx_auth_missing])" in note.view("en")


@pytest.mark.parametrize(
    ("printed", "version"),
    [
        ("1.2.4 (88fac29)\n", (1, 2, 4)),
        ("v1.10.0", (1, 10, 0)),
        ("1.3.0-beta.1 (abc)", (1, 3, 0)),
        ("okx 1.2.4", None),
        ("1.2", None),
        ("1.2.4.5", None),
        ("", None),
    ],
)
def test_the_version_okx_prints(printed: str, version: tuple[int, int, int] | None) -> None:
    assert parse_version(printed) == version


@pytest.mark.parametrize("value", ["(not set)", " (not set) ", "", None, 42])
def test_a_profile_whose_api_key_is_not_a_key_is_no_api_key(value: object) -> None:
    fields = {"site": "us"} if value is None else {"api_key": value, "site": "us"}
    config = parse_config(json.dumps({"default_profile": "main", "profiles": {"main": fields}}))
    assert (config.api_key_profile, config.site) == (None, "us")
    masked = parse_config(json.dumps({"profiles": {"main": {**fields, "api_key": "ab***yz"}}}))
    assert masked.api_key_profile == "main"


# ----- the gate and the tools, as with the native backend -------------------------------------------------


@pytest.mark.anyio
async def test_the_whole_login_through_the_tools(client: Client, stand_in: StandIn) -> None:
    # Not logged in, the binary prints the "global" placeholder site: it chooses nothing.
    pre = data(await client.call_tool("preflight", {}))
    assert (pre["next"], pre["reply"], pre["backend"]) == ("choose_site", texts.SITE_MENU, "okx-cli")
    choice = data(await client.call_tool("choose_site", {"reply": "2", "menu_ticket": pre["menu_ticket"]}))
    assert (choice["site"], choice["next"]) == ("eea", "login")
    for site, ticket in (("global", choice["site_ticket"]), ("eea", None), ("eea", "forged")):
        refused = await client.call_tool("auth_login_manual", {"site": site, "site_ticket": ticket, "lang": "en"})
        assert refused.is_error
    assert stand_in.calls("auth", "login") == []
    args = {"site": "eea", "site_ticket": choice["site_ticket"], "lang": "zh"}
    login = data(await client.call_tool("auth_login_manual", args))
    assert stand_in.calls("auth", "login") == [["auth", "login", "--manual", "--site", "eea"]]
    uri, code = "https://www.okx.com/account/oauth/device", "WDJB-MJHT"
    assert login == {
        "status": "pending",
        "site": "eea",
        "verificationUri": uri,
        "userCode": code,
        "expiresIn": 600,
        "reply": texts.login_started("zh", "eea", uri, code, 600),
    }
    # Pending: preflight shows the same link and code; asking again starts nothing new.
    again = data(await client.call_tool("preflight", {"lang": "zh"}))
    assert (again["next"], again["userCode"], again["reply"]) == ("pending", code, login["reply"])
    assert data(await client.call_tool("auth_login_manual", args))["userCode"] == code
    assert len(stand_in.calls("auth", "login")) == 1
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert status == {"status": "pending", "site": "eea", "reply": texts.pending("en", "eea")}
    stand_in.approve()
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert status == {
        "status": "logged_in",
        "site": "eea",
        "scopes": SCOPES,
        "reply": texts.logged_in("en", "eea", SCOPES),
    }
    assert "expiresAt" not in json.dumps(status) and "3600" not in json.dumps(status)
    assert data(await client.call_tool("preflight", {}))["next"] == "logged_in"
    assert data(await client.call_tool("logout", {}))["revoked"] is True
    assert stand_in.calls("auth", "logout") == [["auth", "logout"]]
    assert data(await client.call_tool("preflight", {}))["next"] == "choose_site"
    # A site choice made before the logout cannot start a login after it.
    late = await client.call_tool("auth_login_manual", args)
    assert error_text(late).startswith("[ticket_invalid]")


@pytest.mark.anyio
async def test_an_api_key_in_okx_config_stops_the_login(client: Client, stand_in: StandIn) -> None:
    stand_in.set(config={"default_profile": "main", "profiles": {"main": {"api_key": "ab***yz", "site": "us"}}})
    pre = data(await client.call_tool("preflight", {}))
    assert (pre["next"], pre["reply"]) == ("api_key_configured", texts.api_key_configured("main"))
    skipped = data(await client.call_tool("auth_login_manual", {"site": "us", "lang": "en"}))
    assert skipped == {
        "status": "skipped",
        "reason": "api_key_configured",
        "profile": "main",
        "reply": texts.api_key_configured("main"),
    }
    assert stand_in.calls("auth", "login") == []
    # A site some profile names counts as chosen, like OKX's skill reads it.
    stand_in.set(config={"profiles": {"trade": {"site": "us"}}})
    assert data(await client.call_tool("preflight", {}))["next"] == "choose_site"


@pytest.mark.anyio
async def test_an_api_key_shown_as_not_set_does_not_stop_the_login(client: Client, stand_in: StandIn) -> None:
    # OKX's skill 1.2: `okx config show --json` prints "(not set)" for a profile without a key.
    stand_in.set(config={"default_profile": "main", "profiles": {"main": {"api_key": "(not set)", "site": "us"}}})
    pre = data(await client.call_tool("preflight", {}))
    assert pre["next"] == "choose_site"
    choice = data(await client.call_tool("choose_site", {"reply": "3", "menu_ticket": pre["menu_ticket"]}))
    assert choice["next"] == "login"
    args = {"site": "us", "site_ticket": choice["site_ticket"], "lang": "en"}
    assert data(await client.call_tool("auth_login_manual", args))["status"] == "pending"


@pytest.mark.anyio
async def test_the_clis_own_api_key_guard_is_relayed(client: Client, stand_in: StandIn) -> None:
    pre = data(await client.call_tool("preflight", {}))
    choice = data(await client.call_tool("choose_site", {"reply": "1", "menu_ticket": pre["menu_ticket"]}))
    # The key appears between our check and the CLI's: the CLI prints its skipped object.
    real_config = {"profiles": {"late": {"api_key": "x"}}}
    args = {"site": "global", "site_ticket": choice["site_ticket"], "lang": "en"}
    stand_in.set(config=real_config)
    skipped = data(await client.call_tool("auth_login_manual", args))
    assert (skipped["status"], skipped["profile"]) == ("skipped", "late")


@pytest.mark.anyio
async def test_a_login_pending_elsewhere_is_shown_without_a_code_and_never_replaced(
    client: Client, stand_in: StandIn
) -> None:
    stand_in.set(auth={"status": "pending", "site": "us"})  # started by `okx auth login` in a terminal
    pre = data(await client.call_tool("preflight", {"lang": "en"}))
    assert (pre["next"], pre["site"], pre["reply"]) == ("pending", "us", texts.pending("en", "us"))
    assert "userCode" not in pre


@pytest.mark.anyio
async def test_a_login_that_ended_says_why(client: Client, stand_in: StandIn, clock: FakeClock) -> None:
    pre = data(await client.call_tool("preflight", {}))
    choice = data(await client.call_tool("choose_site", {"reply": "us", "menu_ticket": pre["menu_ticket"]}))
    args = {"site": "us", "site_ticket": choice["site_ticket"], "lang": "en"}
    data(await client.call_tool("auth_login_manual", args))
    stand_in.set(auth={"status": "not_logged_in", "site": "global"})
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status["reason"]) == ("not_logged_in", "denied")
    clock.advance(601)
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["reason"] == "expired"


# ----- failures of the CLI --------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ("spawn", "[okx_auth_missing]"),
        ("exit", "[okx_cli_error]"),
        ("garbage", "[okx_cli_error]"),
    ],
)
async def test_a_failing_cli_is_a_clear_error(client: Client, stand_in: StandIn, failure: str, code: str) -> None:
    stand_in.set(fail={"status": failure})
    text = error_text(await client.call_tool("preflight", {}))
    assert text.startswith(code), text
    if failure == "spawn":
        assert "okx auth install" in text
    assert "Service Unavailable" not in text and "ENOENT" not in text


def test_a_hanging_cli_times_out_promptly(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_AUTH_HTTP_TIMEOUT", "1")
    service = open_service(Settings.from_env())
    stand_in.set(fail={"status": "hang"})
    started = time.monotonic()
    with pytest.raises(OkxCliTimeout) as caught:
        service.status()
    assert time.monotonic() - started < 10
    assert error_text_of(caught.value).startswith("[okx_cli_timeout] okx auth status did not finish within 1 s")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "login",
    [
        {"verificationUri": "https://evil.example/okx", "userCode": "WDJB-MJHT", "expiresIn": 600},
        {"verificationUri": "http://www.okx.com/device", "userCode": "WDJB-MJHT", "expiresIn": 600},
        {"verificationUri": "https://www.okx.com/d", "userCode": "<b>click</b>", "expiresIn": 600},
        {"verificationUri": "https://www.okx.com/d", "userCode": "WDJB-MJHT"},
    ],
)
async def test_a_login_line_that_fails_the_checks_shows_nothing(
    client: Client, stand_in: StandIn, login: dict[str, Any]
) -> None:
    stand_in.set(login=login)
    pre = data(await client.call_tool("preflight", {}))
    choice = data(await client.call_tool("choose_site", {"reply": "1", "menu_ticket": pre["menu_ticket"]}))
    result = await client.call_tool(
        "auth_login_manual", {"site": "global", "site_ticket": choice["site_ticket"], "lang": "en"}
    )
    text = error_text(result)
    assert text.startswith(("[phishing_guard]", "[okx_cli_error]")), text
    assert "evil" not in text and "click" not in text


def test_what_needs_a_token_says_the_backend_keeps_it(cli_service: AuthService) -> None:
    from okx_auth_mcp.login.errors import BackendUnsupported

    for call in (cli_service.bearer_token, cli_service.api_base_url):
        with pytest.raises(BackendUnsupported, match="OKX_AUTH_BACKEND=native"):
            call()


def test_the_command_line_logs_in_through_the_official_cli(stand_in: StandIn) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "okx_auth_mcp", "login", "--site", "us", "--lang", "en"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        shown = [proc.stdout.readline() for _ in range(8)]
        assert "Code: WDJB-MJHT\n" in shown and "Site: us\n" in shown
        stand_in.approve()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.strip() == texts.logged_in("en", "us", SCOPES)
    assert stand_in.calls("auth", "login") == [["auth", "login", "--manual", "--site", "us"]]


async def _site_ticket(client: Client, reply: str) -> str:
    pre = data(await client.call_tool("preflight", {}))
    return str(
        data(await client.call_tool("choose_site", {"reply": reply, "menu_ticket": pre["menu_ticket"]}))["site_ticket"]
    )


@pytest.mark.anyio
async def test_a_login_pending_for_another_site_is_never_replaced(client: Client, stand_in: StandIn) -> None:
    ticket = await _site_ticket(client, "1")
    stand_in.set(auth={"status": "pending", "site": "us"})  # started elsewhere after the menu was shown
    refused = await client.call_tool("auth_login_manual", {"site": "global", "site_ticket": ticket, "lang": "en"})
    assert error_text(refused).startswith("[login_pending]")
    assert stand_in.calls("auth", "login") == []


@pytest.mark.anyio
async def test_the_link_of_a_login_for_another_site_is_never_shown(client: Client, stand_in: StandIn) -> None:
    ticket = await _site_ticket(client, "us")
    data(await client.call_tool("auth_login_manual", {"site": "us", "site_ticket": ticket, "lang": "en"}))
    stand_in.set(auth={"status": "pending", "site": "eea"})  # the CLI now runs a login for another site
    pre = data(await client.call_tool("preflight", {"lang": "en"}))
    assert (pre["site"], pre["reply"]) == ("eea", texts.pending("en", "eea"))
    assert "userCode" not in pre and "verificationUri" not in pre


@pytest.mark.anyio
async def test_a_failed_cli_logout_still_voids_every_earlier_site_choice(client: Client, stand_in: StandIn) -> None:
    ticket = await _site_ticket(client, "1")
    stand_in.set(fail={"logout": "exit"})
    assert error_text(await client.call_tool("logout", {})).startswith("[okx_cli_error]")
    stand_in.set(fail={})
    late = await client.call_tool("auth_login_manual", {"site": "global", "site_ticket": ticket, "lang": "en"})
    assert error_text(late).startswith("[ticket_invalid]")
    assert stand_in.calls("auth", "login") == []


@pytest.mark.anyio
async def test_an_api_key_in_the_environment_stops_the_login_as_okxs_client_would(
    client: Client, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("OKX_API_KEY", "k"), ("OKX_SECRET_KEY", "s"), ("OKX_PASSPHRASE", "p"), ("OKX_SITE", "us")):
        monkeypatch.setenv(name, value)
    cli = open_service(Settings.from_env())
    async with Client(build_server(cli)) as fresh:
        pre = data(await fresh.call_tool("preflight", {}))
        assert (pre["next"], pre["profile"]) == ("api_key_configured", "env")
        skipped = data(await fresh.call_tool("auth_login_manual", {"site": "global", "lang": "en"}))
        assert skipped["status"] == "skipped"
    assert stand_in.calls("auth", "login") == []


def test_output_beyond_the_cap_is_refused_and_memory_stays_bounded(stand_in: StandIn, tmp_path: Path) -> None:
    noisy = tmp_path / "bin" / "okx"
    noisy.parent.mkdir()
    noisy.write_text("#!/bin/sh\nhead -c 5000000 /dev/zero | tr '\\0' 'x'\n", encoding="utf-8")
    noisy.chmod(0o755)
    cli = OkxCli(str(noisy), os.environ, 10)
    with pytest.raises(OkxCliBadOutput, match="larger than"):
        cli.run("auth", "status", "--json")


def test_a_helper_that_outlives_okx_does_not_hold_the_answer(stand_in: StandIn, tmp_path: Path) -> None:
    forking = tmp_path / "bin" / "okx"
    forking.parent.mkdir()
    forking.write_text('#!/bin/sh\nsleep 30 &\necho \'{"status":"not_logged_in","site":"global"}\'\n', "utf-8")
    forking.chmod(0o755)
    started = time.monotonic()
    out = OkxCli(str(forking), os.environ, 5).run("auth", "status", "--json")
    assert time.monotonic() - started < 4
    assert json.loads(out)["status"] == "not_logged_in"


def test_diagnose_reads_the_login_from_the_official_cli(stand_in: StandIn, cli_service: AuthService) -> None:
    from okx_auth_mcp.login.diagnose import ProbeOptions, local_facts

    stand_in.set(auth={"status": "logged_in", "site": "eea", "scopes": SCOPES})
    assert not cli_service.store.directory.exists()
    facts = local_facts(cli_service, ProbeOptions())
    assert facts.backend == "okx-cli"
    assert (facts.oauth.status, facts.oauth.site, facts.oauth.scopes) == ("logged_in", "eea", tuple(SCOPES))


def test_diagnose_says_why_the_official_cli_does_not_log_in(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    from okx_auth_mcp.login.diagnose import ProbeOptions, local_facts

    stand_in.set(version="1.2.4 (88fac29)")
    facts = local_facts(open_service(Settings.from_env()), ProbeOptions())
    assert (facts.backend, facts.backend_note, facts.oauth.status) == (
        "okx-cli",
        BackendNote("okx_cli_too_old", "1.2.4"),
        None,
    )
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    facts = local_facts(open_service(Settings.from_env()), ProbeOptions())
    assert (facts.backend, facts.backend_note, facts.oauth.status) == (
        "native",
        BackendNote("okx_cli_too_old", "1.2.4"),
        "not_logged_in",
    )
