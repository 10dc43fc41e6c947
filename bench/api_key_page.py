"""The time from ``setup_api_key`` to a verified profile, against the embedded sandbox: the tool call through the
SDK's client in memory (the page's server starts), the page fetched and submitted as a browser does (its CSRF
token, its Origin), the profile written by the config writer and verified by one signed request, and
``setup_api_key_status`` reporting ``verified: ok``. Each round starts from an empty ``~/.okx``.

A measurement, not a test. Prints p50 and p90 of the whole, and of the submission alone (write + verify).

    python bench/api_key_page.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from mcp.client import Client

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox

AK, SK, PP = "AK-bench-0123456789", "SK-BENCH-SECRET-1", "PP-Bench-Phrase-1"


async def rounds(count: int) -> tuple[list[float], list[float]]:
    whole, submit = [], []
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        sandbox.state.add_api_key(AK, SK, PP)
        os.environ.update(
            {
                "HOME": home,
                "OKX_HOME": str(Path(home) / "okx"),
                "OKX_AUTH_MCP_STATE_DIR": str(Path(home) / "state"),
                "OKX_API_BASE_URL": sandbox.url,
                "OKX_AUTH_BACKEND": "native",
                "OKX_AUTH_STORAGE": "file",
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        service = AuthService(Settings.from_env())
        async with Client(build_server(service)) as client, httpx2.AsyncClient(timeout=10) as http:
            for _ in range(count):
                shutil.rmtree(Path(home) / "okx", ignore_errors=True)
                started = time.perf_counter()
                opened = (await client.call_tool("setup_api_key", {"lang": "en"})).structured_content or {}
                url = str(opened["url"])
                csrf = re.search(r'name="csrf" value="([^"]+)"', (await http.get(url)).text)
                assert csrf is not None
                parts = urlsplit(url)
                fields = {"csrf": csrf.group(1), "site": "global", "mode": "live", "profile": "main"}
                fields |= {"api_key": AK, "secret_key": SK, "passphrase": PP}
                posted = time.perf_counter()
                answer = await http.post(url, data=fields, headers={"Origin": f"{parts.scheme}://{parts.netloc}"})
                submit.append(time.perf_counter() - posted)
                assert answer.status_code == 200, answer.text
                status = (await client.call_tool("setup_api_key_status", {"lang": "en"})).structured_content or {}
                whole.append(time.perf_counter() - started)
                assert status["verified"] == "ok", status
        service.close()
    return whole, submit


def _report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[max(0, round(0.9 * len(ms)) - 1)]
    print(f"{name}: p50 {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms ({len(ms)} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the request lines of the client (they carry the link) and of the server
    whole, submit = asyncio.run(rounds(args.rounds))
    _report("setup_api_key -> verified profile", whole)
    _report("the submission alone (write + verify)", submit)


if __name__ == "__main__":
    main()
