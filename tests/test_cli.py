"""The commands a person runs: demo, serve --sandbox, sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from okx_auth_mcp.core import texts
from tests.helpers import approve_in_page, confirmed_site, data, free_port


def test_the_demo_walks_the_whole_login_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "okx_auth_mcp", "demo", "--lang", "zh"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert texts.SITE_MENU in done.stdout
    assert "请在浏览器中打开下面的链接并输入验证码完成授权：" in done.stdout
    assert "登录成功。\n站点：global\n权限：read_only, trade" in done.stdout
    assert "demo OK" in done.stdout


@pytest.mark.anyio
async def test_serve_with_an_in_process_sandbox_completes_a_login_with_no_okx_account() -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "okx_auth_mcp", "serve", "--sandbox"], env=dict(os.environ)
    )
    async with Client(params) as client:
        choice = await confirmed_site(client, "eea")
        login = data(
            await client.call_tool(
                "auth_login_manual", {"site": "eea", "site_ticket": choice["site_ticket"], "lang": "en"}
            )
        )
        assert login["verificationUri"].startswith("http://127.0.0.1:")
        assert approve_in_page(login["verificationUri"], login["userCode"]).status_code == 200
        status = data(await client.call_tool("auth_status", {"lang": "en"}))
        assert (status["status"], status["site"]) == ("logged_in", "eea")


def test_the_sandbox_command_serves_on_loopback_until_stopped() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "okx_auth_mcp", "sandbox", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx2.get(f"http://127.0.0.1:{port}/api/v5/public/time", timeout=2)
                break
            except httpx2.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer.json()["code"] == "0"
        assert abs(int(answer.json()["data"][0]["ts"]) / 1000 - time.time()) < 60
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("OKX_OAUTH_ISSUER", "http://auth.example.com", "https"),
        ("OKX_OAUTH_ISSUER", "ftp://127.0.0.1", "https"),
        ("OKX_AUTH_HTTP_TIMEOUT", "soon", "seconds"),
        ("OKX_AUTH_HTTP_TIMEOUT", "0", "seconds"),
    ],
)
def test_unusable_settings_stop_the_server_with_a_clear_message(name: str, value: str, text: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "okx_auth_mcp", "serve"],
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert text in done.stderr and "Traceback" not in done.stderr
