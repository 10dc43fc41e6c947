"""A damaged, planted or hostile state directory never crashes a command or a tool, and ``logout`` (the
documented recovery) removes what it cannot read. Every command runs against every damage; none may end in a
traceback, hang, or use what it found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from okx_auth_mcp.core import texts
from okx_auth_mcp.edges.state_store import (
    PENDING_FILE,
    SESSION_FILE,
    StateStore,
    StoreCorrupt,
    StoreError,
    UnsafeDirectory,
    UnsafeFile,
)
from okx_auth_mcp.login.refusals import error_code
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from okx_auth_mcp.sandbox.state import SandboxConfig
from tests.helpers import CLI, STDIO, FakeClock, connected, data, error_text, free_port, log_in, run_cli, start_login

pytestmark = pytest.mark.anyio

Damage = Callable[[Path], None]


def _write(name: str, content: bytes) -> Damage:
    def damage(state: Path) -> None:
        (state / name).write_bytes(content)
        (state / name).chmod(0o600)

    return damage


def _link(name: str, target: str) -> Damage:
    def damage(state: Path) -> None:
        (state / name).unlink(missing_ok=True)
        (state / name).symlink_to(target)

    return damage


def _fifo(name: str) -> Damage:
    def damage(state: Path) -> None:
        (state / name).unlink(missing_ok=True)
        os.mkfifo(state / name, 0o600)

    return damage


def _directory(name: str) -> Damage:
    def damage(state: Path) -> None:
        (state / name).unlink(missing_ok=True)
        (state / name).mkdir(mode=0o700)

    return damage


def _mode(name: str, mode: int) -> Damage:
    def damage(state: Path) -> None:
        (state / name).chmod(mode)

    return damage


def _session_with(**changes: object) -> Damage:
    def damage(state: Path) -> None:
        session = json.loads((state / SESSION_FILE).read_bytes())
        for key, value in changes.items():
            if key.startswith("endpoints."):
                session["endpoints"][key.removeprefix("endpoints.")] = value
            else:
                session[key] = value
        (state / SESSION_FILE).write_text(json.dumps(session))

    return damage


def _not_a_directory(state: Path) -> None:
    for child in state.iterdir():
        child.unlink()
    state.rmdir()
    state.write_text("not a directory")


DAMAGES: dict[str, Damage] = {
    "session undecodable": _write(SESSION_FILE, b"\xff\xfe\x00"),
    "pending undecodable": _write(PENDING_FILE, b"\xff\xfe\x00"),
    "registrations undecodable": _write("registrations.json", b"\xff\xfe\x00"),
    "used tickets undecodable": _write("used-tickets.json", b"\xff\xfe\x00"),
    "session nested 20000 deep": _write(SESSION_FILE, b"[" * 20000 + b"]" * 20000),
    "session a link to /dev/zero": _link(SESSION_FILE, "/dev/zero"),
    "session a FIFO": _fifo(SESSION_FILE),
    "session a directory": _directory(SESSION_FILE),
    "session writable by others": _mode(SESSION_FILE, 0o646),
    "ticket key a link to /dev/zero": _link("ticket.key", "/dev/zero"),
    "ticket key a FIFO": _fifo("ticket.key"),
    "lock a link": _link("state.lock", "/nonexistent/okx-target"),
    "directory writable by others": lambda state: state.chmod(0o775),
    "state path a regular file": _not_a_directory,
    "session expiry NaN": _session_with(access_expires_at=float("nan")),
    "session expiry 1e308": _session_with(access_expires_at=1e308),
    "session token with escapes": _session_with(access_token="\x1b]0;owned\x07\x1b[2J"),
    "session token endpoint elsewhere": _session_with(**{"endpoints.token_endpoint": "https://evil.example/token"}),
}

COMMANDS = [["status"], ["token"], ["login", "--site", "eea"], ["diagnose", "--json"], ["config", "show"], ["logout"]]
"""Logout last: it removes what it cannot read, and a login after it would wait for the user."""

_LIMITS = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.argv = ["okx-auth-mcp", *sys.argv[1:]]
runpy.run_module("okx_auth_mcp", run_name="__main__")
"""


@pytest.fixture
def damaged_home(tmp_path: Path, live: RunningSandbox, service: AuthService) -> Path:
    """A state directory with a real session (and a ticket key) in it, on real time."""
    log_in(service, live)
    service.store.ticket_key()
    with service.store.locked():
        pass
    return service.store.directory


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_every_command_survives_every_damage(
    damage: str, damaged_home: Path, live: RunningSandbox, tmp_path: Path
) -> None:
    """A real process per command (a FIFO must not hang it, ``/dev/zero`` must not eat its memory): one line on
    stderr with a code, never a traceback; the token command never prints what it found."""
    DAMAGES[damage](damaged_home)
    env = {**os.environ, "OKX_AUTH_HTTP_TIMEOUT": "1"}
    for command in COMMANDS:
        done = subprocess.run(
            [sys.executable, "-c", _LIMITS, *command], capture_output=True, text=True, timeout=60, env=env
        )
        shown = f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr and "Error" not in done.stderr.split("[")[0], shown
        assert done.returncode in (0, 1, 2, 3), shown
        assert "owned" not in done.stdout + done.stderr, shown
        if done.returncode and command[0] != "diagnose":
            assert "okx-auth-mcp: [" in done.stderr, shown


@pytest.mark.parametrize(
    "damage",
    [name for name in sorted(DAMAGES) if name.startswith(("session", "pending")) and "directory" not in name],
)
def test_logout_removes_a_session_or_login_it_cannot_read(
    damage: str, damaged_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    DAMAGES[damage](damaged_home)
    code, _, err = run_cli(capsys, "logout")
    assert code == 0, err
    assert not os.path.lexists(damaged_home / SESSION_FILE) and not os.path.lexists(damaged_home / PENDING_FILE)
    code, out, err = run_cli(capsys, "status")
    assert code == 1 and "Traceback" not in err, (out, err)


def test_a_session_file_a_directory_is_named_with_what_to_do(damaged_home: Path, service: AuthService) -> None:
    DAMAGES["session a directory"](damaged_home)
    with pytest.raises(StoreCorrupt, match="not a regular file"):
        service.auth_state()
    with pytest.raises(StoreError, match=r"cannot be deleted.*remove it by hand"):
        service.logout()


@pytest.mark.parametrize("damage", ["session undecodable", "session a link to /dev/zero", "session nested 20000 deep"])
async def test_the_tools_and_the_resource_name_the_damage(
    damage: str, damaged_home: Path, service: AuthService
) -> None:
    DAMAGES[damage](damaged_home)
    async with connected(service, "legacy") as client:
        for tool in ("preflight", "auth_status"):
            result = await client.call_tool(tool, {"lang": "en"})
            assert "[state_error]" in error_text(result), tool
        with pytest.raises(Exception, match=r"\[state_error\]"):
            await client.read_resource("okx://auth/status")
        assert not data(await client.call_tool("logout", {"lang": "en"}))["reply"].startswith("[")
        assert data(await client.call_tool("preflight", {}))["next"] == "choose_site"


# ----- planted state: checked again as if it had just arrived ---------------------------------------------


def _planted_pending(service: AuthService, **changes: object) -> None:
    start_login(service)
    pending = json.loads((service.store.directory / PENDING_FILE).read_bytes())
    pending.update(changes)
    (service.store.directory / PENDING_FILE).write_text(json.dumps(pending))


@pytest.mark.parametrize(
    "changes",
    [
        {"verification_uri": "https://okx-support-verify.example/login"},
        {"verification_uri": "https://www.okx.com/login"},  # a real OKX host, but not this (custom) issuer's
        {"user_code": "<b>CALL-US</b>"},
        {"expires_at": 1e308},
        {"interval": 10**9},
    ],
    ids=["phishing-link", "another-origin", "markup-code", "forever", "huge-interval"],
)
async def test_a_planted_pending_login_is_never_relayed(service: AuthService, changes: dict[str, object]) -> None:
    _planted_pending(service, **changes)
    async with connected(service, "legacy") as client:
        text = error_text(await client.call_tool("preflight", {"lang": "en"}))
    assert "[state_error]" in text and PENDING_FILE in text
    assert "okx-support-verify" not in text and "CALL-US" not in text


def test_a_planted_pending_login_for_another_issuer_is_not_polled(
    service: AuthService, sandbox: RunningSandbox
) -> None:
    _planted_pending(service, endpoints={"issuer": "https://evil.example", "client_id": "c", "token_endpoint": "x"})
    with pytest.raises(StoreCorrupt, match="another issuer"):
        service.status()


def test_a_planted_session_never_sends_its_refresh_token_elsewhere(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    """The other server is real and listening: it must see no request."""
    log_in(service, sandbox)
    with RunningSandbox(SandboxConfig()) as elsewhere:
        _session_with(**{"endpoints.token_endpoint": elsewhere.url + "/oauth/token"})(service.store.directory)
        clock.advance(3600)
        with pytest.raises(StoreCorrupt, match="token_endpoint outside the issuer's hosts"):
            service.bearer_token()
        assert sum(elsewhere.state.requests.values()) == 0


@pytest.mark.parametrize("expiry", [float("nan"), float("inf"), float("-inf"), 1e308, -1.0])
def test_an_expiry_that_is_no_time_is_damage(service: AuthService, sandbox: RunningSandbox, expiry: float) -> None:
    log_in(service, sandbox)
    _session_with(access_expires_at=expiry)(service.store.directory)
    with pytest.raises(StoreCorrupt):
        service.auth_state()


# ----- who may use the directory -----------------------------------------------------------------------


def test_a_directory_another_user_owns_is_refused_with_the_chown_to_run(
    damaged_home: Path, service: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    with pytest.raises(UnsafeDirectory, match=r"belongs to another user.*chown -R \$\(id -un\) "):
        service.auth_state()
    with pytest.raises(UnsafeDirectory):
        service.logout()
    monkeypatch.setattr(os, "getuid", lambda: uid)
    assert service.auth_state().status == "logged_in"  # nothing was deleted or changed


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o722])
def test_a_directory_others_can_change_is_refused_and_left_as_it_is(
    damaged_home: Path, service: AuthService, mode: int
) -> None:
    damaged_home.chmod(mode)
    with pytest.raises(UnsafeDirectory, match=f"mode {mode:04o}.*chmod 700 {damaged_home}"):
        service.preflight()
    assert damaged_home.stat().st_mode & 0o777 == mode


def test_a_session_file_others_can_change_is_not_used(damaged_home: Path, service: AuthService) -> None:
    (damaged_home / SESSION_FILE).chmod(0o620)
    with pytest.raises(UnsafeFile, match=r"can be changed by other users.*log in again"):
        service.auth_state()
    assert (damaged_home / SESSION_FILE).stat().st_mode & 0o777 == 0o620


def test_a_state_path_that_is_a_file_fails_every_way_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_OAUTH_ISSUER", f"http://127.0.0.1:{free_port()}")
    state = tmp_path / "state"
    state.write_text("x")
    for command in (["status"], ["logout"]):
        code, _, err = run_cli(capsys, *command)
        assert code == 1 and "[state_error]" in err and "is not a directory" in err, err
    code, out, err = run_cli(capsys, "diagnose", "--json", "--timeout", "1")
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert checks["state.permissions"]["status"] == "fail", checks["state.permissions"]
    assert "is not a directory" in checks["state.permissions"]["finding"]


def test_a_symlinked_lock_is_a_clear_state_error(damaged_home: Path, service: AuthService) -> None:
    target = damaged_home.parent / "lock-target"
    target.write_text("keep")
    DAMAGES["lock a link"](damaged_home)
    (damaged_home / "state.lock").unlink()
    (damaged_home / "state.lock").symlink_to(target)
    with pytest.raises(StoreError, match=r"state\.lock is not a regular file") as raised:
        service.logout()
    assert error_code(raised.value) == "state_error"
    assert target.read_text() == "keep"


def test_the_texts_still_reach_the_user_after_recovery(damaged_home: Path, service: AuthService) -> None:
    DAMAGES["session undecodable"](damaged_home)
    assert service.logout() is False
    assert service.preflight().next == "choose_site"
    assert texts.SITE_MENU


# ----- found by the adversarial review ------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    ["directory writable by others", "request-state key a directory", "request-state key writable by others"],
)
async def test_the_server_starts_on_damaged_state_and_its_tools_say_what_is_wrong(
    damage: str, damaged_home: Path, service: AuthService
) -> None:
    """``serve`` is what an MCP client launches: it must not die on what the other commands report."""

    def writable_key(state: Path) -> None:
        _write("request-state.key", b"k" * 32)(state)
        (state / "request-state.key").chmod(0o666)

    extra: dict[str, Damage] = {
        "request-state key a directory": _directory("request-state.key"),
        "request-state key writable by others": writable_key,
    }
    (DAMAGES | extra)[damage](damaged_home)
    async with connected(service, STDIO) as client:
        result = await client.call_tool("preflight", {"lang": "en"})
    if result.is_error:
        assert "[state_error]" in error_text(result)
    else:
        assert data(result)["next"] == "logged_in"


def test_a_key_file_that_is_a_directory_is_a_state_error_and_logout_still_logs_out(
    damaged_home: Path, service: AuthService, sandbox: RunningSandbox
) -> None:
    _directory("ticket.key")(damaged_home)
    with pytest.raises(StoreError, match=r"ticket\.key cannot be written.*remove it") as raised:
        service.store.ticket_key()
    assert error_code(raised.value) == "state_error"
    revoked = sandbox.state.count("revoke")
    with pytest.raises(StoreError, match=r"ticket\.key cannot be written"):
        service.logout()
    assert not (damaged_home / SESSION_FILE).exists() and sandbox.state.count("revoke") == revoked + 1


@pytest.mark.parametrize("name", ["used-tickets.json", PENDING_FILE])
def test_logout_revokes_and_deletes_the_session_whatever_else_it_cannot_delete(
    name: str, damaged_home: Path, service: AuthService, sandbox: RunningSandbox
) -> None:
    _directory(name)(damaged_home)
    revoked = sandbox.state.count("revoke")
    with pytest.raises(StoreError, match="cannot be deleted"):
        service.logout()
    assert not (damaged_home / SESSION_FILE).exists() and sandbox.state.count("revoke") == revoked + 1


async def test_a_planted_pending_link_with_a_query_is_refused_as_on_receipt(service: AuthService) -> None:
    start_login(service)
    path = service.store.directory / PENDING_FILE
    pending = json.loads(path.read_bytes())
    path.write_text(json.dumps({**pending, "verification_uri": pending["verification_uri"] + "?user_code=ZZZZ-ZZZZ"}))
    async with connected(service, "legacy") as client:
        text = error_text(await client.call_tool("preflight", {"lang": "en"}))
    assert "[state_error]" in text and "ZZZZ" not in text


def test_diagnose_fails_a_lock_file_every_command_refuses(damaged_home: Path, service: AuthService) -> None:
    _fifo("state.lock")(damaged_home)
    _, out = _diagnose_json()
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert checks["state.lock"]["status"] == "fail" and "not a regular file" in checks["state.lock"]["finding"]
    with pytest.raises(StoreError, match="not a regular file"):
        service.logout()


def _diagnose_json() -> tuple[int, str]:
    done = subprocess.run(
        [*CLI, "diagnose", "--json", "--timeout", "1"], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def test_logout_revokes_a_session_whose_file_cannot_be_deleted(
    damaged_home: Path, service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(A read-only state directory, say.) The token is revoked at the server anyway, then the failure is said."""
    delete = StateStore.delete

    def refusing(store: StateStore, name: str) -> bool:
        if name == SESSION_FILE:
            raise StoreError(f"{name} cannot be deleted: Permission denied; remove it by hand")
        return delete(store, name)

    monkeypatch.setattr(StateStore, "delete", refusing)
    revoked = sandbox.state.count("revoke")
    with pytest.raises(StoreError, match="cannot be deleted"):
        service.logout()
    assert sandbox.state.count("revoke") == revoked + 1
