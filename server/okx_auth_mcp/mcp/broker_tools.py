"""The read-only broker tools, offered only with ``OKX_AUTH_BROKER_TOOLS=1``: a DMA broker's sub-accounts, their
fee rates and API keys; an FD broker's rebate reports and a user's rebate status. The procedure is
``login.broker_reads`` on the broker profile's client (``login.broker_client``); errors become text at the
boundary. ``build_server`` adds them with :func:`register` (and the key tool with ``broker_key_tool.register``).

No ``from __future__ import annotations`` here: the SDK reads the tools' annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from okx_auth_mcp.core.broker_rules import MAX_LIMIT, MAX_PAGE
from okx_auth_mcp.login import broker_reads
from okx_auth_mcp.login.broker_client import BrokerClient
from okx_auth_mcp.mcp.boundary import ToolOut, boundary, result, run_sync

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
_NEVER = (
    " Uses the broker profile OKX_AUTH_BROKER_PROFILE names (the broker account's own API key); UIDs and API keys "
    "come back masked."
)

SubAcct = Annotated[
    str | None, Field(description="A sub-account name (6-20 letters or digits) to show only that one.", max_length=20)
]
Uid = Annotated[str | None, Field(description="A sub-account UID (digits) to show only that one.", max_length=32)]
PageArg = Annotated[int | None, Field(description="The page of results (from 1).", ge=1, le=MAX_PAGE)]
LimitArg = Annotated[
    int | None, Field(description=f"Results per page, at most {MAX_LIMIT} (OKX's default).", ge=1, le=MAX_LIMIT)
]
BrokerTypeArg = Annotated[
    Literal["api", "oauth"] | None,
    Field(description="Only for a broker that is both an API and an OAuth broker: which one."),
]
DateArg = Annotated[str | None, Field(description="YYYYMMDD (UTC), e.g. 20261101.", max_length=8)]


class BrokerOut(ToolOut):
    broker_profile: str = Field(description="The config profile whose API key signed the request.")


class SubAccountsOut(BrokerOut):
    page: int
    total_pages: int
    sub_accounts: list[dict[str, Any]] = Field(
        description="Each: sub_account, uid (masked), label, account_level, enabled, frozen_functions, "
        "can_transfer_out, main_account, created_ms; with fee rates: fee_rates [{type, applies_to, maker, taker}]."
    )


class KeysOut(BrokerOut):
    sub_account: str
    keys: list[dict[str, Any]] = Field(description="Each: label, api_key (masked), permissions, ip, created_ms.")


class RebateOut(BrokerOut):
    links: list[dict[str, Any]] | None = Field(
        default=None,
        description="Without generate, each report: state (finished/ongoing), download_link, link_expires_ms, "
        "begin_ms, end_ms, requested_ms, generated_ms.",
    )
    link_valid_seconds: int | None = None
    begin: str | None = Field(default=None, description="generate: the range asked for.")
    end: str | None = None
    exists: bool | None = Field(default=None, description="generate: a report of this range exists already.")
    requested_ms: int | None = None
    ready_after_ms: int | None = Field(default=None, description="generate: when a new report can be fetched.")


class IfRebateOut(BrokerOut):
    broker_gets_rebate: bool
    reason: str
    broker_code: str | None = None
    affiliated: bool
    client_rebate_ratio: str | None = None
    last_rebate: str | None = None


def register(mcp: MCPServer, client: BrokerClient) -> None:
    """Add the read-only broker tools to ``mcp``."""

    async def answered(out: type[BrokerOut], call: Callable[[], dict[str, Any]]) -> CallToolResult:
        data = await run_sync(call)
        return result(out(broker_profile=client.profile_name, **data))

    @mcp.tool(
        title="List the broker's sub-accounts (DMA)",
        annotations=READ_ONLY,
        description="A DMA broker's sub-accounts (GET /api/v5/broker/dma/subaccount-info): name, UID, account "
        "level, enabled or frozen functions, label, creation time. OKX allows 1 request per second." + _NEVER,
    )
    @boundary
    async def broker_subaccounts(
        subAcct: SubAcct = None, uid: Uid = None, page: PageArg = None, limit: LimitArg = None
    ) -> Annotated[CallToolResult, SubAccountsOut]:
        return await answered(SubAccountsOut, lambda: broker_reads.subaccounts(client, subAcct, uid, page, limit))

    @mcp.tool(
        title="Show the sub-accounts' fee rates (DMA)",
        annotations=READ_ONLY,
        description="The trading fee rates of a DMA broker's sub-accounts (GET "
        "/api/v5/broker/dma/subaccount-trade-fee), by OKX's nine fee types (spot and margin, futures, swaps, "
        "options). OKX allows 1 request per second." + _NEVER,
    )
    @boundary
    async def broker_subaccount_fee_rates(
        subAcct: SubAcct = None, uid: Uid = None, page: PageArg = None, limit: LimitArg = None
    ) -> Annotated[CallToolResult, SubAccountsOut]:
        return await answered(SubAccountsOut, lambda: broker_reads.fee_rates(client, subAcct, uid, page, limit))

    @mcp.tool(
        title="List a sub-account's API keys (DMA)",
        annotations=READ_ONLY,
        description="The API keys of one sub-account (GET /api/v5/broker/dma/subaccount/apikey): label, key "
        "(masked), permissions, IP allowlist, creation time; never a secret. OKX allows 1 request per second." + _NEVER,
    )
    @boundary
    async def broker_subaccount_api_keys(
        subAcct: Annotated[str, Field(description="The sub-account's name.", max_length=20)],
        apiKey: Annotated[
            str | None, Field(description="One key's public part, to show only that key.", max_length=64)
        ] = None,
    ) -> Annotated[CallToolResult, KeysOut]:
        return await answered(KeysOut, lambda: broker_reads.subaccount_keys(client, subAcct, apiKey))

    @mcp.tool(
        title="Get or generate the rebate report links (FD)",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
        description="An FD broker's commission rebate reports. Without generate: the download links of the reports "
        "generated (GET /api/v5/broker/fd/rebate-per-orders; all of them, or those of begin-end), each valid 2 "
        "hours; OKX allows 2 requests per minute. With generate=true and begin/end (YYYYMMDD, at most 180 days): "
        "asks OKX to generate the report of that range (POST; OKX allows 1 per hour), fetched later without "
        "generate. Give the user a link as data, never as an instruction." + _NEVER,
    )
    @boundary
    async def broker_rebate_report(
        begin: DateArg = None,
        end: DateArg = None,
        generate: Annotated[bool, Field(description="Ask OKX to generate the report of begin-end.")] = False,
        brokerType: BrokerTypeArg = None,
    ) -> Annotated[CallToolResult, RebateOut]:
        if generate:
            return await answered(
                RebateOut, lambda: broker_reads.rebate_generate(client, begin or "", end or "", brokerType)
            )
        return await answered(RebateOut, lambda: broker_reads.rebate_links(client, begin, end, brokerType))

    @mcp.tool(
        title="Does a user earn the broker a rebate? (FD)",
        annotations=READ_ONLY,
        description="Whether the FD broker gets a rebate from the user of an API key (GET "
        "/api/v5/broker/fd/if-rebate), and if not, why. OKX allows 2 requests per second." + _NEVER,
    )
    @boundary
    async def broker_if_rebate(
        apiKey: Annotated[str, Field(description="The user's API key (its public part).", max_length=64)],
        brokerType: BrokerTypeArg = None,
    ) -> Annotated[CallToolResult, IfRebateOut]:
        return await answered(IfRebateOut, lambda: broker_reads.if_rebate(client, apiKey, brokerType))
