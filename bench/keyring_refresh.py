"""What the OS keyring costs: a refresh (the one locked write of a session's rotated pair) with the tokens in the
keyring against the same with the tokens in the 0600 state file, and the import of ``keyring`` in a new process.

A measurement, not a test. Needs a Secret Service (run it under ``.ci/keyring-session``). For each store it logs
in once on the embedded sandbox, then times ``--refreshes`` forced refreshes (``force_refresh``: read the
session, one token request, the new pair written), and prints p50 and p90. Then it times ``import keyring`` and
the backend lookup (what ``auto`` does on a session's first read) in ``--imports`` new Python processes.

    .ci/keyring-session python bench/keyring_refresh.py [--refreshes 50] [--imports 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from okx_auth_mcp.edges.secret_store import backend_name
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox

_IMPORT = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def refreshes(storage: str, count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        os.environ.update(
            {
                "HOME": home,
                "OKX_HOME": str(Path(home) / "okx"),
                "OKX_AUTH_MCP_STATE_DIR": str(Path(home) / "state"),
                "OKX_OAUTH_ISSUER": sandbox.url,
                "OKX_AUTH_BACKEND": "native",
                "OKX_AUTH_STORAGE": storage,
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        service = AuthService(Settings.from_env())
        ticket = service.choose_site("2", service.preflight().menu_ticket or "").site_ticket
        login = service.login("eea", ticket)
        assert sandbox.state.decide(getattr(login, "user_code", ""), approve=True)
        assert service.status().status == "logged_in"
        assert service.token_storage() is not None and service.token_storage().startswith(storage)  # type: ignore[union-attr]
        token = service.bearer_token()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            renewed = service.force_refresh(token)
            times.append(time.perf_counter() - started)
            assert renewed is not None and renewed != token
            token = renewed
        assert sandbox.state.reuse_detected == 0
        service.close()
        return times


def imports(code: str, count: int) -> list[float]:
    return [
        float(subprocess.check_output([sys.executable, "-c", _IMPORT.format(code=code)], text=True))  # noqa: S603
        for _ in range(count)
    ]


def row(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return f"| {name} | {statistics.median(ms):.1f} ms | {p90:.1f} ms |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=50)
    parser.add_argument("--imports", type=int, default=20)
    args = parser.parse_args()
    if backend_name() != "SecretService":
        raise SystemExit("no Secret Service here: run it under .ci/keyring-session")
    print(f"| {args.refreshes} forced refreshes against the sandbox | p50 | p90 |")
    print("|---|---:|---:|")
    for storage in ("file", "keyring"):
        print(row(f"tokens in the {storage}", refreshes(storage, args.refreshes)))
    print()
    print(f"| in a new process ({args.imports} runs) | p50 | p90 |")
    print("|---|---:|---:|")
    print(row("`import keyring`", imports("import keyring", args.imports)))
    lookup = "from okx_auth_mcp.edges.secret_store import backend_name; backend_name()"
    print(row("`import keyring` and the backend lookup", imports(lookup, args.imports)))


if __name__ == "__main__":
    main()
