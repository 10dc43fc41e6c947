"""The ``verify_credentials`` tool: the procedure is ``login.verify``, the texts are ``core.texts``', errors
become text at the boundary (``mcp.boundary``). ``build_server`` adds it with :func:`register`.

No ``from __future__ import annotations`` here: the SDK reads the tool's annotations."""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.api_keys import KeyRejected, LoginNotFinished, NotConfigured, Outcome, SessionEnded, Verified
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login import verify
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync

if TYPE_CHECKING:
    from okx_auth_mcp.edges.okx_api import OkxApi

VerifyStatus = Literal["ok", "api_key_rejected", "not_configured", "pending", "session_expired"]


class VerifyOut(ToolOut):
    reply: str = Field(description="Show this to the user verbatim.")
    status: VerifyStatus
    credential: Literal["api_key", "oauth"] | None = Field(
        default=None, description="What was checked: the API key of `profile`, or the OAuth login."
    )
    profile: str | None = Field(default=None, description="The API-key profile that was checked.")
    site: SiteId | None = None
    demo: bool | None = Field(default=None, description="ok with an API key: a demo-trading key.")
    uid: str | None = Field(default=None, description="ok: the account's UID, masked.")
    permissions: list[str] | None = Field(
        default=None, description="ok: what the credential may do (read_only, trade ...)."
    )
    code: str | None = Field(default=None, description="api_key_rejected: OKX's error code (none for a bare HTTP 401).")
    clockOffsetMs: int | None = Field(
        default=None,
        description="ok with an API key, when OKX refused this computer's time and accepted the request signed "
        "again with OKX's server time: OKX's clock minus this computer's, in milliseconds (positive: this "
        "computer is behind). `reply` then asks the user to fix the clock.",
    )


def verify_out(lang: Lang, outcome: Outcome) -> VerifyOut:
    """The tool's result for an outcome of :func:`verify.verify`."""
    if isinstance(outcome, Verified):
        reply = texts.credentials_verified(
            lang, outcome.profile, outcome.site, outcome.uid, outcome.permissions, outcome.demo
        )
        if outcome.clock_offset_ms is not None:
            reply += "\n" + texts.clock_advice(lang, outcome.clock_offset_ms)
        return VerifyOut(
            reply=reply,
            status="ok",
            credential=outcome.credential,
            profile=outcome.profile,
            site=outcome.site,
            demo=outcome.demo if outcome.credential == "api_key" else None,
            uid=outcome.uid,
            permissions=list(outcome.permissions),
            clockOffsetMs=outcome.clock_offset_ms,
        )
    if isinstance(outcome, KeyRejected):
        return VerifyOut(
            reply=texts.api_key_rejected(lang, outcome.profile, outcome.site, outcome.code),
            status="api_key_rejected",
            credential="api_key",
            profile=outcome.profile,
            site=outcome.site,
            code=outcome.code,
        )
    if isinstance(outcome, LoginNotFinished):
        return VerifyOut(reply=texts.pending(lang, outcome.site), status="pending", site=outcome.site)
    if isinstance(outcome, SessionEnded):
        return VerifyOut(reply=texts.not_logged_in(lang, "session_expired"), status="session_expired")
    assert isinstance(outcome, NotConfigured)
    return VerifyOut(reply=texts.no_credentials(lang), status="not_configured")


def register(
    mcp: MCPServer, service: AuthService, *, clock: Callable[[], float] = time.time, api: "OkxApi | None" = None
) -> None:
    """Add ``verify_credentials`` to ``mcp``. ``clock`` stamps signed requests (OKX refuses a request more than
    30 s away from its own clock)."""
    okx_api = api or verify.api_client(service)

    @mcp.tool(
        title="Verify OKX credentials",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Checks that OKX accepts the credential in effect, with one read-only request to OKX (the account's "
            "configuration): the API key OKX's client would use (the environment's, then default_profile's), or "
            "else the OAuth login (its token is refreshed first when needed). Call it when the user asks whether "
            "their OKX access works, or after an OKX call failed with an authentication error (401, Invalid "
            "Sign, Invalid API-KEY, 50111, 50113). It changes no configuration. Show `reply` verbatim, then "
            "follow `status`: 'ok' → continue the user's request. 'api_key_rejected' → `reply` offers exactly "
            "two options (replace the key, or remove the key's profile and switch to OAuth): wait for the user "
            "to choose; never choose for them, never call either one recommended, and do not start an OAuth "
            "login while the key is configured (it would not be used). 'not_configured' → ask whether they "
            "want to log in; if so, start with preflight. 'pending' → a login is waiting for the user to finish "
            "it in the browser. 'session_expired' → ask whether to log in again (start with preflight). Errors "
            "start with a [code] and say what to do."
        ),
    )
    @boundary
    async def verify_credentials(lang: LangArg) -> Annotated[CallToolResult, VerifyOut]:
        outcome = await run_sync(lambda: verify.verify(service, okx_api, clock))
        return result(verify_out(lang, outcome))
