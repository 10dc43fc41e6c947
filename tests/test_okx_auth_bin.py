"""``okx-auth-mcp-bin``: OKX's okx-auth protocol (spawn, fd 3, exit codes) against real processes, spawned from
Python as OKX's kit spawns its binary (stdin and stdout ignored, stderr inherited, fd 3 a pipe) and from Node
with the kit's own spawn call (tests/node/okx_kit.mjs), on sessions the sandbox issued."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import okx_auth_mcp
from okx_auth_mcp.edges import token_pipe
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    end_process,
    log_in,
    one_error_line,
    read_until,
    require_component,
    snapshot,
    start_login,
    stored_session,
)

BIN = Path(sysconfig.get_path("scripts")) / ("okx-auth-mcp-bin.exe" if os.name == "nt" else "okx-auth-mcp-bin")
NODE_KIT = Path(__file__).resolve().parent / "node" / "okx_kit.mjs"
PIPE = -1
ON_FD_3 = "import os, shutil, sys; os.dup2(int(sys.argv[1]), 3); os.execv(shutil.which(sys.argv[2]), sys.argv[2:])"


@dataclass(frozen=True)
class Spawned:
    """One run of the binary: exit code, what it wrote to fd 3, stdout and stderr."""

    code: int
    fd3: bytes
    out: str
    err: str


def spawn(
    *args: str, fd3: int | None = PIPE, env: dict[str, str] | None = None, command: list[str] | None = None
) -> Spawned:
    """The binary as OKX's kit runs it: stdin from nothing, stderr read, fd 3 the write end of a pipe read to
    EOF; or ``fd3``: None (fd 3 closed) or a descriptor to put there (a file, a terminal). stdout is captured
    only to check that nothing is on it."""
    read_end = write_end = -1
    if fd3 == PIPE:
        read_end, write_end = os.pipe()
        fd3 = write_end
    command = command or [str(BIN)]
    if fd3 is not None:  # put it on fd 3, then become the command (same process: the parent stays this test)
        command = [sys.executable, "-c", ON_FD_3, str(fd3), *command]
    try:
        child = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=() if fd3 is None else (fd3,),
            env=env or dict(os.environ),
        )
        got = b""
        if read_end >= 0:
            os.close(write_end)
            write_end = -1
            with os.fdopen(read_end, "rb") as reader:
                read_end = -1
                got = reader.read()  # to EOF, as the kit reads: the binary closes fd 3
        out, err = child.communicate(timeout=60)
        return Spawned(child.returncode, got, out.decode(), err.decode())
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def session_token(me: AuthService) -> str:
    session = stored_session(me)
    assert session is not None
    return session.access_token


# ----- token ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)
def test_token_goes_to_fd_3_alone_and_works_at_the_api(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    run = spawn("token")
    assert (run.code, run.out, run.err) == (0, "", "")
    token = run.fd3.decode()
    assert token == session_token(me)
    assert token not in run.out + run.err


def test_token_refreshes_under_the_lock_and_hands_out_the_new_token(me: AuthService, live: RunningSandbox) -> None:
    live.state.config.access_ttl = 30  # within the refresh margin: every use refreshes
    log_in(me, live, "global")
    before = session_token(me)
    run = spawn("token")
    assert (run.code, run.err) == (0, "")
    assert run.fd3.decode() == session_token(me) != before
    assert live.state.reuse_detected == 0


@pytest.mark.parametrize("where", ["closed", "file", "terminal", "/dev/null"])
def test_token_refuses_fd_3_that_is_not_a_pipe(
    me: AuthService, live: RunningSandbox, where: str, tmp_path: Path
) -> None:
    log_in(me, live, "global")
    log = tmp_path / "a-log-file"
    with contextlib.ExitStack() as opened:
        fd3: int | None = None
        if where == "file":
            fd3 = opened.enter_context(open(log, "wb")).fileno()
        elif where == "/dev/null":
            fd3 = opened.enter_context(open(os.devnull, "wb")).fileno()
        elif where == "terminal":
            terminal, their_end = pty.openpty()
            opened.callback(os.close, terminal)
            opened.callback(os.close, their_end)
            fd3 = their_end
        run = spawn("token", fd3=fd3)
    assert (run.code, run.out) == (1, "")
    one_error_line(run.err, "caller_refused")
    assert session_token(me) not in run.err
    assert not log.exists() or log.read_bytes() == b""


@pytest.mark.parametrize("onto", ["3>&1", "3>&2"])
def test_token_refuses_fd_3_that_is_stdout_or_stderr(me: AuthService, live: RunningSandbox, onto: str) -> None:
    """``3>&1`` under a program that captures stdout (as an agent's shell tool does) would print the token."""
    log_in(me, live, "global")
    done = subprocess.run(f'"{BIN}" token {onto}', shell=True, capture_output=True, text=True, timeout=60)  # noqa: S602
    assert done.returncode == 1
    assert session_token(me) not in done.stdout + done.stderr
    one_error_line(done.stderr, "caller_refused")
    assert done.stdout == ""


def test_token_refuses_a_network_socket_and_a_read_only_fd_3_before_reading_the_session(
    me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.access_ttl = 30  # a token due for a refresh: reading the session would send one
    log_in(me, live, "global")
    requests = live.state.count("token")
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()) as tcp:
            run = spawn("token", fd3=tcp.fileno())
        assert (run.code, run.out) == (1, "")
        assert "network socket" in run.err
        server.settimeout(1)
        accepted, _ = server.accept()
        with accepted:
            accepted.settimeout(5)
            assert accepted.recv(100) == b""  # closed with nothing sent
    read_end, write_end = os.pipe()
    try:
        run = spawn("token", fd3=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert run.code == 1 and "not open for writing" in run.err
    assert live.state.count("token") == requests


def test_a_closed_stderr_keeps_the_exit_code(me: AuthService) -> None:
    """OKX's kit inherits stderr; when its host has closed it, the exit code still says what happened (2: not
    logged in), though the line is lost."""
    token_read, token_write = os.pipe()
    err_read, err_write = os.pipe()
    os.close(err_read)  # nobody reads stderr: writing to it fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-c", ON_FD_3, str(token_write), str(BIN), "token"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err_write,
            pass_fds=(token_write,),
            timeout=60,
        )
    finally:
        for fd in (token_read, token_write, err_write):
            os.close(fd)
    assert done.returncode == 2


def test_the_named_pipe_channel_as_the_kit_uses_it_on_windows(
    me: AuthService, live: RunningSandbox, tmp_path: Path
) -> None:
    """OKX_AUTH_TOKEN_PIPE: on Windows a named pipe \\\\.\\pipe\\okx-auth-...; on POSIX (as the kit's own
    tests run that path) a UNIX socket the caller listens on. fd 3 is not used then."""
    log_in(me, live, "global")
    path = tmp_path / "token.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        listener.settimeout(30)
        child = subprocess.Popen(
            [str(BIN), "token"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ, OKX_AUTH_TOKEN_PIPE=str(path)),
        )
        connection, _ = listener.accept()
        with connection:
            got = b""
            while chunk := connection.recv(4096):
                got += chunk
        out, err = child.communicate(timeout=60)
    assert (child.returncode, out, err) == (0, b"", b"")
    assert got.decode() == session_token(me)
    not_a_socket = dict(os.environ, OKX_AUTH_TOKEN_PIPE=str(tmp_path / "token.txt"))
    (tmp_path / "token.txt").touch()
    run = spawn("token", env=not_a_socket)
    assert run.code == 1 and "must name a socket" in run.err
    assert (tmp_path / "token.txt").read_bytes() == b""


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("\\\\.\\pipe\\okx-auth-" + "ab" * 32, True),
        ("\\\\.\\pipe\\okx-auth-", False),
        ("\\\\.\\pipe\\other", False),
        ("C:\\token.txt", False),
    ],
)
def test_on_windows_the_pipe_must_be_the_kits(monkeypatch: pytest.MonkeyPatch, name: str, ok: bool) -> None:
    """The Windows branch, taken here by making this look like Windows: only OKX's kit's pipe names."""
    monkeypatch.setattr(os, "name", "nt")
    if ok:
        assert token_pipe.channel({"OKX_AUTH_TOKEN_PIPE": name}) == token_pipe.Channel(name)
    else:
        with pytest.raises(token_pipe.NotAPipe, match="must name a pipe"):
            token_pipe.channel({"OKX_AUTH_TOKEN_PIPE": name})


def test_without_fcntl_the_write_itself_says_the_fd_is_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no fcntl: the access-mode check is skipped, and a write to a read-only fd fails cleanly."""
    monkeypatch.setitem(sys.modules, "fcntl", None)
    read_end, write_end = os.pipe()
    os.close(write_end)
    token_pipe.check_fd(read_end)  # a pipe; whether it is writable cannot be asked
    with pytest.raises(token_pipe.TokenPipeError, match="stopped reading"):
        token_pipe.send_token("token", token_pipe.Channel(fd=read_end))  # closes it
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(read_end)


def test_a_session_without_a_refresh_token_serves_until_it_expires(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    session = stored_session(me)
    assert session is not None
    near = session.model_copy(update={"refresh_token": None, "access_expires_at": time.time() + 30})
    me.store.write_model(SESSION_FILE, near)  # inside the refresh margin, nothing to refresh with
    assert spawn("token").fd3.decode() == session.access_token
    me.store.write_model(SESSION_FILE, near.model_copy(update={"access_expires_at": time.time() - 1}))
    run = spawn("token")
    assert run.code == 3
    one_error_line(run.err, "session_expired")


def test_token_exit_codes_not_logged_in_pending_refresh_failed(me: AuthService, live: RunningSandbox) -> None:
    run = spawn("token")
    assert (run.code, run.fd3, run.out) == (2, b"", "")
    one_error_line(run.err, "not_logged_in")
    start_login(me, "global")
    assert spawn("token").code == 2
    me.logout()

    live.state.config.access_ttl = 30
    log_in(me, live, "global")
    live.state.faults["token"] = "http_500"
    run = spawn("token")
    assert (run.code, run.fd3) == (3, b"")
    one_error_line(run.err, "bad_response")
    assert "session is kept" in run.err
    del live.state.faults["token"]
    for grant in live.state.refresh_tokens.values():
        grant.grant.revoked = True
    run = spawn("token")
    assert (run.code, run.fd3) == (3, b"")
    one_error_line(run.err, "session_expired")


def test_the_allow_list_admits_the_named_caller_only(me: AuthService, live: RunningSandbox, tmp_path: Path) -> None:
    """The caller here is this test's Python (the parent process of the binary), as ``node`` is for OKX's
    tools; the list is checked before the session is read."""
    log_in(me, live, "global")
    me_exe = os.path.realpath(sys.executable)
    allowed = dict(os.environ, OKX_AUTH_MCP_TOKEN_CALLERS=os.pathsep.join(["/nonexistent/node", me_exe]))
    assert spawn("token", env=allowed).fd3.decode() == session_token(me)

    refused = dict(os.environ, OKX_AUTH_MCP_TOKEN_CALLERS="/usr/bin/node-not-this")
    run = spawn("token", env=refused)
    assert (run.code, run.fd3) == (1, b"")
    one_error_line(run.err, "caller_refused")
    assert "not in OKX_AUTH_MCP_TOKEN_CALLERS" in run.err

    relative = dict(os.environ, OKX_AUTH_MCP_TOKEN_CALLERS="node")
    run = spawn("token", env=relative)
    assert (run.code, run.fd3) == (1, b"")
    assert "absolute paths" in run.err


def test_the_caller_behind_a_launcher_is_the_launchers_parent(tmp_path: Path) -> None:
    """On Windows pip's launcher okx-auth-mcp-bin.exe runs Python as its child, so the caller to check is the
    launcher's parent. Here a real process chain: this test's Python, a launcher (a copy of sh), Python."""
    shell = shutil.which("sh")
    assert shell is not None
    launcher = tmp_path / "okx-auth-mcp-bin.exe"
    shutil.copy(shell, launcher)
    ask = "import sys; from okx_auth_mcp.edges import token_pipe; print(token_pipe.parent_executable(sys.argv[1:]))"

    def caller(*launchers: str) -> str:
        script = f'"{sys.executable}" -c "{ask}" "$@"; exit $?'  # "exit" keeps sh from exec-ing Python
        done = subprocess.run(
            [str(launcher), "-c", script, "sh", *launchers], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return os.path.realpath(done.stdout.strip())

    assert caller(str(launcher)) == os.path.realpath(sys.executable)
    assert caller() == os.path.realpath(launcher)


def test_a_caller_that_cannot_be_identified_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """psutil cannot read the parent (it exited, or the OS refuses): with an allow-list, no token."""
    import psutil

    def refused(self: psutil.Process) -> psutil.Process | None:
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil.Process, "parent", refused)
    with pytest.raises(token_pipe.CallerNotAllowed, match="cannot be identified"):
        token_pipe.check_caller(["/usr/bin/node"])


# ----- status, logout, login, the command line ------------------------------------------------------------


def status_json(env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run([str(BIN), "status", "--json"], capture_output=True, text=True, timeout=60, env=env)
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    return done.returncode, json.loads(lines[0]), done.stderr


def test_status_json_from_local_state_without_a_request(me: AuthService, live: RunningSandbox) -> None:
    assert status_json()[:2] == (
        0,
        {"profile": "", "site": "", "status": "not_logged_in", "scopes": [], "apiKey": False},
    )
    start_login(me, "tr")
    before = sum(live.state.requests.values())
    assert status_json()[1] == {"profile": "", "site": "tr", "status": "pending", "scopes": [], "apiKey": False}
    me.logout()
    live.state.config.access_ttl = 30  # due for a refresh: status does not do it
    log_in(me, live, "eea")
    before = sum(live.state.requests.values())
    code, view, err = status_json()
    assert (code, err) == (0, "")
    assert view == {"profile": "", "site": "eea", "status": "logged_in", "scopes": view["scopes"], "apiKey": False}
    assert view["scopes"] and "expiresAt" not in view and "ttl" not in view
    assert sum(live.state.requests.values()) == before


def test_status_json_names_an_api_key_profile(me: AuthService, isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["OKX_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[profiles.main]\napi_key = "k"\nsecret_key = "s"\npassphrase = "p"\n')
    assert status_json()[1]["apiKey"] is True
    assert status_json()[1]["profile"] == "main"


def test_logout_ends_the_session(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    done = subprocess.run([str(BIN), "logout", "--lang", "en"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    assert me.auth_state().status == "not_logged_in"


@pytest.mark.parametrize(
    "argv",
    [
        ["login", "--manual"],
        ["login", "--manual", "--site", "us"],
        ["login", "--man", "--site", "eea"],
        ["login", "--manual", "--site", "bogus", "--json"],
        ["login", "--site", "global"],
        ["login"],
    ],
)
def test_login_without_a_terminal_or_with_manual_is_refused_with_where_the_gate_is(
    me: AuthService, argv: list[str]
) -> None:
    """Whatever else the arguments say; the command it names carries no site (the user types theirs)."""
    done = subprocess.run([str(BIN), *argv], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stderr) == (1, "")
    refusal = json.loads(done.stdout)
    assert (refusal["status"], refusal["reason"]) == ("refused", "use_gate")
    assert refusal["tools"] == ["preflight", "choose_site", "auth_login_manual"]
    assert refusal["command"] == "okx-auth-mcp login --site global|eea|us|tr"
    assert not (Path(os.environ["OKX_AUTH_MCP_STATE_DIR"]) / "pending.json").exists()


def test_login_at_a_terminal_asks_the_menu_then_runs_the_interactive_login(
    me: AuthService, live: RunningSandbox
) -> None:
    """A person at a terminal: Enter asks again (there is no default), ``4`` chooses TR, and the interactive
    login starts with its link and code; Ctrl-C then cancels it."""
    terminal, their_end = pty.openpty()
    proc = subprocess.Popen([str(BIN), "login", "--lang", "en"], stdin=their_end, stdout=their_end, stderr=their_end)
    os.close(their_end)
    try:
        seen = read_until(terminal, "Your choice", 30)
        os.write(terminal, b"\n")
        seen += read_until(terminal, "Your choice", 30)
        os.write(terminal, b"4\n")
        seen += read_until(terminal, "Waiting for the authorization", 30)
        pending = me.auth_state()
        assert (pending.status, pending.site) == ("pending", "tr")
        assert pending.login is not None and str(pending.login.user_code) in seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        end_process(proc, terminal)
    assert seen.count("4) TR (tr.okx.com)") == 1
    assert me.auth_state().status == "not_logged_in"


@pytest.mark.parametrize("script", ["okx-auth-mcp", "okx-auth-mcp-bin"])
def test_the_installed_console_scripts_start(script: str) -> None:
    """The entry points pyproject.toml names, as pip installed them (not ``python -m``)."""
    done = subprocess.run([str(BIN.with_name(script)), "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"{script} {okx_auth_mcp.__version__}\n"), done.stderr


@pytest.mark.parametrize(
    ("argv", "code"), [([], 2), (["frob"], 2), (["--version"], 0), (["--help"], 0), (["login", "--help"], 0)]
)
def test_the_command_line(argv: list[str], code: int) -> None:
    done = subprocess.run([str(BIN), *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == code
    if code == 2:
        assert done.stdout == "" and "usage: okx-auth-mcp-bin" in done.stderr
    else:
        assert "okx-auth-mcp-bin" in done.stdout


# ----- bad input: each a line on stderr and its exit code, nothing changed ---------------------------------


def test_damaged_state_is_one_line_and_changes_nothing(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    state = Path(os.environ["OKX_AUTH_MCP_STATE_DIR"])
    (state / SESSION_FILE).write_text('{"not": "a session"')
    before = snapshot(state)
    run = spawn("token")
    assert (run.code, run.fd3, run.out) == (4, b"", "")
    one_error_line(run.err, "state_error")
    done = subprocess.run([str(BIN), "status", "--json"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (4, "")
    one_error_line(done.stderr, "state_error")
    assert snapshot(state) == before


def test_a_session_of_another_issuer_is_refused(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    state = Path(os.environ["OKX_AUTH_MCP_STATE_DIR"])
    before = snapshot(state)
    other = dict(os.environ, OKX_OAUTH_ISSUER="http://127.0.0.1:9")
    run = spawn("token", env=other)
    assert (run.code, run.fd3) == (4, b"")
    one_error_line(run.err, "state_error")
    assert snapshot(state) == before


def test_no_state_directory_is_not_logged_in(tmp_path: Path) -> None:
    env = dict(os.environ, OKX_AUTH_MCP_STATE_DIR=str(tmp_path / "never-made"))
    run = spawn("token", env=env)
    assert (run.code, run.fd3) == (2, b"")
    assert status_json(env)[1]["status"] == "not_logged_in"


def test_a_locked_state_directory_waits_then_says_so(me: AuthService, live: RunningSandbox) -> None:
    live.state.config.access_ttl = 30  # the token needs a refresh, which needs the lock
    log_in(me, live, "global")
    env = dict(os.environ, OKX_AUTH_HTTP_TIMEOUT="0.2")  # a lock wait of a few seconds
    with me.store.locked("a test holding the lock"):
        run = spawn("token", env=env)
    assert (run.code, run.fd3) == (4, b"")
    one_error_line(run.err, "state_busy")
    assert "a test holding the lock" in run.err


def test_a_locale_that_is_not_utf8(me: AuthService, live: RunningSandbox) -> None:
    log_in(me, live, "global")
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONIOENCODING="ascii", PYTHONUTF8="0")
    assert spawn("token", env=env).fd3.decode() == session_token(me)
    assert status_json(env)[1]["status"] == "logged_in"
    done = subprocess.run([str(BIN), "logout", "--lang", "zh"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr


def test_okx_cli_backend_is_refused(me: AuthService) -> None:
    env = dict(os.environ, OKX_AUTH_BACKEND="okx-cli")
    run = spawn("token", env=env)
    assert (run.code, run.fd3) == (4, b"")
    one_error_line(run.err, "config_error")


# ----- from Node, exactly as OKX's kit spawns it ----------------------------------------------------------


def node_kit(*args: str) -> dict[str, Any]:
    node = shutil.which("node")
    require_component(node, "Node.js (node)")
    assert node is not None
    done = subprocess.run(
        [node, str(NODE_KIT), str(BIN), *args], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


@pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)
def test_node_spawning_as_okx_kit_gets_the_token(me: AuthService, live: RunningSandbox, tmp_path: Path) -> None:
    """Both of the kit's channels: fd 3 (POSIX) and the named pipe (its Windows path, a UNIX socket here)."""
    pipe = str(tmp_path / "kit.sock")
    assert node_kit("token") == {"code": 2, "token": "", "stdout": ""}
    assert node_kit("token-pipe", pipe) == {"code": 2, "token": "", "stdout": ""}
    assert node_kit("status") == {"loggedIn": False}
    log_in(me, live, "us")
    assert node_kit("token") == {"code": 0, "token": session_token(me), "stdout": ""}
    assert node_kit("token-pipe", pipe) == {"code": 0, "token": session_token(me), "stdout": ""}
    assert node_kit("status") == {"loggedIn": True}
