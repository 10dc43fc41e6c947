"""The MCP wiring: five tools over :class:`AuthService`. Logic lives in ``service``; texts in ``templates``;
error translation in ``tool_errors``. This module only connects them."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, ParamSpec, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from okx_auth_mcp import __version__, templates
from okx_auth_mcp.service import AuthService, LoginSkipped, Settings
from okx_auth_mcp.sites import SiteId
from okx_auth_mcp.templates import Lang, LoginEndReason
from okx_auth_mcp.tool_errors import refusal

INSTRUCTIONS = (
    "Signs the user into OKX. Rules: call preflight first, every time, and follow its `next`. Never pass a site "
    "the user did not choose from the menu just now (choose_site issues the only ticket auth_login_manual "
    "accepts). Show every `reply` to the user verbatim in your own message, not only in tool output. After a "
    "login starts, wait for the user to say they are done, then call auth_status once; never poll on your own. "
    f"Never quote token expiry; asked how long a session lasts, say: {templates.SESSION_LENGTH_ANSWER}"
)

_T = TypeVar("_T")
_P = ParamSpec("_P")

LangArg = Annotated[Lang, Field(description="The user's language: 'zh' if they write Chinese, else 'en'.")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreflightOut(_Out):
    reply: str = Field(
        description="Show this to the user verbatim (the site menu, always in Chinese, for choose_site)."
    )
    next: Literal["choose_site", "api_key_configured", "logged_in", "pending"]
    menu_ticket: str | None = Field(None, description="Pass to choose_site with the user's reply to the menu.")
    profile: str | None = Field(None, description="The API-key profile in use (api_key_configured).")
    site: SiteId | None = None
    scopes: list[str] | None = None
    verificationUri: str | None = Field(None, description="pending: the live login's link, shown again.")
    userCode: str | None = Field(None, description="pending: the live login's code, shown again.")
    expiresIn: int | None = Field(None, description="pending: seconds the code has left.")


class ChooseSiteOut(_Out):
    reply: str
    site: SiteId
    site_ticket: str = Field(description="Pass to auth_login_manual with exactly this site; valid 10 minutes.")
    next: Literal["login", "api_key_configured"]
    profile: str | None = None


class LoginOut(_Out):
    reply: str
    status: Literal["pending", "skipped"]
    reason: Literal["api_key_configured"] | None = None
    profile: str | None = None
    site: SiteId | None = None
    verificationUri: str | None = None
    userCode: str | None = None
    expiresIn: int | None = None


class StatusOut(_Out):
    reply: str
    status: Literal["logged_in", "pending", "not_logged_in"]
    site: SiteId | None = None
    scopes: list[str] | None = None
    reason: LoginEndReason | None = None


class LogoutOut(_Out):
    reply: str
    status: Literal["not_logged_in"] = "not_logged_in"
    revoked: bool


def _result(out: _Out) -> CallToolResult:
    structured = out.model_dump(mode="json", exclude_none=True)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(structured, ensure_ascii=False, indent=1))],
        structured_content=structured,
    )


async def _run(fn: Callable[[], _T]) -> _T:
    """The service call, off the event loop (it does blocking file locks and HTTP)."""
    return await anyio.to_thread.run_sync(fn)


def _boundary(tool: Callable[_P, Awaitable[CallToolResult]]) -> Callable[_P, Awaitable[CallToolResult]]:
    """Every known failure becomes a ``[code] ...`` error result; the tool's signature is kept for the SDK."""

    @functools.wraps(tool)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> CallToolResult:
        try:
            return await tool(*args, **kwargs)
        except Exception as exc:
            return refusal(exc)

    return guarded


def build_server(service: AuthService) -> MCPServer:
    mcp = MCPServer("okx-auth-mcp", title="OKX login", version=__version__, instructions=INSTRUCTIONS)

    @mcp.tool(
        title="OKX login pre-flight",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Step 0 of every OKX login: checks, in strict order, whether a site was chosen, whether an API key is "
            "configured, and the OAuth status, from local state only (no network). Call it FIRST, before any "
            "other tool here, every time the user wants to log in or an OKX call failed for lack of auth, even if "
            "another tool already said they are not logged in. Then follow `next`: 'choose_site' → show `reply` "
            "(the site menu) verbatim and wait for the user's answer, then call choose_site with it and "
            "`menu_ticket`; never pick a site yourself. 'api_key_configured' → show `reply` and continue the "
            "user's request; do not log in. 'logged_in' → show `reply` and continue. 'pending' → a login is in "
            "progress: show `reply` (its link and code again) and wait for the user to say done; do not start "
            "another."
        ),
    )
    @_boundary
    async def preflight(lang: LangArg = "en") -> Annotated[CallToolResult, PreflightOut]:
        result = await _run(service.preflight)
        login = result.login
        if result.next == "choose_site":
            reply = templates.SITE_MENU
        elif result.next == "api_key_configured":
            reply = templates.api_key_configured(result.profile or "")
        elif login is not None:
            reply = templates.login_started(lang, login.site, login.verification_uri, login.user_code, login.expires_in)
        else:
            reply = templates.status_reply(lang, result.next, result.site, result.scopes, None)
        return _result(
            PreflightOut(
                reply=reply,
                next=result.next,
                menu_ticket=result.menu_ticket,
                profile=result.profile,
                site=result.site,
                scopes=result.scopes or None,
                verificationUri=login.verification_uri if login else None,
                userCode=login.user_code if login else None,
                expiresIn=login.expires_in if login else None,
            )
        )

    @mcp.tool(
        title="Record the user's OKX site choice",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Turns the user's answer to the site menu into a confirmed site and a `site_ticket`. Call it only "
            "after you showed preflight's menu and the user answered; pass their answer unchanged as `reply` "
            "(e.g. '1', '2', '3', 'global', 'eea', 'us') and preflight's `menu_ticket`. Never call it with a "
            "site the user did not type. If the answer chooses nothing, the error repeats the menu: show it "
            "again and ask. Then follow `next`: 'login' → call auth_login_manual with `site` and `site_ticket`; "
            "'api_key_configured' → show `reply`, do not log in."
        ),
    )
    @_boundary
    async def choose_site(
        reply: Annotated[str, Field(description="The user's answer to the site menu, exactly as they wrote it.")],
        menu_ticket: Annotated[str, Field(description="The menu_ticket preflight returned with the menu.")],
    ) -> Annotated[CallToolResult, ChooseSiteOut]:
        choice = await _run(lambda: service.choose_site(reply, menu_ticket))
        text = (
            templates.api_key_configured(choice.profile)
            if choice.profile is not None
            else templates.site_chosen(choice.site)
        )
        return _result(
            ChooseSiteOut(
                reply=text,
                site=choice.site,
                site_ticket=choice.site_ticket,
                next=choice.next,
                profile=choice.profile,
            )
        )

    @mcp.tool(
        title="Start OKX login (device code)",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Starts an OKX OAuth login and returns at once with a link and a code for the user (it never waits). "
            "Requires `site` and `site_ticket` from choose_site, for the site the user chose just now; without "
            "them it refuses. Do not call it if preflight said api_key_configured or logged_in. Show `reply` to "
            "the user verbatim in your own message (the link and code must be visible as chat text), then WAIT "
            "for the user to say they are done and call auth_status once. Do not poll. Calling it again while a "
            "login is pending returns the same code. If it returns status 'skipped', an API key is configured: "
            "show `reply` and use the key."
        ),
    )
    @_boundary
    async def auth_login_manual(
        site: Annotated[SiteId, Field(description="The site choose_site returned: 'global', 'eea' or 'us'.")],
        lang: LangArg,
        site_ticket: Annotated[
            str | None,
            Field(description="Required: the site_ticket choose_site returned with that site. Never invent one."),
        ] = None,
    ) -> Annotated[CallToolResult, LoginOut]:
        outcome = await _run(lambda: service.login(site, site_ticket))
        if isinstance(outcome, LoginSkipped):
            return _result(
                LoginOut(
                    reply=templates.api_key_configured(outcome.profile),
                    status="skipped",
                    reason="api_key_configured",
                    profile=outcome.profile,
                )
            )
        return _result(
            LoginOut(
                reply=templates.login_started(
                    lang, outcome.site, outcome.verification_uri, outcome.user_code, outcome.expires_in
                ),
                status="pending",
                site=outcome.site,
                verificationUri=outcome.verification_uri,
                userCode=outcome.user_code,
                expiresIn=outcome.expires_in,
            )
        )

    @mcp.tool(
        title="Check OKX login status",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
        description=(
            "Checks the OKX login once: 'logged_in' (with site and scopes), 'pending' (the user has not "
            "finished in the browser yet) or 'not_logged_in' (with `reason` when a login expired or was denied). "
            "Call it once after the user says they finished authorizing, never in a loop or on your own. Show "
            "`reply` verbatim. On 'pending', tell the user and wait for them to say done again. On "
            "'not_logged_in' with a reason, ask whether to retry (start again with preflight). It never returns "
            "token lifetimes: do not guess them."
        ),
    )
    @_boundary
    async def auth_status(lang: LangArg) -> Annotated[CallToolResult, StatusOut]:
        state = await _run(service.status)
        reply = templates.status_reply(lang, state.status, state.site, state.scopes, state.reason)
        return _result(
            StatusOut(
                reply=reply,
                status=state.status,
                site=state.site,
                scopes=state.scopes or None,
                reason=state.reason,
            )
        )

    @mcp.tool(
        title="Log out of OKX",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Logs the user out of OKX: revokes the session at OKX (best effort, also works offline) and deletes "
            "the local tokens and any pending login. Call it only when the user asks to log out or to switch "
            "site or account. Does not touch API keys in ~/.okx/config.toml. Show `reply` verbatim."
        ),
    )
    @_boundary
    async def logout(lang: LangArg = "en") -> Annotated[CallToolResult, LogoutOut]:
        revoked = await _run(service.logout)
        return _result(LogoutOut(reply=templates.logged_out(lang), revoked=revoked))

    return mcp


def create_server(settings: Settings | None = None) -> MCPServer:
    server = build_server(AuthService(settings or Settings.from_env()))
    # The SDK logs at INFO; one line per HTTP request to stderr is noise in a client's log panel.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    return server
