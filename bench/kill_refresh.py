"""How often a SIGKILL during a refresh loses the session (POSIX only).

A measurement, not a test. The sandbox rotates refresh tokens and treats a reused one as theft (it revokes the
grant), as a careful server does. Each trial: the session's access token is marked expired; a child process
(imports done, waiting on a pipe) is told to go and refreshes; it is killed after a random delay within the time a
refresh takes; then this process checks whether the session still refreshes. A loss is the window between the
server rotating the pair and the new pair reaching the disk.

    python bench/kill_refresh.py [--kills 100]

Run it against other code by putting that code first on ``PYTHONPATH`` (``PYTHONPATH=/old/server``)."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox

_CHILD = """
import sys
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
service.store.ticket_key()
print("ready", flush=True)
sys.stdin.readline()
service.bearer_token()
print("done", flush=True)
"""


def _expire(state: Path) -> None:
    session = json.loads((state / "session.json").read_text())
    session["access_expires_at"] = 0.0
    tmp = state / ".expire.tmp"
    tmp.write_text(json.dumps(session))
    tmp.chmod(0o600)
    os.replace(tmp, state / "session.json")


def _log_in(service: AuthService, sandbox: RunningSandbox) -> None:
    menu = service.preflight().menu_ticket
    assert menu is not None
    login = service.login("eea", service.choose_site("2", menu).site_ticket)
    assert sandbox.state.decide(login.user_code, approve=True)  # type: ignore[union-attr]
    assert service.status().status == "logged_in"


def _child(env: dict[str, str]) -> subprocess.Popen[str]:
    child = subprocess.Popen(  # noqa: S603 (our own code)
        [sys.executable, "-c", _CHILD], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        state = Path(home) / "state"
        env = {
            **os.environ,
            "OKX_OAUTH_ISSUER": sandbox.url,
            "OKX_AUTH_MCP_STATE_DIR": str(state),
            "OKX_HOME": str(Path(home) / "okx"),
            "HOME": home,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        os.environ.update(env)
        service = AuthService(Settings.from_env())
        _log_in(service, sandbox)
        durations = []
        for _ in range(5):  # how long a refresh takes in a child, from "go" to "done"
            _expire(state)
            child = _child(env)
            started = time.perf_counter()
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write("\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            durations.append(time.perf_counter() - started)
            child.wait()
        window = sorted(durations)[len(durations) // 2]
        lost = killed_before_done = 0
        for _ in range(args.kills):
            _expire(state)
            child = _child(env)
            assert child.stdin is not None
            child.stdin.write("\n")
            child.stdin.flush()
            time.sleep(random.uniform(0, window))  # noqa: S311 (a delay, not a secret)
            child.send_signal(signal.SIGKILL)
            child.wait()
            killed_before_done += child.returncode == -signal.SIGKILL
            try:
                service.bearer_token()
            except Exception:
                lost += 1
                service.logout()
                _log_in(service, sandbox)
        service.close()
    print("| kills during a refresh | refresh time (median) | sessions lost | rate |")
    print("|---|---|---|---|")
    print(
        f"| {args.kills} ({killed_before_done} before it finished) | {window * 1000:.1f} ms | {lost} | "
        f"{lost / args.kills:.0%} |"
    )


if __name__ == "__main__":
    main()
