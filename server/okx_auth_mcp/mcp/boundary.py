"""The tool boundary: where every failure becomes the error result an agent reads, ``[code] what happened.
Next: what to do``, and the helpers every tool module shares.

Two kinds of failure reach it:

- A refusal or failure of the procedure (``login.errors``, the lower layers' errors): each tool is wrapped in
  :func:`boundary`, which turns the exception into its text with ``login.refusals.error_text``.
- Arguments that do not fit a tool's inputSchema (the wrong type, a value outside its enum, a missing field, a
  string too long), or a client's answer to an elicitation form that does not fit the form. The SDK checks
  these before the tool runs and would answer with pydantic's raw text; :class:`GatedServer` answers
  ``[invalid_arguments] <field>: <what is expected>. Next: ...`` instead, naming the fields and never the
  values, with nothing changed.

No ``from __future__ import annotations``: the SDK reads the tools' annotations at registration.
"""

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.refusals import error_text

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_P = ParamSpec("_P")

LangArg = Annotated[Lang, Field(description="The user's language: 'zh' if they write Chinese, else 'en'.")]


class ToolOut(BaseModel):
    """The base of every tool's structured result (its outputSchema)."""

    model_config = ConfigDict(extra="forbid")


def result(out: ToolOut) -> CallToolResult:
    structured = out.model_dump(mode="json", exclude_none=True)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(structured, ensure_ascii=False, indent=1))],
        structured_content=structured,
    )


def error_result(text: str) -> CallToolResult:
    """An error result carrying ``text`` alone. Built rather than raised as the SDK's ``ToolError``, whose text
    the SDK prefixes with "Error executing tool ...": clients and agents match on the bracketed code at the
    start."""
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def refusal(exc: Exception) -> CallToolResult:
    """The error result for a known failure (unknown ones are re-raised)."""
    return error_result(error_text(exc))


async def run_sync(fn: Callable[[], _T]) -> _T:
    """A procedure call, off the event loop (it does blocking file locks and HTTP)."""
    return await anyio.to_thread.run_sync(fn)


_Returned = TypeVar("_Returned", CallToolResult, CallToolResult | InputRequiredResult)


def boundary(tool: Callable[_P, Awaitable[_Returned]]) -> Callable[_P, Awaitable[_Returned | CallToolResult]]:
    """Every known failure becomes a ``[code] ...`` error result; the tool's signature is kept for the SDK."""

    @functools.wraps(tool)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _Returned | CallToolResult:
        try:
            return await tool(*args, **kwargs)
        except Exception as exc:
            return refusal(exc)

    return guarded


# ----- arguments that do not fit ----------------------------------------------------------------------------


def _expected(schema: dict[str, Any]) -> str:
    """What a property of an inputSchema accepts, in words (from the schema itself, so it cannot drift)."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    words = []
    for option in options:
        if "enum" in option:
            words.append("one of " + ", ".join(json.dumps(value, ensure_ascii=False) for value in option["enum"]))
        elif "const" in option:
            words.append(json.dumps(option["const"], ensure_ascii=False))
        elif option.get("type") == "string":
            bound = option.get("maxLength")
            words.append("a string" + ("" if bound is None else f" of at most {bound} characters"))
        elif "type" in option:
            words.append(f"a {option['type']}")
    return " or ".join(words) or "a value that fits the tool's inputSchema"


INVALID_ARGUMENTS = "invalid_arguments"


def invalid_arguments_text(tool: str, input_schema: dict[str, Any], error: ValidationError) -> str:
    """``[invalid_arguments] <field>: <what is expected>; ... Next: ...``: the fields at fault, never a value."""
    properties: dict[str, Any] = input_schema.get("properties", {})
    required = set(input_schema.get("required", []))
    problems: dict[str, str] = {}
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "arguments"
        if field in problems:
            continue
        if field not in properties:
            problems[field] = "not an argument of this tool"
        elif item["type"] == "missing":
            problems[field] = "required: " + _expected(properties[field])
        else:
            problems[field] = _expected(properties[field])
    fields = "; ".join(f"{field}: {what}" for field, what in problems.items())
    optional = sorted(set(properties) - required)
    return (
        f"[{INVALID_ARGUMENTS}] {fields}. Nothing was changed. Next: call {tool} again with arguments that fit its "
        f"inputSchema (required: {', '.join(sorted(required)) or 'none'}"
        + (f"; optional: {', '.join(optional)}" if optional else "")
        + "); pass values exactly as the tools returned them or the user typed them."
    )


def invalid_answer_text(tool: str) -> str:
    """For a client's answer to an elicitation form that does not fit the form."""
    return (
        f"[{INVALID_ARGUMENTS}] answer: the client's answer to the question does not fit the form it was asked "
        f"with. Nothing was confirmed and no login started. Next: call {tool} again (its tickets stay valid); if "
        "the client cannot show the form, pass the user's typed answer as `reply`."
    )


class GatedServer(MCPServer):
    """``MCPServer`` whose tool calls answer arguments that do not fit, and elicitation answers that do not fit
    their form, with ``[invalid_arguments]``, in both protocol generations and over every transport (the SDK
    sends every call through :meth:`call_tool`)."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            # The base class's own registry (it reads it the same way for the input schema): the tool's schema,
            # and whether it asks the user through resolvers.
            tool = self._tool_manager.get_tool(name)
            if tool is None:
                raise
            if isinstance(exc.__cause__, ValidationError):  # the arguments against the inputSchema
                fields = sorted({str(e["loc"][0]) for e in exc.__cause__.errors() if e["loc"]})
                log.info("tool %r: arguments that do not fit: %r", name, fields)
                return error_result(invalid_arguments_text(name, tool.parameters, exc.__cause__))
            if tool.resolved_params and isinstance(exc.__cause__, ToolError):  # a resolver's: the user's answer
                log.info("tool %r: an elicitation answer that does not fit its form", name)
                return error_result(invalid_answer_text(name))
            raise
