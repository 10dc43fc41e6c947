"""``okx-auth-mcp demo``: the whole login, as a real MCP client over stdio, against the sandbox.

Starts the sandbox on 127.0.0.1, spawns ``python -m okx_auth_mcp serve`` with that sandbox as its issuer and
a throw-away state directory and OKX home, then: preflight, choose_site (the user answers "1"),
auth_login_manual, approval on the sandbox's verification pages as a user would (the forms, over HTTP),
auth_status, logout. Prints every reply; exits 0 only if every step gave what it should.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from okx_auth_mcp.sandbox.runner import RunningSandbox


class DemoFailed(Exception):
    pass


def _structured(result: Any, tool: str) -> dict[str, Any]:
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise DemoFailed(f"{tool} failed: {text}")
    data = result.structured_content
    if not isinstance(data, dict):
        raise DemoFailed(f"{tool} returned no structured content")
    return data


def approve_on_page(verification_uri: str, user_code: str, action: str = "approve") -> httpx2.Response:
    """What a user does in the browser: open the page, type the code, continue to the confirmation page (its
    form carries a CSRF token), press Approve (or Deny). The confirmation's answer, once it is a 200."""
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(verification_uri)
        page.raise_for_status()
        if 'name="user_code"' not in page.text:
            raise DemoFailed("the verification page has no code field")
        confirm = browser.get(verification_uri, params={"user_code": user_code})  # the code field's form
        token = re.search(r'name="csrf" value="([^"]+)"', confirm.text)
        if confirm.status_code != 200 or token is None:
            raise DemoFailed(f"the verification page refused the code: HTTP {confirm.status_code}")
        answer = browser.post(verification_uri, data={"csrf": token[1], "action": action})
        if answer.status_code != 200:
            raise DemoFailed(f"{action} failed: HTTP {answer.status_code}")
        return answer


async def _walk(params: StdioServerParameters, lang: str) -> None:
    def show(step: str, data: dict[str, Any]) -> None:
        print(f"\n── {step} ──\n{data['reply']}")

    async with Client(params) as client:
        pre = _structured(await client.call_tool("preflight", {"lang": lang}), "preflight")
        show("preflight", pre)
        if pre["next"] != "choose_site":
            raise DemoFailed(f"preflight should ask for the site, said {pre['next']}")
        print('\n(the user answers: "1")')
        choice = _structured(
            await client.call_tool("choose_site", {"reply": "1", "menu_ticket": pre["menu_ticket"]}),
            "choose_site",
        )
        show("choose_site", choice)
        login = _structured(
            await client.call_tool(
                "auth_login_manual",
                {"site": choice["site"], "site_ticket": choice["site_ticket"], "lang": lang},
            ),
            "auth_login_manual",
        )
        show("auth_login_manual", login)
        print(f"\n(the user opens {login['verificationUri']}, enters {login['userCode']}, presses Approve)")
        await anyio.to_thread.run_sync(approve_on_page, login["verificationUri"], login["userCode"])
        print('(the user says: "done")')
        status = _structured(await client.call_tool("auth_status", {"lang": lang}), "auth_status")
        show("auth_status", status)
        if status["status"] != "logged_in":
            raise DemoFailed(f"expected logged_in, got {json.dumps(status, ensure_ascii=False)}")
        bye = _structured(await client.call_tool("logout", {"lang": lang}), "logout")
        show("logout", bye)
        if not bye["revoked"]:
            raise DemoFailed("logout did not revoke the session at the sandbox")
        after = _structured(await client.call_tool("auth_status", {"lang": lang}), "auth_status")
        if after["status"] != "not_logged_in":
            raise DemoFailed("still logged in after logout")


def run_demo(lang: str = "en") -> int:
    with RunningSandbox() as sandbox, tempfile.TemporaryDirectory(prefix="okx-demo-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OKX_", "HTTP_PROXY", "HTTPS_PROXY"))}
        env.update(
            OKX_OAUTH_ISSUER=sandbox.url,
            OKX_AUTH_BACKEND="native",
            OKX_AUTH_MCP_STATE_DIR=str(Path(tmp) / "state"),
            OKX_HOME=str(Path(tmp) / "okx-home"),
            NO_PROXY="127.0.0.1,localhost",
        )
        print(f"sandbox: {sandbox.url}  server: {sys.executable} -m okx_auth_mcp serve")
        params = StdioServerParameters(command=sys.executable, args=["-m", "okx_auth_mcp", "serve"], env=env)
        try:
            anyio.run(_walk, params, lang)
        except DemoFailed as exc:
            print(f"\ndemo FAILED: {exc}", file=sys.stderr)
            return 1
    print("\ndemo OK: preflight → choose_site → auth_login_manual → approve → auth_status → logout")
    return 0
