"""How long a token takes from a cold process: ``okx-auth-mcp-bin token`` (fd 3, as OKX's kit spawns it) against
``okx-auth-mcp token`` (stdout), on a session the embedded sandbox issued.

A measurement, not a test. OKX's tools spawn their okx-auth binary for every token, so this is a cost each of
their API calls pays. Both commands run ``--runs`` times in turn (interleaved, so load hits both alike) with
a fresh, valid session (no refresh), each a new Python process with no ``.pyc`` writes
(``PYTHONDONTWRITEBYTECODE``: the package is byte-compiled first, as ``pip install`` leaves it). Prints p50,
p90 and the fastest run of each.

    python bench/token_start.py [--runs 50]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

import okx_auth_mcp
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox

SCRIPTS = Path(sysconfig.get_path("scripts"))


def bin_token(env: dict[str, str]) -> float:
    """One ``okx-auth-mcp-bin token``: fd 3 a pipe read to EOF, stdout and stdin nothing."""
    read_end, write_end = os.pipe()
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 (our own command)
        [str(SCRIPTS / "okx-auth-mcp-bin"), "token"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=env,
        # fd 3 as Node's spawn leaves it. Without close_fds the dup survives exec; every other descriptor of
        # this process is non-inheritable (Python's default), so the child gets nothing else.
        close_fds=False,
        preexec_fn=lambda: os.dup2(write_end, 3),
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        token = reader.read()
    code = child.wait()
    elapsed = time.perf_counter() - started
    if code != 0 or not token:
        raise SystemExit(f"okx-auth-mcp-bin token failed (exit {code})")
    return elapsed


def cli_token(env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own command)
        [str(SCRIPTS / "okx-auth-mcp"), "token"], stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"okx-auth-mcp token failed (exit {done.returncode}): {done.stderr.decode().strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    compileall.compile_dir(str(Path(okx_auth_mcp.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": home,
            "OKX_HOME": str(Path(home) / "okx"),
            "OKX_AUTH_MCP_STATE_DIR": str(Path(home) / "state"),
            "OKX_OAUTH_ISSUER": sandbox.url,
            "OKX_AUTH_BACKEND": "native",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        os.environ.update(env)
        service = AuthService(Settings.from_env())
        ticket = service.choose_site("1", service.preflight().menu_ticket or "").site_ticket
        login = service.login("global", ticket)
        assert sandbox.state.decide(getattr(login, "user_code", ""), approve=True)
        assert service.status().status == "logged_in"
        service.close()
        samples: dict[str, list[float]] = {"okx-auth-mcp-bin token": [], "okx-auth-mcp token": []}
        for _ in range(args.runs):
            samples["okx-auth-mcp-bin token"].append(bin_token(env))
            samples["okx-auth-mcp token"].append(cli_token(env))
    print(f"| cold run, valid session ({args.runs} runs each) | p50 | p90 | fastest |")
    print("|---|---|---|---|")
    for name, times in samples.items():
        ms = sorted(t * 1000 for t in times)
        p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
        print(f"| `{name}` | {statistics.median(ms):.0f} ms | {p90:.0f} ms | {ms[0]:.0f} ms |")


if __name__ == "__main__":
    main()
