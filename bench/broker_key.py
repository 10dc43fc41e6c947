"""The time to mint a sub-account API key with ``broker_create_subaccount_api_key``, against the embedded
sandbox: the SDK's client in memory, the question (parameters checked, the config file read, a ticket signed),
then the user's yes (the ticket checked and spent, a passphrase generated, one signed POST within the client-side
rate limit, the answer validated, the secret written into ``config.toml`` by the config writer). Each round mints
a key of its own label; the file grows by one profile a round.

A measurement, not a test. Prints p50 and p90 of the question, of the answer, and of the whole.

    python bench/broker_key.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from mcp.client import Client

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox

AK, SK, PP = "broker-bench-0123456789", "BROKER-BENCH-SECRET", "Broker#Bench1"
SUB = "benchDesk01"


async def rounds(count: int) -> tuple[list[float], list[float], list[float]]:
    asked_times, answered_times, whole = [], [], []
    with tempfile.TemporaryDirectory() as home, RunningSandbox() as sandbox:
        sandbox.state.add_api_key(AK, SK, PP, broker="dma", uid="11112222333344")
        sandbox.state.add_subaccount(AK, SUB, uid="289000001696")
        okx_home = Path(home) / "okx"
        okx_home.mkdir(mode=0o700)
        config = okx_home / "config.toml"
        config.write_text(
            f'[profiles.broker]\napi_key = "{AK}"\nsecret_key = "{SK}"\npassphrase = "{PP}"\nsite = "global"\n'
        )
        config.chmod(0o600)
        os.environ.update(
            {
                "HOME": home,
                "OKX_HOME": str(okx_home),
                "OKX_AUTH_MCP_STATE_DIR": str(Path(home) / "state"),
                "OKX_API_BASE_URL": sandbox.url,
                "OKX_AUTH_BACKEND": "native",
                "OKX_AUTH_STORAGE": "file",
                "OKX_AUTH_BROKER_TOOLS": "1",
                "OKX_AUTH_BROKER_PROFILE": "broker",
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        service = AuthService(Settings.from_env())
        async with Client(build_server(service)) as client:
            for n in range(count):
                args = {"subAcct": SUB, "label": f"bench{n}", "lang": "en", "perm": ["trade"], "ip": ["10.0.0.1"]}
                started = time.perf_counter()
                first = await client.call_tool("broker_create_subaccount_api_key", args)
                asked = first.structured_content or {}
                assert "confirmation_ticket" in asked, first.content
                replied = time.perf_counter()
                args |= {"confirmation_ticket": asked["confirmation_ticket"], "reply": "yes"}
                done = (await client.call_tool("broker_create_subaccount_api_key", args)).structured_content or {}
                ended = time.perf_counter()
                assert done.get("status") == "saved", done
                asked_times.append(replied - started)
                answered_times.append(ended - replied)
                whole.append(ended - started)
        service.close()
    return asked_times, answered_times, whole


def _report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[max(0, round(0.9 * len(ms)) - 1)]
    print(f"{name}: p50 {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms ({len(ms)} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    asked, answered, whole = asyncio.run(rounds(args.rounds))
    _report("question (checks, config read, ticket)", asked)
    _report("answer (ticket spent, POST, validated, written)", answered)
    _report("broker_create_subaccount_api_key, question to saved key", whole)


if __name__ == "__main__":
    main()
