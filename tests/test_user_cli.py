"""The gh-auth-like commands (status, login, logout, token, config show) against the sandbox on real time:
in this process through ``cli.main``, and as real processes where the process boundary is the point (the
token alone on stdout, Ctrl-C, the terminal spinner, the browser)."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import httpx2
import pytest

from okx_auth_mcp.cli.common import default_lang
from okx_auth_mcp.cli.main import main
from okx_auth_mcp.core import replies, texts
from okx_auth_mcp.core.login_state import AuthState, LoginPending
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    CLI,
    FakeClock,
    approve_in_page,
    end_process,
    free_port,
    log_in,
    oauth_requests,
    one_error_line,
    read_until,
    run_cli,
    start_login,
    write_config,
)

SECRETS = {
    "file_key": "filekey-0123456789abcdef",
    "file_secret": "FILE-SECRET-9f8e7d6c5b4a",
    "file_pass": "file-pass#phrase-42",
    "env_key": "envkey-fedcba9876543210",
    "env_secret": "ENV-SECRET-0a1b2c3d4e5f",
    "env_pass": "env-pass#phrase-77",
}


def terminal(lang: Lang, state: AuthState) -> str:
    """What a command prints for ``state``: the terminal's wording."""
    return replies.status(lang, state, "terminal")


def session_tokens(me: AuthService) -> list[str]:
    data = me.store.read_json("session.json")
    assert data is not None
    return [data["access_token"], data["refresh_token"]]


# ----- status ---------------------------------------------------------------------------------------------

STORED = "\nToken storage: file (OKX_AUTH_STORAGE=file)\n"
"""The line after the status text (the tests pin OKX_AUTH_STORAGE=file)."""


def test_status_when_not_logged_in_exits_one(capsys: pytest.CaptureFixture[str], me: AuthService) -> None:
    assert run_cli(capsys, "status", "--lang", "en") == (1, terminal("en", AuthState("not_logged_in")) + STORED, "")
    code, out, _ = run_cli(capsys, "status", "--json")
    assert code == 1
    assert json.loads(out) == {
        "status": "not_logged_in",
        "site": None,
        "scopes": [],
        "reason": None,
        "api_key_profile": None,
        "storage": "file (OKX_AUTH_STORAGE=file)",
    }


def test_status_when_logged_in_exits_zero_and_shows_no_token(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    log_in(me, live, "eea")
    code, out, err = run_cli(capsys, "status", "--lang", "zh")
    assert (code, out, err) == (0, texts.logged_in("zh", "eea", ["read_only", "trade"]) + STORED, "")
    code, out, _ = run_cli(capsys, "status", "--json")
    assert code == 0
    assert json.loads(out) == {
        "status": "logged_in",
        "site": "eea",
        "scopes": ["read_only", "trade"],
        "reason": None,
        "api_key_profile": None,
        "storage": "file (OKX_AUTH_STORAGE=file)",
    }
    for token in session_tokens(me):
        assert token not in out


def test_status_of_a_pending_login_in_the_locale_language(
    capsys: pytest.CaptureFixture[str], me: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_login(me, "us")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert run_cli(capsys, "status") == (1, terminal("zh", AuthState("pending", "us")) + STORED, "")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert run_cli(capsys, "status") == (1, terminal("en", AuthState("pending", "us")) + STORED, "")


def test_the_default_language_follows_the_locale() -> None:
    assert default_lang({}) == "en"
    assert default_lang({"LANG": "zh_TW.UTF-8"}) == "zh"
    assert default_lang({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert default_lang({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "zh_CN"}) == "zh"


def test_status_shows_an_api_key_profile(
    capsys: pytest.CaptureFixture[str], me: AuthService, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], f'[profiles.main]\napi_key = "{SECRETS["file_key"]}"\nsite = "eea"\n')
    code, out, _ = run_cli(capsys, "status", "--lang", "en")
    expected = texts.api_key_configured("main") + "\n" + texts.login_ended("en", None) + STORED  # no login hint
    assert (code, out) == (1, expected)
    assert json.loads(run_cli(capsys, "status", "--json")[1])["api_key_profile"] == "main"


def test_a_corrupt_state_file_is_one_line_with_what_to_do(capsys: pytest.CaptureFixture[str], me: AuthService) -> None:
    me.store.ensure()
    (me.store.directory / "session.json").write_text("{not json", encoding="utf-8")
    code, out, err = run_cli(capsys, "status")
    assert (code, out) == (1, "")
    one_error_line(err, "state_error")
    assert "session.json" in err


def test_an_unusable_configuration_exits_two(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_API_KEY", SECRETS["env_key"])
    code, out, err = run_cli(capsys, "status")
    assert (code, out) == (2, "")
    assert "OKX_SECRET_KEY" in err and SECRETS["env_key"] not in err


# ----- logout ---------------------------------------------------------------------------------------------


def test_logout_revokes_and_forgets_the_session(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    log_in(me, live, "global")
    assert run_cli(capsys, "logout", "--lang", "en") == (0, texts.logged_out("en") + "\n", "")
    assert live.state.revoked == ["refresh_token"]
    assert me.auth_state().status == "not_logged_in"
    assert run_cli(capsys, "logout", "--lang", "zh") == (0, texts.logged_out("zh") + "\n", "")


# ----- token ----------------------------------------------------------------------------------------------


def test_token_prints_the_token_alone_and_it_works_at_the_api(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    done = subprocess.run([*CLI, "token"], capture_output=True, text=True, timeout=60, env=os.environ)
    assert (done.returncode, done.stderr) == (0, "")
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}\n", done.stdout)
    token = done.stdout[:-1]
    assert token == me.bearer_token()
    answer = httpx2.get(f"{live.url}/api/v5/account/config", headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()["code"]) == (200, "0")


def test_token_refreshes_a_token_near_expiry(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.access_ttl = 30  # within the refresh margin: every use refreshes
    log_in(me, live, "global")
    before = session_tokens(me)
    code, out, err = run_cli(capsys, "token")
    assert (code, err) == (0, "")
    after = session_tokens(me)
    assert out == after[0] + "\n" and after[0] != before[0] and after[1] != before[1]
    assert live.state.reuse_detected == 0


def test_token_when_not_logged_in_or_pending_exits_two(capsys: pytest.CaptureFixture[str], me: AuthService) -> None:
    code, out, err = run_cli(capsys, "token")
    assert (code, out) == (2, "")
    one_error_line(err, "not_logged_in")
    start_login(me, "global")
    code, out, err = run_cli(capsys, "token")
    assert (code, out) == (2, "")
    one_error_line(err, "not_logged_in")
    assert "login for global is not complete" in err


def test_token_when_the_server_ended_the_session_exits_three_and_forgets_it(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.access_ttl = 30
    log_in(me, live, "global")
    for token in live.state.refresh_tokens.values():
        token.grant.revoked = True
    code, out, err = run_cli(capsys, "token")
    assert (code, out) == (3, "")
    one_error_line(err, "session_expired")
    assert "log in again" in err
    assert me.auth_state().status == "not_logged_in"


def test_token_when_the_refresh_cannot_reach_the_server_exits_three_and_keeps_the_session(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.access_ttl = 30
    log_in(me, live, "global")
    tokens = session_tokens(me)
    live.stop()
    code, out, err = run_cli(capsys, "token")
    assert (code, out) == (3, "")
    one_error_line(err, "network_error")
    assert "session is kept" in err
    assert session_tokens(me) == tokens
    for token in tokens:
        assert token not in err


# ----- config show ----------------------------------------------------------------------------------------

_CONFIG = f"""
default_profile = "main"
[profiles.main]
api_key = "{SECRETS["file_key"]}"
secret_key = "{SECRETS["file_secret"]}"
passphrase = "{SECRETS["file_pass"]}"
site = "eea"
proxy_url = "http://user:{SECRETS["file_pass"]}@proxy.example:3128"
[profiles.demo]
site = "us"
demo = true
base_url = "https://app.okx.com"
"""


def test_config_show_masks_every_secret(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(isolated_env["OKX_HOME"], _CONFIG)
    code, text, err = run_cli(capsys, "config", "show")
    assert (code, err) == (0, "")
    assert f"OKX config: {path}\n" in text
    assert "API-key profile in effect: main\n" in text
    assert (
        "  main (default, in effect): api_key file****cdef, site eea, demo false, base_url https://eea.okx.com\n"
        in text
    )
    assert "  demo: api_key -, site us, demo true, base_url https://app.okx.com\n" in text
    assert "  eea: EEA (my.okx.com), API https://eea.okx.com\n" in text

    monkeypatch.setenv("OKX_API_KEY", SECRETS["env_key"])
    monkeypatch.setenv("OKX_SECRET_KEY", SECRETS["env_secret"])
    monkeypatch.setenv("OKX_PASSPHRASE", SECRETS["env_pass"])
    monkeypatch.setenv("OKX_SITE", "global")
    code, shown, err = run_cli(capsys, "config", "show", "--json")
    assert (code, err) == (0, "")
    view = json.loads(shown)
    assert view["profile_in_effect"] == "env" and view["default_profile"] == "main"
    assert [(p["name"], p["source"], p["default"], p["in_effect"], p["api_key"]) for p in view["profiles"]] == [
        ("env", "environment", False, True, "envk****3210"),
        ("main", "file", True, False, "file****cdef"),
        ("demo", "file", False, False, None),
    ]
    assert [s["id"] for s in view["sites"]] == ["global", "eea", "us", "tr"]
    assert view["oauth"]["issuer"] is None and view["config_file_exists"] is True
    text += run_cli(capsys, "config", "show")[1]
    for output in (text, shown):
        for secret in SECRETS.values():
            assert secret not in output
        assert "proxy.example" not in output


def test_config_needs_its_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["config"])
    assert exited.value.code == 2
    assert "show" in capsys.readouterr().err


# ----- login, in this process -----------------------------------------------------------------------------


def decide_when_asked(live: RunningSandbox, approve: bool) -> threading.Thread:
    """The user, in the browser: approves (or denies) the first code the sandbox hands out, once the command
    has polled for it (so that the command is seen waiting)."""

    def user() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with live.state.lock:
                codes = [d.user_code for d in live.state.devices.values() if d.last_poll is not None]
            if codes:
                live.state.decide(codes[0], approve)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    return thread


def test_login_with_an_api_key_starts_nothing(
    capsys: pytest.CaptureFixture[str], live: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], f'[profiles.main]\napi_key = "{SECRETS["file_key"]}"\nsite = "eea"\n')
    assert run_cli(capsys, "login", "--site", "global") == (0, texts.api_key_configured("main") + "\n", "")
    write_config(isolated_env["OKX_HOME"], f'[profiles.main]\napi_key = "{SECRETS["file_key"]}"\n')  # no site
    assert run_cli(capsys, "login", "--site", "us") == (0, texts.api_key_configured("main") + "\n", "")
    assert oauth_requests(live) == 0


def test_login_when_logged_in_says_so_or_refuses_another_site(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    log_in(me, live, "eea")
    assert run_cli(capsys, "login", "--site", "eea", "--lang", "zh") == (
        0,
        texts.logged_in("zh", "eea", ["read_only", "trade"]) + "\n",
        "",
    )
    code, out, err = run_cli(capsys, "login", "--site", "us")
    assert (code, out) == (1, "")
    one_error_line(err, "already_logged_in")
    assert "logout" in err
    assert live.state.count("device") == 1


def test_login_never_replaces_a_login_pending_for_another_site(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    start_login(me, "eea")
    code, out, err = run_cli(capsys, "login", "--site", "global")
    assert (code, out) == (1, "")
    one_error_line(err, "login_pending")
    assert live.state.count("device") == 1


def test_login_shows_the_pending_code_again_and_waits_for_it(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    first = start_login(me, "global")
    approver = decide_when_asked(live, approve=True)
    code, out, err = run_cli(capsys, "login", "--site", "global", "--lang", "en")
    approver.join()
    assert code == 0
    shown = re.search(r"\(Valid for (\d+) minutes\)", out)
    assert shown is not None
    started = replies.login(
        "en", LoginPending("global", first.verification_uri, first.user_code, int(shown[1]) * 60), "terminal"
    )
    assert out == started + "\n" + texts.logged_in("en", "global", ["read_only", "trade"]) + "\n"
    assert err == "Waiting for the authorization in the browser (Ctrl-C cancels)\n"
    assert live.state.count("device") == 1


def test_a_denied_login_exits_one_with_its_reason(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    denier = decide_when_asked(live, approve=False)
    code, out, _ = run_cli(capsys, "login", "--site", "us", "--lang", "zh")
    denier.join()
    assert code == 1
    assert out.endswith("\n" + terminal("zh", AuthState("not_logged_in", reason="denied")) + "\n")
    assert me.preflight().next == "choose_site"


def test_an_expired_code_exits_one_with_its_reason(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.device_code_ttl = 1
    code, out, _ = run_cli(capsys, "login", "--site", "eea", "--lang", "en")
    assert code == 1
    assert out.endswith("\n" + terminal("en", AuthState("not_logged_in", reason="expired")) + "\n")


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_OAUTH_ISSUER", f"http://127.0.0.1:{free_port()}")
    code, out, err = run_cli(capsys, "login", "--site", "global")
    assert (code, out) == (1, "")
    one_error_line(err, "discovery_failed")


# ----- login, as a real process ---------------------------------------------------------------------------


def read_login(stdout: IO[str]) -> tuple[str, str, str]:
    """The login text a process printed, up to its last line; its link and code."""
    lines: list[str] = []
    while not (lines and lines[-1].startswith("This command waits")):
        line = stdout.readline()
        assert line, "the process ended before it showed the code: " + "".join(lines)
        lines.append(line)
    text = "".join(lines)
    uri, code = re.search(r"^URL: (\S+)$", text, re.M), re.search(r"^Code: (\S+)$", text, re.M)
    assert uri is not None and code is not None
    return text, uri[1], code[1]


def test_login_waits_for_the_approval_in_the_browser_and_exits_zero(
    me: AuthService, live: RunningSandbox, tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    proc = subprocess.Popen(
        [*CLI, "login", "--site", "global", "--open", "--lang", "en"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER": str(browser)},
    )
    assert proc.stdout is not None
    text, uri, code = read_login(proc.stdout)
    assert text == replies.login("en", LoginPending("global", uri, code, 600), "terminal") + "\n"
    assert approve_in_page(uri, code).status_code == 200  # what the user does on the page
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert rest == texts.logged_in("en", "global", ["read_only", "trade"]) + "\n"
    # No spinner off a terminal: one line, or none when the approval was in before the command's first look (a
    # loaded machine can take the polling interval to get there).
    assert err in ("Waiting for the authorization in the browser (Ctrl-C cancels)\n", "")
    assert opened.read_text(encoding="utf-8") == f"{uri}?user_code={code}"  # the link with the code in it
    assert [d.interval for d in live.state.devices.values()] == [1]  # never polled too fast (no slow_down)
    assert me.auth_state().status == "logged_in"


def test_ctrl_c_while_waiting_cancels_the_pending_login(me: AuthService, live: RunningSandbox) -> None:
    terminal, their_end = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, "login", "--site", "global", "--lang", "en"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=their_end,
        text=True,
        env=os.environ,
    )
    os.close(their_end)
    try:
        assert proc.stdout is not None
        read_login(proc.stdout)
        spinner = read_until(terminal, "the code expires in 9:", 20)
        assert "\r\x1b[K" in spinner and "Waiting for the authorization in the browser (Ctrl-C cancels)" in spinner
        assert me.preflight().next == "pending"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        said = read_until(terminal, "login cancelled", 10)
        assert "the pending login was removed" in said and "Traceback" not in said
    finally:
        end_process(proc, terminal)
    assert me.preflight().next == "choose_site"
    assert not (me.store.directory / "pending.json").exists()


def test_ctrl_c_leaves_a_login_started_elsewhere_pending(me: AuthService, live: RunningSandbox) -> None:
    # The MCP server started this login; the user may be finishing it there. Waiting on it here and giving
    # up must not take it away.
    theirs = start_login(me, "eea")
    proc = subprocess.Popen(
        [*CLI, "login", "--site", "eea", "--lang", "en"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert read_login(proc.stdout)[2] == theirs.user_code
        assert proc.stderr.readline().startswith("Waiting for the authorization")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        said = proc.stderr.read()
        assert "started elsewhere and is left as it is" in said and "Traceback" not in said
    finally:
        end_process(proc)
    pre = me.preflight()
    assert pre.next == "pending" and pre.login is not None and pre.login.user_code == theirs.user_code


# ----- the service methods behind Ctrl-C ------------------------------------------------------------------


def test_cancel_login_deletes_only_the_pending_login(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    login = start_login(service)
    assert service.cancel_login("XXXX-XXXX") is False  # another login's code: left alone
    assert service.auth_state().status == "pending"
    assert service.cancel_login(login.user_code) is True
    assert service.auth_state().status == "not_logged_in" and service.preflight().next == "choose_site"
    assert service.cancel_login() is False
    log_in(service, sandbox)
    assert service.cancel_login() is False
    assert service.auth_state().status == "logged_in"


# ----- the default command: serve's options without its name ----------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    """What ``serve`` would be run with: the parsed arguments, instead of a server."""
    from okx_auth_mcp.cli import serve

    runs: list[argparse.Namespace] = []

    def record(args: argparse.Namespace) -> int:
        runs.append(args)
        return 0

    monkeypatch.setattr(serve, "_serve", record)
    return runs


@pytest.mark.parametrize(
    ("argv", "sandbox", "http", "host", "port"),
    [
        ([], False, False, "127.0.0.1", 8765),
        (["--sandbox"], True, False, "127.0.0.1", 8765),
        (["--http", "--host", "localhost", "--port", "0"], False, True, "localhost", 0),
        (["--port=9000", "--sandbox", "--http"], True, True, "127.0.0.1", 9000),
        (["serve", "--sandbox"], True, False, "127.0.0.1", 8765),
    ],
)
def test_options_of_serve_need_no_command_name(
    argv: list[str], sandbox: bool, http: bool, host: str, port: int, served: list[argparse.Namespace]
) -> None:
    assert main(argv) == 0
    (args,) = served
    assert (args.command, args.sandbox, args.http, args.host, args.port) == ("serve", sandbox, http, host, port)


def test_the_programs_own_options_still_come_first(
    capsys: pytest.CaptureFixture[str], served: list[argparse.Namespace]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("okx-auth-mcp ")
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("usage: okx-auth-mcp ") and "diagnose" in out
    with pytest.raises(SystemExit) as done:
        main(["--http", "--help"])  # serve's own help
    assert done.value.code == 0 and capsys.readouterr().out.startswith("usage: okx-auth-mcp serve ")
    assert served == []


@pytest.mark.parametrize("argv", [["--bogus"], ["--sandbox", "--bogus"], ["--vers"], ["bogus"]])
def test_an_unknown_option_or_command_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str], served: list[argparse.Namespace]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and "okx-auth-mcp" in err and "error:" in err and argv[-1] in err
    assert "Traceback" not in err and served == []


def test_serve_options_without_the_command_in_a_real_process() -> None:
    # Refused by serve itself (the host), not by the parser: the options reached serve.
    done = subprocess.run(
        [*CLI, "--http", "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr and "unrecognized" not in done.stderr
