"""How long a local call waits while another process is in a slow network request under the state lock.

A measurement, not a test. Process A starts a login whose device authorization takes ``--hang`` seconds to
answer (the sandbox's ``hang:`` fault: the request a login holds the lock across). While it waits, this process
times the calls documented as local state only: ``preflight``, the status from the files (``auth_state``,
what ``okx://auth/status`` and ``auth_status`` read when nothing is due), and the key a new MCP server creates
(``request_state_key``, ``build_server``'s first step), each in a round of its own. It prints the longest of
each over ``--rounds``.

    python bench/lock_wait.py [--hang 8] [--rounds 3]

Run it against other code by putting that code first on ``PYTHONPATH`` (``PYTHONPATH=/old/server``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox

_LOGIN = """
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
menu = service.preflight().menu_ticket
try:
    service.login("eea", service.choose_site("2", menu).site_ticket)
except Exception as exc:
    print(type(exc).__name__)
"""


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    try:
        call()
    except Exception as exc:
        print(f"  ({type(exc).__name__}: {exc})", file=sys.stderr)
    return time.perf_counter() - started


CALLS: dict[str, Callable[[AuthService], object]] = {
    "preflight": lambda service: service.preflight(),
    "auth_state": lambda service: service.auth_state(),
    "request_state_key": lambda service: service.store.request_state_key(),
}


def one_round(hang: float, name: str) -> float:
    """How long ``name`` takes while another process is ``hang`` seconds into a request under the lock."""
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        env = {
            **os.environ,
            "OKX_OAUTH_ISSUER": sandbox.url,
            "OKX_AUTH_MCP_STATE_DIR": str(Path(home) / "state"),
            "OKX_HOME": str(Path(home) / "okx"),
            "HOME": home,
            "OKX_AUTH_HTTP_TIMEOUT": str(hang * 2),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        os.environ.update(env)
        sandbox.state.faults["device"] = f"hang:{hang}"
        other = subprocess.Popen([sys.executable, "-c", _LOGIN], env=env)  # noqa: S603 (our own code)
        while sandbox.state.count("device") == 0:
            time.sleep(0.01)
        service = AuthService(Settings.from_env())
        try:
            (Path(home) / "state" / "request-state.key").unlink(missing_ok=True)  # a new server creates it
            return _timed(lambda: CALLS[name](service))
        finally:
            service.close()
            other.wait(timeout=hang * 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hang", type=float, default=8.0, help="seconds the device authorization takes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    longest: dict[str, float] = {}
    for _ in range(args.rounds):
        for name in CALLS:
            longest[name] = max(longest.get(name, 0.0), one_round(args.hang, name))
    print(f"| local call (another process {args.hang:g} s into a request under the lock) | longest wait |")
    print("|---|---|")
    for name, seconds in longest.items():
        print(f"| {name} | {seconds * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
