"""``setup_api_key`` and ``setup_api_key_status``: an API key saved from the user's browser into OKX's config
file, out of the chat. The page and its server are ``login.api_key_page``'s, the texts ``core.setup_replies``'.
No argument and no result of these tools holds a secret.

No ``from __future__ import annotations`` here: the SDK reads the tools' annotations."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field

from okx_auth_mcp.core import setup_replies
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.api_key_page import ApiKeyPages, Page, page_outcome
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync
from okx_auth_mcp.mcp.elicitation import can_elicit, offer_url

OPEN_PAGE_KEY = "open_api_key_page"


class SetupOut(ToolOut):
    reply: str = Field(description="Show this to the user verbatim.")
    status: Literal["waiting", "saved", "expired", "none"]
    url: str | None = Field(default=None, description="waiting: the page's link (also in `reply`).")
    expiresIn: int | None = Field(default=None, description="waiting: seconds the page has left.")
    profile: str | None = Field(
        default=None, description="saved: the profile that holds the key (now default_profile)."
    )
    verified: Literal["ok", "rejected", "unchecked"] | None = Field(
        default=None, description="saved: what OKX said of the key ('unchecked': it could not be asked)."
    )
    code: str | None = Field(default=None, description="rejected: OKX's error code (none for a bare HTTP 401).")
    site: SiteId | None = None
    demo: bool | None = None
    uid: str | None = Field(default=None, description="ok: the account's UID, masked.")
    permissions: list[str] | None = None
    path: str | None = Field(default=None, description="saved: the config file written.")
    backup: str | None = Field(default=None, description="saved: a copy of the file as it was, when one was kept.")


def page_out(lang: Lang, page: Page | None, now: float) -> SetupOut:
    """The tools' result for the latest page (or none)."""
    if page is None:
        return SetupOut(reply=setup_replies.none_opened(lang), status="none")
    if page.state == "waiting":
        left = page.seconds_left(now)
        return SetupOut(
            reply=setup_replies.still_open(lang, page.url, left), status="waiting", url=page.url, expiresIn=left
        )
    if page.saved is None:
        return SetupOut(reply=setup_replies.expired(lang), status="expired")
    outcome = page_outcome(page.saved)
    return SetupOut(
        reply=setup_replies.saved(lang, outcome),
        status="saved",
        profile=outcome.profile,
        verified=outcome.status,
        code=outcome.code,
        site=outcome.site,
        demo=outcome.demo,
        uid=outcome.uid,
        permissions=list(outcome.permissions) if outcome.status == "ok" else None,
        path=outcome.path,
        backup=outcome.backup,
    )


def preflight_note(pages: ApiKeyPages, lang: Lang) -> str | None:
    """For preflight: a page used since an agent was last told, once."""
    page = pages.take_unreported()
    return None if page is None or page.saved is None else setup_replies.saved(lang, page_outcome(page.saved))


def register(mcp: MCPServer, pages: ApiKeyPages) -> None:
    """Add ``setup_api_key`` and ``setup_api_key_status`` to ``mcp``, serving ``pages``."""

    @mcp.tool(
        title="Save an OKX API key (one-time page)",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
        description=(
            "Opens a one-time page on this computer (127.0.0.1) where the user types an OKX API key, secret key "
            "and passphrase; the page writes them into OKX's config file (~/.okx/config.toml, as the profile OKX's "
            "tools use) and checks the key with OKX once. Use it when the user wants to add or replace an API key "
            "(for example option 1 after verify_credentials said api_key_rejected). NEVER ask the user to paste a "
            "key, secret or passphrase into the chat, and never pass one to any tool: this tool takes none. Show "
            "`reply` verbatim (it has the link; the link works once, for 10 minutes; calling this again replaces "
            "it), then wait for the user to say they are done and call setup_api_key_status once."
        ),
    )
    @boundary
    async def setup_api_key(lang: LangArg, ctx: Context) -> Annotated[CallToolResult, SetupOut] | InputRequiredResult:
        retry = ctx.input_responses is not None and OPEN_PAGE_KEY in ctx.input_responses
        page = pages.current() if retry else None  # the retry after the client asked the user to open the page
        if page is None or page.state != "waiting":
            page = await run_sync(lambda: pages.start(lang))
            if can_elicit(ctx.client_capabilities, "url"):
                asked = await offer_url(
                    ctx,
                    key=OPEN_PAGE_KEY,
                    message=setup_replies.open_page_request(lang),
                    url=page.url,
                    elicitation_id=page.elicitation_id,
                )
                if asked is not None:
                    return asked
        left = page.seconds_left(pages.monotonic())
        return result(
            SetupOut(
                reply=setup_replies.page_opened(lang, page.url, pages.config_path(), left),
                status="waiting",
                url=page.url,
                expiresIn=left,
            )
        )

    @mcp.tool(
        title="Check the OKX API-key page",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Says what became of the page setup_api_key opened: 'waiting' (not filled in yet: show `reply`, wait "
            "for the user), 'saved' (the profile that now holds the key, and `verified`: 'ok', 'rejected' — "
            "`reply` then offers exactly two options for the user to choose; never choose for them — or "
            "'unchecked'), 'expired' (nothing saved) or 'none'. Never returns a secret. Call it once after the "
            "user says they are done. Show `reply` verbatim."
        ),
    )
    @boundary
    async def setup_api_key_status(lang: LangArg) -> Annotated[CallToolResult, SetupOut]:
        return result(page_out(lang, pages.report(), pages.monotonic()))
