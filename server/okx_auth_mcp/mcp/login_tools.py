"""The five login tools (preflight, choose_site, auth_login_manual, auth_status, logout), the status resource
and the login prompt, over :class:`~okx_auth_mcp.login.service.AuthService`. The procedure is the service's,
the texts ``core.replies``', the failures are turned into text at the boundary (``mcp.boundary``).

No ``from __future__ import annotations`` here: the SDK reads the tools' annotations, and a ``Resolve(...)``
naming a function local to :func:`register` must be an object, not a string to evaluate later."""

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Elicit, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field

from okx_auth_mcp.core import guidance, replies, texts
from okx_auth_mcp.core.login_state import AuthState, LoginSkipped
from okx_auth_mcp.core.records import LoginEndReason
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.core.tickets import MAX_TICKET_LENGTH
from okx_auth_mcp.login.backends import backend_note
from okx_auth_mcp.login.errors import ReplyMissing
from okx_auth_mcp.login.refusals import error_text
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import BackendName
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync
from okx_auth_mcp.mcp.elicitation import NoQuestion, SiteAnswer, answered_site, can_elicit, offer_link


class PreflightOut(ToolOut):
    reply: str = Field(
        description="Show this to the user verbatim (the site menu, always in Chinese, for choose_site)."
    )
    next: Literal["choose_site", "api_key_configured", "logged_in", "pending"]
    backend: BackendName = Field(
        description="What runs the login: this server's own OAuth client, or OKX's official okx CLI."
    )
    backend_note: str | None = Field(
        None,
        description="Why this server's own OAuth client runs the login although OKX's okx CLI may be installed "
        "(OKX_AUTH_BACKEND=auto), and what the user can do about it. Not part of `reply`: mention it only when the "
        "user asks which login is used or why OKX's CLI is not.",
    )
    menu_ticket: str | None = Field(None, description="Pass to choose_site with the user's reply to the menu.")
    profile: str | None = Field(None, description="The API-key profile in use (api_key_configured).")
    site: SiteId | None = None
    scopes: list[str] | None = None
    verificationUri: str | None = Field(None, description="pending: the live login's link, shown again.")
    userCode: str | None = Field(None, description="pending: the live login's code, shown again.")
    expiresIn: int | None = Field(None, description="pending: seconds the code has left.")
    api_key_setup: str | None = Field(
        None,
        description="An API key the user saved on setup_api_key's page since an agent was last told: which "
        "profile holds it and what OKX said (also at the end of `reply`). Said once.",
    )


class ChooseSiteOut(ToolOut):
    reply: str
    site: SiteId
    site_ticket: str = Field(description="Pass to auth_login_manual with exactly this site; valid 10 minutes.")
    next: Literal["login", "api_key_configured"]
    profile: str | None = None


class LoginOut(ToolOut):
    reply: str
    status: Literal["pending", "skipped"]
    reason: Literal["api_key_configured"] | None = None
    profile: str | None = None
    site: SiteId | None = None
    verificationUri: str | None = None
    userCode: str | None = None
    expiresIn: int | None = None


class StatusOut(ToolOut):
    reply: str
    status: Literal["logged_in", "pending", "not_logged_in"]
    site: SiteId | None = None
    scopes: list[str] | None = None
    reason: LoginEndReason | None = None
    storage: str | None = None
    """Where a logged-in session's tokens are (``keyring (SecretService)``, ``file (...)``); not in ``reply``,
    which stays OKX's template."""


class LogoutOut(ToolOut):
    reply: str
    status: Literal["not_logged_in"] = "not_logged_in"
    revoked: bool


MAX_REPLY_LENGTH = 2000
"""The longest menu reply taken: whatever a user types as an answer, not a document."""


def status_out(lang: Lang, state: AuthState, storage: str | None = None) -> StatusOut:
    return StatusOut(
        reply=replies.status(lang, state, "agent"),
        status=state.status,
        site=state.site,
        scopes=state.scopes or None,
        reason=state.reason,
        storage=storage if state.status == "logged_in" else None,
    )


def register(mcp: MCPServer, service: AuthService, *, setup_note: Callable[[Lang], str | None] | None = None) -> None:
    """Add the login tools, the status resource and the login prompt to ``mcp``. ``setup_note`` gives what
    preflight says, once, of an API key saved on the one-time page since an agent was last told."""

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
    @boundary
    async def preflight(lang: LangArg = "en") -> Annotated[CallToolResult, PreflightOut]:
        pre = await run_sync(service.preflight)
        login, note = pre.login, backend_note(service)
        saved = setup_note(lang) if setup_note is not None else None
        reply = replies.preflight(lang, pre)
        return result(
            PreflightOut(
                reply=reply if saved is None else f"{saved}\n\n{reply}",
                next=pre.next,
                backend=service.backend_name,
                backend_note=note.view(lang) if note else None,
                menu_ticket=pre.menu_ticket,
                profile=pre.profile,
                site=pre.site,
                scopes=pre.scopes or None,
                verificationUri=login.verification_uri if login else None,
                userCode=login.user_code if login else None,
                expiresIn=login.expires_in if login else None,
                api_key_setup=saved,
            )
        )

    async def ask_site(reply: str | None, menu_ticket: str, ctx: Context) -> Elicit[SiteAnswer] | NoQuestion:
        """The client asks the user for the site itself when the agent brought no reply and the client can
        (form elicitation), after the menu ticket proved good: a user is never asked for nothing."""
        if reply is not None:
            return NoQuestion()
        if not can_elicit(ctx.client_capabilities, "form"):
            return NoQuestion(ReplyMissing("the client cannot ask the user"))
        try:
            await run_sync(lambda: service.menu_gate(menu_ticket))
        except Exception as exc:
            return NoQuestion(exc)
        return Elicit(texts.SITE_QUESTION, SiteAnswer)

    @mcp.tool(
        title="Record the user's OKX site choice",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Turns the user's answer to the site menu into a confirmed site and a `site_ticket`. Call it only "
            "after preflight returned next 'choose_site', with its `menu_ticket`. If your client can ask the "
            "user directly (elicitation), call it without `reply`: the user answers in a form. Otherwise show "
            "preflight's menu, wait for the user's answer, and pass it unchanged as `reply` (e.g. '1', '4', "
            "'global', 'eea', 'us', 'tr'). Never pass a site the user did not type. If the answer chooses nothing, "
            "the error repeats the menu: show it again and ask. Then follow `next`: 'login' → call "
            "auth_login_manual with `site` and `site_ticket`; 'api_key_configured' → show `reply`, do not log in."
        ),
    )
    @boundary
    async def choose_site(
        menu_ticket: Annotated[
            str,
            Field(description="The menu_ticket preflight returned with the menu.", max_length=MAX_TICKET_LENGTH),
        ],
        answer: Annotated[ElicitationResult[Any], Resolve(ask_site)],
        reply: Annotated[
            str | None,
            Field(
                description="The user's answer to the site menu, exactly as they wrote it. Omit it only to "
                "let the client ask the user itself.",
                max_length=MAX_REPLY_LENGTH,
            ),
        ] = None,
    ) -> Annotated[CallToolResult, ChooseSiteOut]:
        menu_reply = reply if reply is not None else answered_site(answer)
        choice = await run_sync(lambda: service.choose_site(menu_reply, menu_ticket))
        return result(
            ChooseSiteOut(
                reply=replies.site_choice(choice),
                site=choice.site,
                site_ticket=choice.site_ticket,
                next=choice.next,
                profile=choice.profile,
            )
        )

    @mcp.tool(
        title="Start OKX login",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Starts an OKX OAuth login and returns at once with a link for the user, and a code to type there for "
            "the device login (the PKCE and authorization-code logins an app is configured for have no code: the "
            "user opens the link and approves; it never waits). "
            "Requires `site` and `site_ticket` from choose_site, for the site the user chose just now; without "
            "them it refuses. Do not call it if preflight said api_key_configured or logged_in. Show `reply` to "
            "the user verbatim in your own message (the link and code must be visible as chat text), then WAIT "
            "for the user to say they are done and call auth_status once. Do not poll. Calling it again while a "
            "login is pending returns the same code. If it returns status 'skipped', an API key is configured: "
            "show `reply` and use the key."
        ),
    )
    @boundary
    async def auth_login_manual(
        site: Annotated[SiteId, Field(description="The site choose_site returned: 'global', 'eea', 'us' or 'tr'.")],
        lang: LangArg,
        ctx: Context,
        site_ticket: Annotated[
            str | None,
            Field(
                description="Required: the site_ticket choose_site returned with that site. Never invent one.",
                max_length=MAX_TICKET_LENGTH,
            ),
        ] = None,
    ) -> Annotated[CallToolResult, LoginOut] | InputRequiredResult:
        outcome = await run_sync(lambda: service.login(site, site_ticket))
        if isinstance(outcome, LoginSkipped):
            return result(
                LoginOut(
                    reply=replies.login(lang, outcome, "agent"),
                    status="skipped",
                    reason="api_key_configured",
                    profile=outcome.profile,
                )
            )
        if can_elicit(ctx.client_capabilities, "url"):
            asked = await offer_link(ctx, lang, outcome)
            if asked is not None:
                return asked
        return result(
            LoginOut(
                reply=replies.login(lang, outcome, "agent"),
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
    @boundary
    async def auth_status(lang: LangArg) -> Annotated[CallToolResult, StatusOut]:
        state = await run_sync(service.status)
        return result(status_out(lang, state, await run_sync(service.token_storage)))

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
    @boundary
    async def logout(lang: LangArg = "en") -> Annotated[CallToolResult, LogoutOut]:
        revoked = await run_sync(service.logout)
        return result(LogoutOut(reply=replies.logged_out(lang), revoked=revoked))

    @mcp.resource(
        "okx://auth/status",
        name="okx_auth_status",
        title="OKX login status",
        mime_type="application/json",
        description="What auth_status returns, from local state only: it never polls or refreshes.",
    )
    async def auth_status_resource() -> str:
        try:
            state = await run_sync(service.auth_state)
        except Exception as exc:
            raise ResourceError(error_text(exc)) from exc
        return json.dumps(status_out("en", state).model_dump(mode="json", exclude_none=True), ensure_ascii=False)

    @mcp.prompt(
        name="okx_auth_login",
        title="Log in to OKX",
        description="The OKX login procedure (site choice first, then the device-code login) for these tools.",
    )
    def okx_auth_login(lang: LangArg = "en") -> str:
        return guidance.login_procedure(lang)
