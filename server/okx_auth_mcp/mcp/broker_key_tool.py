"""The ``broker_create_subaccount_api_key`` tool: a DMA sub-account's API key, minted least-privilege once the
user confirmed it, its secret going into OKX's config file (or onto a one-time page), never into the chat. The
procedure is ``login.broker_keys``, the texts ``core.broker_texts``; errors become text at the boundary.

The user confirms as for ``remove_api_key_profile``, and both ways end in the same check of the same ticket:

- A client with form elicitation is asked directly: on 2025-11-25 in the middle of the call, from 2026-07-28 as
  an input-required result whose ``request_state`` (sealed by the SDK) is the ticket. A key with ``withdraw``
  is asked a second, separate question the same way.
- Any other client: the call returns status ``confirm``, the question as ``reply`` and a ticket; a second call
  with the ticket and the user's own reply answers it (and, for ``withdraw``, returns the second question).

No ``from __future__ import annotations`` here: the SDK reads the tool's annotations.
"""

import functools
import logging
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import (
    CallToolResult,
    InputRequiredResult,
    ToolAnnotations,
)
from pydantic import Field

from okx_auth_mcp.core import broker_confirmation as confirmation
from okx_auth_mcp.core.broker_confirmation import KeyConfirmationInvalid
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.core.tickets import MAX_TICKET_LENGTH
from okx_auth_mcp.login.broker_keys import BrokerKeys, KeyQuestion, Outcome
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync
from okx_auth_mcp.mcp.elicitation import ChoiceForm, ask_choice, can_elicit, choice_retried, titled_choices
from okx_auth_mcp.mcp.login_tools import MAX_REPLY_LENGTH

ANSWER_KEYS = {"create": "confirm_key_creation", "withdraw": "confirm_withdraw_permission"}
"""The input request's key for each question, from 2026-07-28 on."""

log = logging.getLogger(__name__)


class CreateAnswer(ChoiceForm):
    answer: Literal["yes", "no"] = Field(
        title=confirmation.ANSWER_TITLE, json_schema_extra=titled_choices(confirmation.ANSWER_CHOICES)
    )


class WithdrawAnswer(ChoiceForm):
    answer: Literal["withdraw", "no"] = Field(
        title=confirmation.WITHDRAW_TITLE, json_schema_extra=titled_choices(confirmation.WITHDRAW_CHOICES)
    )


FORMS: dict[str, type[ChoiceForm]] = {"create": CreateAnswer, "withdraw": WithdrawAnswer}
ANSWERED_FORMS = {ANSWER_KEYS[stage]: form for stage, form in FORMS.items()}
"""Each question's form by its input request's key: what a 2026-07-28 retry answers."""


class KeyOut(ToolOut):
    reply: str = Field(description="Show this to the user verbatim (status 'confirm': the question).")
    status: Literal["confirm", "not_created", "saved", "on_page", "recovery_file"]
    sub_account: str
    stage: Literal["create", "withdraw"] | None = Field(default=None, description="confirm: which question.")
    confirmation_ticket: str | None = Field(
        default=None, description="confirm: pass it back with the user's own reply; valid 10 minutes."
    )
    key: dict[str, Any] | None = Field(
        default=None, description="The new key: api_key (masked), permissions, ip, label, created_ms. Never a secret."
    )
    profile: str | None = Field(default=None, description="saved: the config profile that holds the secret.")
    path: str | None = Field(default=None, description="saved: OKX's config file.")
    backup: str | None = None
    page_url: str | None = Field(default=None, description="on_page: the one-time page; give it to the user.")
    recovery_file: str | None = Field(default=None, description="recovery_file: where the secret is kept.")
    next: Literal["wait_for_reply", "done"]


def outcome_out(lang: Lang, outcome: Outcome) -> KeyOut:
    if isinstance(outcome, KeyQuestion):
        return KeyOut(
            reply=outcome.text(lang),
            status="confirm",
            sub_account=outcome.request.sub_acct,
            stage=outcome.stage,
            confirmation_ticket=outcome.ticket,
            next="wait_for_reply",
        )
    summary = outcome.summary()
    summary.pop("sub_account", None)
    return KeyOut(reply=outcome.text(lang), sub_account=outcome.request.sub_acct, next="done", **summary)


def register(mcp: MCPServer, keys: BrokerKeys) -> None:
    """Add ``broker_create_subaccount_api_key`` to ``mcp``."""

    async def asked(ctx: Context, lang: Lang, outcome: Outcome) -> CallToolResult | InputRequiredResult:
        """Ask the client's user each question the procedure returns, until it returns an outcome."""
        while isinstance(outcome, KeyQuestion):
            question = outcome
            key, form = ANSWER_KEYS[question.stage], FORMS[question.stage]
            reply = await ask_choice(ctx, key, question.text(lang), form, question.ticket)
            if reply is None:
                return result(outcome_out(lang, question))
            if isinstance(reply, InputRequiredResult):
                return reply
            outcome = await run_sync(functools.partial(keys.answer, question.ticket, reply, lang))
        return result(outcome_out(lang, outcome))

    @mcp.tool(
        title="Create an API key for a broker's sub-account (confirmed by the user)",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
        description=(
            "Creates an API key for one of the DMA broker's sub-accounts (POST "
            "/api/v5/broker/dma/subaccount/apikey), once the user confirms. Least privilege: perm defaults to "
            "read_only; add trade or withdraw only when the user asked for it (withdraw is confirmed in a separate "
            "question); bind the key to the IP addresses the user gives (ip). The passphrase is generated here. "
            "The new secret key and passphrase never reach you: they go straight into OKX's config file as profile "
            "sub-<subAcct>-<label> (deliver='config'), or are shown once on a page on this computer "
            "(deliver='page'). If your client can ask the user directly (elicitation), call it once: the user "
            "answers there. Otherwise the call returns status 'confirm' with the question as `reply` and a "
            "`confirmation_ticket`: show `reply` verbatim, wait for the user's answer, and call again with the same "
            "subAcct, the ticket and the user's own answer as `reply`; a key with withdraw returns a second "
            "question the same way. Never answer for the user."
        ),
    )
    @boundary
    async def broker_create_subaccount_api_key(
        subAcct: Annotated[str, Field(description="The sub-account's name (6-20 letters or digits).", max_length=20)],
        label: Annotated[str, Field(description="The key's label: 1-50 letters or digits.", max_length=50)],
        lang: LangArg,
        ctx: Context,
        perm: Annotated[
            list[Literal["read_only", "trade", "withdraw"]] | None,
            Field(description="Permissions; read_only is always included and is the default.", max_length=3),
        ] = None,
        ip: Annotated[
            list[Annotated[str, Field(max_length=45)]] | None,
            Field(description="Up to 20 IPv4/IPv6 addresses allowed to use the key (recommended).", max_length=20),
        ] = None,
        deliver: Annotated[
            Literal["config", "page"],
            Field(description="config: into OKX's config file (default). page: shown once on a local page."),
        ] = "config",
        confirmation_ticket: Annotated[
            str | None,
            Field(
                description="Second call only: the confirmation_ticket returned. Never invent one.",
                max_length=MAX_TICKET_LENGTH,
            ),
        ] = None,
        reply: Annotated[
            str | None,
            Field(description="Second call only: the user's answer, exactly as typed.", max_length=MAX_REPLY_LENGTH),
        ] = None,
    ) -> Annotated[CallToolResult, KeyOut] | InputRequiredResult:
        again = choice_retried(ctx, ANSWERED_FORMS)
        if again is not None:
            ticket, answer = again
            return await asked(ctx, lang, await run_sync(lambda: keys.answer(ticket, answer, lang, sub_acct=subAcct)))
        if confirmation_ticket is not None or reply is not None:
            if confirmation_ticket is None or reply is None:
                raise KeyConfirmationInvalid("a key confirmation needs the confirmation_ticket and the user's reply")
            outcome = await run_sync(lambda: keys.answer(confirmation_ticket, reply, lang, sub_acct=subAcct))
            return result(outcome_out(lang, outcome))
        question = await run_sync(lambda: keys.ask(subAcct, label, perm, ip, deliver))
        if can_elicit(ctx.client_capabilities, "form"):
            return await asked(ctx, lang, question)
        return result(outcome_out(lang, question))
