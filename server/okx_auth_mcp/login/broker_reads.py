"""The read-only Broker calls: a DMA broker's sub-accounts, their fee rates and their API keys; an FD broker's
rebate reports and a user's rebate status. Each checks its parameters with OKX's rules before anything is sent
(``core.broker_rules``), makes one signed request (``login.broker_client``), and validates the answer item by item
(``core.broker_answers``) into what a tool shows: UIDs and API keys masked, no prose of the server's.

Shared by the MCP tools and ``okx-auth-mcp broker``; each returns JSON values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

from okx_auth_mcp.core import broker_rules as rules
from okx_auth_mcp.core.broker_answers import (
    IfRebate,
    Page,
    RebateGenerated,
    RebateLink,
    SubAccount,
    SubAccountFees,
    SubAccountKey,
)
from okx_auth_mcp.core.oauth_errors import BadResponse
from okx_auth_mcp.core.records import Frozen, Unfit, validated
from okx_auth_mcp.login.broker_client import BrokerClient

SUBACCOUNTS_PATH = "/api/v5/broker/dma/subaccount-info"
FEE_RATES_PATH = "/api/v5/broker/dma/subaccount-trade-fee"
KEYS_PATH = "/api/v5/broker/dma/subaccount/apikey"
REBATE_PATH = "/api/v5/broker/fd/rebate-per-orders"
IF_REBATE_PATH = "/api/v5/broker/fd/if-rebate"
LINK_VALID_SECONDS = 2 * 3600
"""OKX: "Every request gets refreshed links that are valid for 2 hours"."""
REPORT_READY_SECONDS = 2 * 3600
"""OKX: a report being generated can be fetched "after 2 hours"."""
BrokerType = Literal["api", "oauth"]

_M = TypeVar("_M", bound=Frozen)


def _items(model: type[_M], data: Sequence[Any], what: str) -> list[_M]:
    try:
        return [validated(model, item) for item in data]
    except Unfit as exc:  # name the fields, never their values
        fields = ", ".join(f or "item" for f in exc.fields)
        raise BadResponse(f"{what}: OKX's answer's {fields} is not what OKX sends") from None


def _one(model: type[_M], data: Sequence[Any], what: str) -> _M:
    if len(data) != 1:
        raise BadResponse(f"{what}: OKX's answer holds {len(data)} items, not one")
    return _items(model, data, what)[0]


def _listing(
    client: BrokerClient, route: str, path: str, model: type[SubAccount] | type[SubAccountFees], params: dict[str, Any]
) -> dict[str, Any]:
    what = route.replace("_", " ")
    page = _one(Page, client.call(route, "GET", path, params), what)
    details = _items(model, page.details, what)
    return {"page": int(page.page), "total_pages": int(page.totalPage), "sub_accounts": [d.shown() for d in details]}


def _filters(sub_acct: str | None, uid: str | None, page: int | None, limit: int | None) -> dict[str, Any]:
    return {
        "subAcct": None if sub_acct is None else rules.sub_account(sub_acct),
        "uid": None if uid is None else rules.uid(uid),
        "page": None if rules.page(page) is None else str(page),
        "limit": None if rules.limit(limit) is None else str(limit),
    }


def subaccounts(
    client: BrokerClient, sub_acct: str | None = None, uid: str | None = None, page: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``GET /api/v5/broker/dma/subaccount-info``."""
    return _listing(client, "broker_subaccounts", SUBACCOUNTS_PATH, SubAccount, _filters(sub_acct, uid, page, limit))


def fee_rates(
    client: BrokerClient, sub_acct: str | None = None, uid: str | None = None, page: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``GET /api/v5/broker/dma/subaccount-trade-fee``."""
    return _listing(client, "broker_fee_rates", FEE_RATES_PATH, SubAccountFees, _filters(sub_acct, uid, page, limit))


def subaccount_keys(client: BrokerClient, sub_acct: str, api_key: str | None = None) -> dict[str, Any]:
    """``GET /api/v5/broker/dma/subaccount/apikey``: the sub-account's keys, masked."""
    params = {"subAcct": rules.sub_account(sub_acct), "apiKey": None if api_key is None else rules.public_key(api_key)}
    keys = _items(SubAccountKey, client.call("broker_keys", "GET", KEYS_PATH, params), "broker keys")
    return {"sub_account": sub_acct, "keys": [k.shown() for k in keys]}


def _broker_type(value: str | None) -> str | None:
    if value is not None and value not in ("api", "oauth"):
        raise rules.BrokerArgumentError("brokerType", "the broker type is api or oauth")
    return value


def _today(client: BrokerClient) -> date:
    return datetime.fromtimestamp(client.service.now(), tz=UTC).date()


def rebate_links(
    client: BrokerClient, begin: str | None = None, end: str | None = None, broker_type: str | None = None
) -> dict[str, Any]:
    """``GET /api/v5/broker/fd/rebate-per-orders``: every report generated (no dates), or those of one range."""
    if (begin is None) != (end is None):
        raise rules.BrokerArgumentError("begin" if begin is None else "end", "give both begin and end, or neither")
    params: dict[str, str | None] = {"type": "true", "brokerType": _broker_type(broker_type)}
    if begin is not None and end is not None:
        begin, end = rules.report_range(begin, end, _today(client))
        params = {"type": "false", "begin": begin, "end": end, "brokerType": broker_type}
    links = _items(RebateLink, client.call("broker_rebate_links", "GET", REBATE_PATH, params), "broker rebate links")
    expires_ms = int((client.service.now() + LINK_VALID_SECONDS) * 1000)
    return {"links": [link.shown(expires_ms) for link in links], "link_valid_seconds": LINK_VALID_SECONDS}


def rebate_generate(client: BrokerClient, begin: str, end: str, broker_type: str | None = None) -> dict[str, Any]:
    """``POST /api/v5/broker/fd/rebate-per-orders``: ask OKX to generate a report of ``begin``-``end``."""
    begin, end = rules.report_range(begin, end, _today(client))
    body = {"begin": begin, "end": end}
    if _broker_type(broker_type) is not None:
        body["brokerType"] = str(broker_type)
    data = client.call("broker_rebate_generate", "POST", REBATE_PATH, body=body)
    answer = _one(RebateGenerated, data, "rebate report")
    exists = answer.result == "true"
    return {
        "begin": begin,
        "end": end,
        "exists": exists,
        "requested_ms": int(answer.ts),
        "ready_after_ms": None if exists else int(answer.ts) + REPORT_READY_SECONDS * 1000,
    }


def if_rebate(client: BrokerClient, api_key: str, broker_type: str | None = None) -> dict[str, Any]:
    """``GET /api/v5/broker/fd/if-rebate``: whether the broker earns a rebate from the user of ``api_key``."""
    params = {"apiKey": rules.public_key(api_key), "brokerType": _broker_type(broker_type)}
    answer = _one(IfRebate, client.call("broker_if_rebate", "GET", IF_REBATE_PATH, params), "broker rebate status")
    return answer.shown()
