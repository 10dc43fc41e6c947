"""The MCP wiring: the five login tools, a prompt and a resource over :class:`AuthService`, plus the tools of
``credential_tool`` and ``diagnose_tool``. Logic lives in ``service``; texts in ``templates`` and ``guidance``;
error translation in ``tool_errors``. This module only connects them, and asks the user directly
(elicitation) where the client can.

No ``from __future__ import annotations`` here: the SDK reads the tools' annotations, and a ``Resolve(...)``
naming a function local to ``build_server`` must be an object, not a string to evaluate later."""

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    RequestStateSecurity,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import (
    CallToolResult,
    ClientCapabilities,
    ElicitRequest,
    ElicitRequestURLParams,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, ConfigDict, Field

from okx_auth_mcp import __version__
from okx_auth_mcp.core import guidance, texts
from okx_auth_mcp.core.sites import SITE_IDS, SiteId
from okx_auth_mcp.core.texts import Lang, LoginEndReason
from okx_auth_mcp.edges.okx_cli import open_service
from okx_auth_mcp.login.refusals import error_text
from okx_auth_mcp.login.service import (
    AuthService,
    AuthState,
    BackendName,
    LoginPending,
    LoginSkipped,
    ReplyMissing,
    Settings,
    SiteNotChosen,
)

INPUT_REQUIRED_VERSION = "2026-07-28"
"""From this protocol revision on, a tool asks the user by returning an input-required result; before it, by
sending the client an elicitation request in the middle of the call."""
OPEN_LINK_KEY = "open_verification_link"
OPEN_LINK_WAIT_SECONDS = 120.0
"""How long a 2025-11-25 call waits for the user to answer the open-link request before it returns the link
as text anyway: the login must not hang on a dialog the user has not seen."""

log = logging.getLogger(__name__)

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
    backend: BackendName = Field(
        description="What runs the login: this server's own OAuth client, or OKX's official okx CLI."
    )
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


def _status_out(lang: Lang, state: AuthState) -> StatusOut:
    return StatusOut(
        reply=texts.status_reply(lang, state.status, state.site, state.scopes, state.reason),
        status=state.status,
        site=state.site,
        scopes=state.scopes or None,
        reason=state.reason,
    )


def _titled_choices(schema: dict[str, Any]) -> None:
    # The spec's titled single-select enum: oneOf const/title pairs, in the menu's order.
    schema.pop("enum", None)
    schema["oneOf"] = [{"const": site, "title": texts.site_choice_title(site)} for site in SITE_IDS]


class SiteAnswer(BaseModel):
    """The form the client shows to ask for the site: the menu's three lines as one titled choice."""

    site: SiteId = Field(title="OKX site / 站点", json_schema_extra=_titled_choices)


@dataclass(frozen=True)
class _NoQuestion:
    """What the site resolver returns when it asks nothing: the error the tool raises at its boundary, or
    None when the agent passed the user's reply itself."""

    error: Exception | None = None


def can_elicit(capabilities: ClientCapabilities | None, mode: Literal["form", "url"]) -> bool:
    """Whether the client declared elicitation of this mode (a bare ``elicitation: {}``, from before modes
    existed, means form)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None:
        return False
    if mode == "url":
        return elicitation.url is not None
    return elicitation.form is not None or elicitation.url is None


def _answered_site(answer: ElicitationResult[Any]) -> str:
    """The user's answer to the site form, as a menu reply; raises when there is none."""
    if not isinstance(answer, AcceptedElicitation):
        raise SiteNotChosen(f"the user answered the site question with {answer.action}")
    if isinstance(answer.data, _NoQuestion):
        raise answer.data.error or ReplyMissing("choose_site needs the user's reply")
    assert isinstance(answer.data, SiteAnswer)
    return answer.data.site


async def _offer_link(ctx: Context, lang: Lang, login: LoginPending) -> InputRequiredResult | None:
    """Ask the client to open the verification link itself (URL-mode elicitation: third-party authorization
    out of band). From 2026-07-28 on that is an input-required result, once; before, a request in the middle
    of the call. Whatever the user answers, or if the client fails, the tool's reply still carries the link."""
    message = texts.open_link_request(lang, login.site, login.user_code)
    elicitation_id = f"okx-login-{login.site}-{login.user_code}"
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        if ctx.input_responses is not None and OPEN_LINK_KEY in ctx.input_responses:
            return None  # the retry after the client asked: the user has seen the request
        params = ElicitRequestURLParams(message=message, url=login.verification_uri, elicitation_id=elicitation_id)
        return InputRequiredResult(input_requests={OPEN_LINK_KEY: ElicitRequest(params=params)})
    with anyio.move_on_after(OPEN_LINK_WAIT_SECONDS) as waiting:
        try:
            answer = await ctx.elicit_url(message, login.verification_uri, elicitation_id)
        except Exception as exc:  # whatever the client did, the tool's text still carries the link
            log.info("the client did not take the open-link request (%s)", type(exc).__name__)
        else:
            log.debug("open-link request answered: %s", answer.action)
    if waiting.cancelled_caught:
        log.info("no answer to the open-link request in %s s: returning the link as text", OPEN_LINK_WAIT_SECONDS)
    return None


def refusal(exc: Exception) -> CallToolResult:
    """The error result for a known failure (unknown ones are re-raised). Built rather than raised as the SDK's
    ``ToolError``, whose text the SDK prefixes with "Error executing tool ...": clients and agents match on
    the bracketed code at the start."""
    return CallToolResult(content=[TextContent(type="text", text=error_text(exc))], is_error=True)


async def _run(fn: Callable[[], _T]) -> _T:
    """The service call, off the event loop (it does blocking file locks and HTTP)."""
    return await anyio.to_thread.run_sync(fn)


_Returned = TypeVar("_Returned", CallToolResult, CallToolResult | InputRequiredResult)


def _boundary(tool: Callable[_P, Awaitable[_Returned]]) -> Callable[_P, Awaitable[_Returned | CallToolResult]]:
    """Every known failure becomes a ``[code] ...`` error result; the tool's signature is kept for the SDK."""

    @functools.wraps(tool)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _Returned | CallToolResult:
        try:
            return await tool(*args, **kwargs)
        except Exception as exc:
            return refusal(exc)

    return guarded


def build_server(service: AuthService) -> MCPServer:
    mcp = MCPServer(
        "okx-auth-mcp",
        title="OKX login",
        version=__version__,
        instructions=guidance.INSTRUCTIONS,
        request_state_security=RequestStateSecurity(keys=[service.store.request_state_key()]),
    )

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
            reply = texts.SITE_MENU
        elif result.next == "api_key_configured":
            reply = texts.api_key_configured(result.profile or "")
        elif login is not None:
            reply = texts.login_started(lang, login.site, login.verification_uri, login.user_code, login.expires_in)
        else:
            reply = texts.status_reply(lang, result.next, result.site, result.scopes, None)
        return _result(
            PreflightOut(
                reply=reply,
                next=result.next,
                backend=service.backend_name,
                menu_ticket=result.menu_ticket,
                profile=result.profile,
                site=result.site,
                scopes=result.scopes or None,
                verificationUri=login.verification_uri if login else None,
                userCode=login.user_code if login else None,
                expiresIn=login.expires_in if login else None,
            )
        )

    async def ask_site(reply: str | None, menu_ticket: str, ctx: Context) -> Elicit[SiteAnswer] | _NoQuestion:
        """The client asks the user for the site itself when the agent brought no reply and the client can
        (form elicitation), after the menu ticket proved good: a user is never asked for nothing."""
        if reply is not None:
            return _NoQuestion()
        if not can_elicit(ctx.client_capabilities, "form"):
            return _NoQuestion(ReplyMissing("the client cannot ask the user"))
        try:
            await _run(lambda: service.menu_gate(menu_ticket))
        except Exception as exc:
            return _NoQuestion(exc)
        return Elicit(texts.SITE_QUESTION, SiteAnswer)

    @mcp.tool(
        title="Record the user's OKX site choice",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Turns the user's answer to the site menu into a confirmed site and a `site_ticket`. Call it only "
            "after preflight returned next 'choose_site', with its `menu_ticket`. If your client can ask the "
            "user directly (elicitation), call it without `reply`: the user answers in a form. Otherwise show "
            "preflight's menu, wait for the user's answer, and pass it unchanged as `reply` (e.g. '1', '2', '3', "
            "'global', 'eea', 'us'). Never pass a site the user did not type. If the answer chooses nothing, "
            "the error repeats the menu: show it again and ask. Then follow `next`: 'login' → call "
            "auth_login_manual with `site` and `site_ticket`; 'api_key_configured' → show `reply`, do not log in."
        ),
    )
    @_boundary
    async def choose_site(
        menu_ticket: Annotated[str, Field(description="The menu_ticket preflight returned with the menu.")],
        answer: Annotated[ElicitationResult[Any], Resolve(ask_site)],
        reply: Annotated[
            str | None,
            Field(
                description="The user's answer to the site menu, exactly as they wrote it. Omit it only to "
                "let the client ask the user itself."
            ),
        ] = None,
    ) -> Annotated[CallToolResult, ChooseSiteOut]:
        menu_reply = reply if reply is not None else _answered_site(answer)
        choice = await _run(lambda: service.choose_site(menu_reply, menu_ticket))
        text = (
            texts.api_key_configured(choice.profile)
            if choice.profile is not None
            else texts.site_chosen(choice.site)
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
        ctx: Context,
        site_ticket: Annotated[
            str | None,
            Field(description="Required: the site_ticket choose_site returned with that site. Never invent one."),
        ] = None,
    ) -> Annotated[CallToolResult, LoginOut] | InputRequiredResult:
        outcome = await _run(lambda: service.login(site, site_ticket))
        if isinstance(outcome, LoginSkipped):
            return _result(
                LoginOut(
                    reply=texts.api_key_configured(outcome.profile),
                    status="skipped",
                    reason="api_key_configured",
                    profile=outcome.profile,
                )
            )
        if can_elicit(ctx.client_capabilities, "url"):
            asked = await _offer_link(ctx, lang, outcome)
            if asked is not None:
                return asked
        return _result(
            LoginOut(
                reply=texts.login_started(
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
        return _result(_status_out(lang, await _run(service.status)))

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
        return _result(LogoutOut(reply=texts.logged_out(lang), revoked=revoked))

    @mcp.resource(
        "okx://auth/status",
        name="okx_auth_status",
        title="OKX login status",
        mime_type="application/json",
        description="What auth_status returns, from local state only: it never polls or refreshes.",
    )
    async def auth_status_resource() -> str:
        try:
            state = await _run(service.auth_state)
        except Exception as exc:
            raise ResourceError(error_text(exc)) from exc
        return json.dumps(_status_out("en", state).model_dump(mode="json", exclude_none=True), ensure_ascii=False)

    @mcp.prompt(
        name="okx_auth_login",
        title="Log in to OKX",
        description="The OKX login procedure (site choice first, then the device-code login) for these tools.",
    )
    def okx_auth_login(lang: LangArg = "en") -> str:
        return guidance.login_procedure(lang)

    from okx_auth_mcp.mcp import diagnose_tool, verify_tool  # they build on this module's helpers

    verify_tool.register(mcp, service)
    diagnose_tool.register(mcp, service)
    return mcp


def create_server(settings: Settings | None = None) -> MCPServer:
    server = build_server(open_service(settings or Settings.from_env()))
    # The SDK logs at INFO; one line per HTTP request to stderr is noise in a client's log panel. Its HTTP
    # transport logs each session's id, which lets whoever reads the log act in that session.
    for name in ("httpx2", "mcp.server.streamable_http", "mcp.server.streamable_http_manager"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return server
