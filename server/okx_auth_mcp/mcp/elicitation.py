"""Asking the user directly where the client can: the site form (form elicitation) and the open-link request
(URL elicitation), in both protocol generations.

No ``from __future__ import annotations``: the SDK reads these models' annotations.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import AcceptedElicitation, Context, ElicitationResult
from mcp.types import (
    ClientCapabilities,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import LoginPending
from okx_auth_mcp.core.sites import SITE_IDS, SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.errors import ReplyMissing, SiteNotChosen

INPUT_REQUIRED_VERSION = "2026-07-28"
"""From this protocol revision on, a tool asks the user by returning an input-required result; before it, by
sending the client an elicitation request in the middle of the call."""
OPEN_LINK_KEY = "open_verification_link"
OPEN_LINK_WAIT_SECONDS = 120.0
"""How long a 2025-11-25 call waits for the user to answer the open-link request before it returns the link
as text anyway: the login must not hang on a dialog the user has not seen."""

log = logging.getLogger(__name__)


def _titled_choices(schema: dict[str, Any]) -> None:
    # The spec's titled single-select enum: oneOf const/title pairs, in the menu's order.
    schema.pop("enum", None)
    schema["oneOf"] = [{"const": site, "title": texts.site_choice_title(site)} for site in SITE_IDS]


class SiteAnswer(BaseModel):
    """The form the client shows to ask for the site: the menu's three lines as one titled choice."""

    site: SiteId = Field(title="OKX site / 站点", json_schema_extra=_titled_choices)


@dataclass(frozen=True)
class NoQuestion:
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


def titled_choices(pairs: tuple[tuple[str, str], ...]) -> Callable[[dict[str, Any]], None]:
    """A field's ``json_schema_extra`` that makes it the spec's titled single-select enum: ``oneOf`` const/title
    pairs, in order (a yes/no confirmation)."""

    def shape(schema: dict[str, Any]) -> None:
        schema.pop("enum", None)
        schema["oneOf"] = [{"const": value, "title": title} for value, title in pairs]

    return shape


class ChoiceForm(BaseModel):
    # A form of one choice, `answer`: its subclasses give the values, the title and titled_choices. (No docstring,
    # here or in a subclass: it would be the form's description, which a client may show the user.)

    answer: str


def form_reply(response: object, form: type[ChoiceForm]) -> str:
    """The answer to a one-choice form (a mid-call result, or a 2026-07-28 input response) as a reply to the
    question; ``""`` for a decline, a cancel, or an answer that does not fit the form (none of which confirms)."""
    if isinstance(response, AcceptedElicitation) and isinstance(response.data, form):
        return response.data.answer
    if not isinstance(response, ElicitResult) or response.action != "accept" or response.content is None:
        return ""
    try:
        return form.model_validate(response.content).answer
    except ValidationError:
        return ""


async def ask_choice(
    ctx: Context, key: str, message: str, form: type[ChoiceForm], ticket: str
) -> str | InputRequiredResult | None:
    """Ask the user one confirming question, ``form`` with ``message``. From 2026-07-28 on: an input-required result
    under ``key`` whose ``request_state`` (sealed by the SDK) is ``ticket``, answered on the retry
    (:func:`choice_retried`). Before: a request in the middle of the call, and its answer as a reply (``""`` for a
    decline, a cancel or an answer that does not fit). None: the client could not ask; the agent asks instead."""
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        params = ElicitRequestFormParams(message=message, requested_schema=render_elicitation_schema(form))
        return InputRequiredResult(input_requests={key: ElicitRequest(params=params)}, request_state=ticket)
    try:
        return form_reply(await ctx.elicit(message, form), form)
    except ValueError:  # an answer that does not fit the form: it confirms nothing
        return ""
    except Exception as exc:  # the client could not ask: the agent asks instead
        log.info("the client did not take the question (%s): asking through the agent", type(exc).__name__)
        return None


def choice_retried(ctx: Context, forms: Mapping[str, type[ChoiceForm]]) -> tuple[str, str] | None:
    """On the 2026-07-28 retry of :func:`ask_choice`: the ticket it carried and the answer under one of ``forms``'
    keys, as a reply (the last key first, should the client send more than one); None when this call is no retry."""
    responses = ctx.input_responses or {}
    if ctx.request_state is None:
        return None
    for key in reversed(list(forms)):
        if key in responses:
            return ctx.request_state, form_reply(responses[key], forms[key])
    return None


def answered_site(answer: ElicitationResult[Any]) -> str:
    """The user's answer to the site form, as a menu reply; raises when there is none."""
    if not isinstance(answer, AcceptedElicitation):
        raise SiteNotChosen(f"the user answered the site question with {answer.action}")
    if isinstance(answer.data, NoQuestion):
        raise answer.data.error or ReplyMissing("choose_site needs the user's reply")
    assert isinstance(answer.data, SiteAnswer)
    return answer.data.site


async def offer_link(ctx: Context, lang: Lang, login: LoginPending) -> InputRequiredResult | None:
    """Ask the client to open the verification link itself (URL-mode elicitation: third-party authorization
    out of band). Whatever the user answers, or if the client fails, the tool's reply still carries the link."""
    return await offer_url(
        ctx,
        key=OPEN_LINK_KEY,
        message=texts.open_link_request(lang, login.site, login.user_code),
        url=login.verification_uri,
        elicitation_id=f"okx-login-{login.site}-{login.user_code or 'redirect'}",
    )


async def offer_url(
    ctx: Context, *, key: str, message: str, url: str, elicitation_id: str
) -> InputRequiredResult | None:
    """Ask the client to open ``url`` (URL-mode elicitation). From 2026-07-28 on that is an input-required
    result under ``key``, once (None on the retry that answers it); before, a request in the middle of the call,
    waited for at most :data:`OPEN_LINK_WAIT_SECONDS`. Whatever the user answers, or if the client fails, None:
    the tool's own reply carries the link."""
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        if ctx.input_responses is not None and key in ctx.input_responses:
            return None  # the retry after the client asked: the user has seen the request
        params = ElicitRequestURLParams(message=message, url=url, elicitation_id=elicitation_id)
        return InputRequiredResult(input_requests={key: ElicitRequest(params=params)})
    with anyio.move_on_after(OPEN_LINK_WAIT_SECONDS) as waiting:
        try:
            answer = await ctx.elicit_url(message, url, elicitation_id)
        except Exception as exc:  # whatever the client did, the tool's text still carries the link
            log.info("the client did not take the open-link request (%s)", type(exc).__name__)
        else:
            log.debug("open-link request answered: %s", answer.action)
    if waiting.cancelled_caught:
        log.info("no answer to the open-link request in %s s: returning the link as text", OPEN_LINK_WAIT_SECONDS)
    return None
