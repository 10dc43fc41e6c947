"""The sandbox's verification page, ``GET /device`` and ``POST /device``: where a user enters the code their
assistant shows and approves or denies the device."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from okx_auth_mcp.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    async def device_page(request: Request) -> Response:
        code = html.escape(request.query_params.get("user_code", ""))
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'><title>OKX sandbox: authorize a device</title></head>"
            "<body><h1>OKX sandbox</h1><p>Enter the code shown by your assistant, then approve or deny.</p>"
            "<form method='post' action='/device'>"
            f"<input name='user_code' value='{code}' autocomplete='off'>"
            "<button name='action' value='approve'>Approve</button>"
            "<button name='action' value='deny'>Deny</button></form></body></html>"
        )

    async def device_submit(request: Request) -> Response:
        form = await request.form()
        approve = form.get("action") == "approve"
        if not state.decide(str(form.get("user_code", "")), approve):
            return HTMLResponse("<p>That code is unknown, expired or already used.</p>", status_code=400)
        word = "approved" if approve else "denied"
        return HTMLResponse(f"<p>Device {word}. You can return to your assistant.</p>")

    return [
        Route("/device", device_page, methods=["GET"]),
        Route("/device", device_submit, methods=["POST"]),
    ]
