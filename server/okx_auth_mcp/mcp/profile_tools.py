"""The ``remove_api_key_profile`` tool: Step 0.2.a's option 2 (remove the rejected key's profile), confirmed by
the user. The procedure is ``login.profile_removal``, the texts ``core.profile_removal``', errors become text at
the boundary (``mcp.boundary``). ``build_server`` adds it with :func:`register`.

The user confirms in one of two ways, and both end in the same check of the same ticket (bound to the profile,
the file and the file's digest) and the same reply (``yes``/``是``):

- A client with form elicitation is asked a yes/no question naming the profile and the file: on 2025-11-25 in
  the middle of the call, from 2026-07-28 as an input-required result whose ``request_state`` (sealed by the
  SDK) is the ticket, so a file changed between the question and the answer voids the answer in both
  generations. (The SDK's ``Resolve`` runs its resolvers again on the retry: the answer would be bound to the
  file as it is then, not as it was when the user was asked.) A decline, a cancel or ``no`` removes nothing.
- Any other client: the first call returns status ``confirm``, the question as ``reply`` and the ticket; the
  agent shows the question, and a second call with the ticket and the user's reply removes the profile.

No ``from __future__ import annotations`` here: the SDK reads the tool's annotations.
"""

import logging
from collections.abc import Callable
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import (
    CallToolResult,
    InputRequiredResult,
    ToolAnnotations,
)
from pydantic import Field

from okx_auth_mcp.core.profile_removal import ANSWER_CHOICES, ANSWER_TITLE, MAX_NAME_LENGTH, ConfirmationInvalid
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.core.tickets import MAX_TICKET_LENGTH
from okx_auth_mcp.login.profile_removal import Kept, ProfileRemoval, Question, Removed
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync
from okx_auth_mcp.mcp.elicitation import ChoiceForm, ask_choice, can_elicit, choice_retried, titled_choices
from okx_auth_mcp.mcp.login_tools import MAX_REPLY_LENGTH

ANSWER_KEY = "confirm_profile_removal"
"""The input request's key, from 2026-07-28 on."""

log = logging.getLogger(__name__)


class RemovalAnswer(ChoiceForm):
    # The form: one titled yes/no choice, whose "yes" is the reply that confirms. (No docstring: it would be the
    # form's description, which a client may show the user.)

    answer: Literal["yes", "no"] = Field(title=ANSWER_TITLE, json_schema_extra=titled_choices(ANSWER_CHOICES))


class RemovalOut(ToolOut):
    reply: str = Field(
        description="Show this to the user verbatim (status 'confirm': the question, naming the profile and the file)."
    )
    status: Literal["removed", "confirm", "kept"]
    profile: str
    path: str = Field(description="OKX's config file the profile is (or was) in.")
    backup: str | None = Field(default=None, description="removed: the copy of the file as it was before.")
    default_profile_cleared: bool | None = Field(default=None, description="removed: whether default_profile named it.")
    profile_in_effect: str | None = Field(
        default=None, description="removed: the API-key profile OKX's tools use now, if another one is configured."
    )
    confirmation_ticket: str | None = Field(
        default=None,
        description="confirm: pass it back with the user's own reply; valid 10 minutes, for this file as it is.",
    )
    next: Literal["preflight", "wait_for_reply", "done"] = Field(
        description="'preflight': removed, call preflight and follow it. 'wait_for_reply': show `reply`, wait for "
        "the user's answer, call again with it and confirmation_ticket. 'done': nothing was removed."
    )


def question_out(lang: Lang, question: Question) -> RemovalOut:
    return RemovalOut(
        reply=question.text(lang),
        status="confirm",
        profile=question.profile,
        path=str(question.path),
        confirmation_ticket=question.ticket,
        next="wait_for_reply",
    )


def outcome_out(lang: Lang, outcome: Removed | Kept) -> RemovalOut:
    return RemovalOut(
        reply=outcome.text(lang), next="preflight" if isinstance(outcome, Removed) else "done", **outcome.summary()
    )


def register(mcp: MCPServer, service: AuthService, *, clock: Callable[[], float] | None = None) -> None:
    """Add ``remove_api_key_profile`` to ``mcp``; ``clock`` (else the service's) dates the confirmations (ten
    minutes each)."""
    removal = ProfileRemoval.of(service, clock)

    async def confirmed(lang: Lang, profile: str, ticket: str, reply: str) -> CallToolResult:
        return result(outcome_out(lang, await run_sync(lambda: removal.confirm(profile, ticket, reply))))

    async def ask_user(ctx: Context, lang: Lang, profile: str) -> CallToolResult | InputRequiredResult:
        """The client asks the user (form elicitation), after the profile proved removable."""
        again = choice_retried(ctx, {ANSWER_KEY: RemovalAnswer})
        if again is not None:  # the retry: the ticket and the answer
            return await confirmed(lang, profile, *again)
        question = await run_sync(lambda: removal.ask(profile))
        asked = await ask_choice(ctx, ANSWER_KEY, question.text(lang), RemovalAnswer, question.ticket)
        if asked is None:
            return result(question_out(lang, question))
        if isinstance(asked, InputRequiredResult):
            return asked
        return await confirmed(lang, profile, question.ticket, asked)

    @mcp.tool(
        title="Remove an OKX API-key profile (confirmed by the user)",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
        ),
        description=(
            "Removes one API-key profile from OKX's config file (~/.okx/config.toml: its [profiles.NAME] block, "
            "and default_profile when it names it) once the user confirms; a backup of the file is kept. Call it "
            "ONLY when the user chose, of the two options verify_credentials gives for a rejected API key, to "
            "remove the key's profile and switch to OAuth (option 2): never on your own, never as a fix for "
            "anything else. Pass the profile exactly as verify_credentials or preflight named it. If your client "
            "can ask the user directly (elicitation), call it with `profile` and `lang` alone: the user answers "
            "a yes/no question. Otherwise the first call returns status 'confirm' with the question as `reply` "
            "and a `confirmation_ticket`: show `reply` verbatim, wait for the user's answer, and call again with "
            "the same `profile`, the `confirmation_ticket` and the user's own answer as `reply` (only 'yes' or "
            "'是' removes it). Never answer for the user and never pass a reply they did not type. Then follow "
            "`next`: 'preflight' (removed) → call preflight and follow it (it shows the site menu, or the login "
            "state, or another API key still configured); 'done' (kept) → nothing was removed, do not ask again "
            "unless the user wants to. A key from the environment (profile 'env') cannot be removed here."
        ),
    )
    @boundary
    async def remove_api_key_profile(
        profile: Annotated[
            str,
            Field(
                description="The API-key profile to remove, exactly as verify_credentials or preflight named it.",
                max_length=MAX_NAME_LENGTH,
            ),
        ],
        lang: LangArg,
        ctx: Context,
        confirmation_ticket: Annotated[
            str | None,
            Field(
                description="Second call only: the confirmation_ticket the first call returned. Never invent one.",
                max_length=MAX_TICKET_LENGTH,
            ),
        ] = None,
        reply: Annotated[
            str | None,
            Field(
                description="Second call only, with confirmation_ticket: the user's answer to the question, "
                "exactly as they typed it.",
                max_length=MAX_REPLY_LENGTH,
            ),
        ] = None,
    ) -> Annotated[CallToolResult, RemovalOut] | InputRequiredResult:
        if confirmation_ticket is not None or reply is not None:
            if confirmation_ticket is None or reply is None:
                raise ConfirmationInvalid("a removal needs both the confirmation_ticket and the user's reply to it")
            return await confirmed(lang, profile, confirmation_ticket, reply)
        if can_elicit(ctx.client_capabilities, "form"):
            return await ask_user(ctx, lang, profile)
        return result(question_out(lang, await run_sync(lambda: removal.ask(profile))))
