"""The sandbox's OKX Broker endpoints: a DMA broker's sub-accounts, their fee rates and their API keys; an FD
broker's rebate reports and a user's rebate information.

Every request is counted under its route's name (``broker_subaccounts``, ``broker_fee_rates``,
``broker_create_key``, ``broker_keys``, ``broker_rebate_links``, ``broker_rebate_generate``,
``broker_if_rebate``), then meets its faults (the same names), then the signed-request check every API-key
route shares (:func:`~okx_auth_mcp.sandbox.api_routes.authenticated`); a key that is not a broker's of the
route's kind (``SandboxApiKey.broker``: ``dma`` or ``fd``) gets 59608 (HTTP 200), and takes nothing of a
broker's quota; then the route's rate limit for the broker account
(:data:`~okx_auth_mcp.sandbox.broker_state.RATE_LIMITS`, a sliding window on ``api_now()``; 50011, HTTP 429;
``SandboxState.rate_limits = False`` lifts it); then its parameters
(:mod:`~okx_auth_mcp.sandbox.broker_checks`). A broker sees only the sub-accounts its account owns (another's
is 59510, as an unknown one), with their full names and uids. ::

    GET  /api/v5/broker/dma/subaccount-info        subAcct? uid? page? limit?      the sub-accounts
    GET  /api/v5/broker/dma/subaccount-trade-fee   subAcct? uid? page? limit?      their fee rates
    POST /api/v5/broker/dma/subaccount/apikey      subAcct label passphrase perm? ip?   a new key (59502 its
                                                   label taken, 59501 the sub-account's 50 keys reached)
    GET  /api/v5/broker/dma/subaccount/apikey      subAcct apiKey?                 its keys (59605 not its key)
    GET  /api/v5/broker/fd/rebate-per-orders       type begin? end? brokerType?    the reports' download links
    POST /api/v5/broker/fd/rebate-per-orders       begin end brokerType?           ask for a report (59616
                                                   begin after end, 59615 end more than 180 days after begin)
    GET  /api/v5/broker/fd/if-rebate               apiKey brokerType?              a user's rebate information
    GET  /files/rebate/NAME                        a report's file (a small CSV), until its link expires

A fee rate's maker rate is answered as ``maker``, as OKX's parameter table names it (its example answer spells
it ``marker``). A key created for a sub-account joins ``api_keys`` (its uid the sub-account's, its permissions
as created, the broker key's site and demo flag), so it can sign ``/api/v5/account/config``. Dates are UTC
days: a report of ``begin``..``end`` covers ``begin`` 00:00 to the day after ``end``; it is ``ongoing`` for
``SandboxConfig.rebate_ready_seconds`` after it was first asked for, then ``finished``.

The create-key endpoint answers its own faults: ``created_then_500`` (the key is created, then HTTP 500 with a
non-JSON body), ``no_secret`` (the answer lacks ``secretKey``), ``extra_field`` (it has ``"extra": "x"``),
``malformed`` (HTTP 200 ``{"code": "0", "data": {}}``); the key is created under each of them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from okx_auth_mcp.sandbox import broker_checks as check
from okx_auth_mcp.sandbox.api_routes import authenticated
from okx_auth_mcp.sandbox.broker_checks import Refusal
from okx_auth_mcp.sandbox.broker_state import (
    DEFAULT_IF_REBATE,
    RATE_LIMITS,
    REBATE_LINK_TTL,
    RebateReport,
    SandboxSubAccount,
    SubAccountKey,
    day_start_ms,
    new_key_pair,
)
from okx_auth_mcp.sandbox.faults import faulted, okx_error
from okx_auth_mcp.sandbox.state import SandboxApiKey, SandboxState

MAX_KEYS = 50
"""API keys one sub-account can have (59501 beyond)."""
MAX_REPORT_DAYS = 180
NOT_BROKER = "Only the broker account has permission to operate this API"
REPORT_COLUMNS = "brokerCode,level,instId,ordId,spotTradeAmt,derivativeTradeAmt,fee,netFee,settlementFee"
REPORT_COLUMNS += ",brokerRebate,suBrokerRebate,userRebate,affiliated,ts"

Handler = Callable[[SandboxState, SandboxApiKey, Request, bytes], Awaitable[Response]]


def ok(data: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"code": "0", "msg": "", "data": data})


def _throttled(state: SandboxState, name: str, uid: str) -> bool:
    """Whether the broker account ``uid`` has had its ``name`` requests for the window; else this one counts."""
    allowed, window = RATE_LIMITS[name]
    now = state.api_now()
    with state.lock:
        if not state.rate_limits:
            return False
        hits = [t for t in state.rate_hits.get((name, uid), []) if now - t < window]
        if len(hits) >= allowed:
            state.rate_hits[(name, uid)] = hits
            return True
        state.rate_hits[(name, uid)] = [*hits, now]
    return False


def _broker_route(
    state: SandboxState, name: str, kind: Literal["dma", "fd"], handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint ``handler`` serves, behind what every broker route checks first (module docstring)."""

    async def endpoint(request: Request) -> Response:
        await anyio.sleep(state.latency)
        if (fault := await faulted(state, name)) is not None:
            return fault
        body = await request.body()
        key = authenticated(state, request, body)
        if isinstance(key, Response):
            return key
        if key.broker != kind:
            return okx_error("59608", NOT_BROKER, 200)
        if _throttled(state, name, key.uid):
            return okx_error("50011", "Too Many Requests", 429)
        return await handler(state, key, request, body)

    return endpoint


def _owned(state: SandboxState, key: SandboxApiKey, sub_acct: str) -> SandboxSubAccount | Refusal:
    """The broker's own sub-account ``sub_acct`` (59510 for another's or an unknown one); call with the lock."""
    account = state.subaccounts.get(sub_acct)
    if account is None or account.owner_uid != key.uid:
        return Refusal("59510", "Sub-account does not exist")
    return account


def _listing(
    state: SandboxState, key: SandboxApiKey, query: Mapping[str, str], item: Callable[[SandboxSubAccount], Any]
) -> Response:
    """``subaccount-info`` or ``subaccount-trade-fee``: the broker's sub-accounts (filtered by ``subAcct`` and
    ``uid``) a page at a time."""
    paging = check.page_and_limit(query)
    if isinstance(paging, Refusal):
        return paging.response()
    page, limit = paging
    wanted_name, wanted_uid = query.get("subAcct", ""), query.get("uid", "")
    with state.lock:
        mine = [
            account
            for account in state.subaccounts.values()
            if account.owner_uid == key.uid
            and (not wanted_name or account.sub_acct == wanted_name)
            and (not wanted_uid or account.uid == wanted_uid)
        ]
        mine.sort(key=lambda account: (account.ts_ms, account.sub_acct))
        details = [item(account) for account in mine[(page - 1) * limit : page * limit]]
    pages = max(1, math.ceil(len(mine) / limit))
    return ok([{"details": details, "page": str(page), "totalPage": str(pages)}])


async def _subaccounts(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    return _listing(state, key, request.query_params, SandboxSubAccount.info)


async def _fee_rates(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    return _listing(state, key, request.query_params, SandboxSubAccount.fees)


async def _create_key(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    fields = check.json_fields(body)
    if isinstance(fields, Refusal):
        return fields.response()
    asked = check.new_key_request(fields)
    if isinstance(asked, Refusal):
        return asked.response()
    sub_acct, label, passphrase, perm, ip = asked
    ts = str(int(state.api_now() * 1000))
    with state.lock:
        account = _owned(state, key, sub_acct)
        if isinstance(account, Refusal):
            return account.response()
        if any(made.label == label for made in account.keys):
            return okx_error("59502", "Note name cannot be duplicate with the currently created API key note name", 200)
        if len(account.keys) >= MAX_KEYS:
            return okx_error("59501", f"Only {MAX_KEYS} API keys can be created per sub-account", 200)
        api_key, secret_key = new_key_pair()
        state.api_keys[api_key] = SandboxApiKey(
            secret_key, passphrase, uid=account.uid, perm=perm, demo=key.demo, site=key.site
        )
        account.keys.append(SubAccountKey(label, api_key, perm, ip, int(ts)))
        fault = state.faults.get("broker_create_key")
    made = {"subAcct": sub_acct, "label": label, "apiKey": api_key, "secretKey": secret_key}
    made |= {"passphrase": passphrase, "perm": perm, "ip": ip, "ts": ts}
    if fault == "created_then_500":
        return HTMLResponse("<html><body>500 Internal Server Error</body></html>", status_code=500)
    if fault == "malformed":
        return JSONResponse({"code": "0", "data": {}})
    if fault == "no_secret":
        del made["secretKey"]
    if fault == "extra_field":
        made["extra"] = "x"
    return ok([made])


async def _keys(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    query = request.query_params
    sub_acct = check.required(query, "subAcct")
    if isinstance(sub_acct, Refusal):
        return sub_acct.response()
    wanted = query.get("apiKey", "")
    with state.lock:
        account = _owned(state, key, sub_acct)
        if isinstance(account, Refusal):
            return account.response()
        made = [k.listed() for k in account.keys if not wanted or k.api_key == wanted]
    if wanted and not made:
        return okx_error("59605", "The API key does not exist", 200)
    return ok(made)


def _report_range(fields: Mapping[str, str]) -> tuple[str, str] | Refusal:
    """``begin`` and ``end``, two valid days; and ``brokerType``, if any, ``api`` or ``oauth``."""
    begin = check.day(fields, "begin")
    if isinstance(begin, Refusal):
        return begin
    end = check.day(fields, "end")
    if isinstance(end, Refusal):
        return end
    return refused if (refused := check.broker_type(fields)) is not None else (begin, end)


def _link(state: SandboxState, report: RebateReport, now: float) -> dict[str, str]:
    ready = now - report.c_time_ms / 1000 >= state.config.rebate_ready_seconds
    return {
        "fileHref": f"{state.issuer}/files/rebate/{report.file_name}?Expires={int(now) + REBATE_LINK_TTL}",
        "beginTime": str(day_start_ms(report.begin)),
        "endTime": str(day_start_ms(report.end, 1)),
        "cTime": str(report.c_time_ms),
        "ts": str(int(now * 1000)),
        "state": "finished" if ready else "ongoing",
    }


async def _rebate_links(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    query = request.query_params
    kind = check.required(query, "type")
    if isinstance(kind, Refusal):
        return kind.response()
    if kind not in ("true", "false"):
        return check.wrong("type").response()
    wanted: tuple[str, str] | None = None
    if kind == "false":
        asked = _report_range(query)
        if isinstance(asked, Refusal):
            return asked.response()
        wanted = asked
    elif (refused := check.broker_type(query)) is not None:
        return refused.response()
    now = state.api_now()
    with state.lock:
        reports = [r for r in state.rebate_reports if r.owner_uid == key.uid]
    return ok([_link(state, r, now) for r in reports if wanted is None or (r.begin, r.end) == wanted])


async def _rebate_generate(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    fields = check.json_fields(body)
    if isinstance(fields, Refusal):
        return fields.response()
    asked = _report_range(fields)
    if isinstance(asked, Refusal):
        return asked.response()
    begin, end = asked
    if begin > end:
        return okx_error("59616", "The begin date cannot be later than the end date", 200)
    if (day_start_ms(end) - day_start_ms(begin)) // 86_400_000 > MAX_REPORT_DAYS:
        return okx_error("59615", f"The time interval between begin and end cannot exceed {MAX_REPORT_DAYS} days", 200)
    now_ms = int(state.api_now() * 1000)
    with state.lock:
        known = [r for r in state.rebate_reports if (r.owner_uid, r.begin, r.end) == (key.uid, begin, end)]
        if known:
            return ok([{"result": "true", "ts": str(known[0].c_time_ms)}])
        state.rebate_reports.append(RebateReport(key.uid, begin, end, now_ms))
    return ok([{"result": "false", "ts": str(now_ms)}])


async def _if_rebate(state: SandboxState, key: SandboxApiKey, request: Request, body: bytes) -> Response:
    query = request.query_params
    user_key = check.required(query, "apiKey")
    if isinstance(user_key, Refusal):
        return user_key.response()
    if (refused := check.broker_type(query)) is not None:
        return refused.response()
    with state.lock:
        found = dict(state.if_rebate.get(user_key, DEFAULT_IF_REBATE))
    return ok([found])


def routes(state: SandboxState) -> list[Route]:
    async def report_file(request: Request) -> Response:
        name = request.path_params["name"]
        expires = request.query_params.get("Expires", "")
        with state.lock:
            known = any(r.file_name == name for r in state.rebate_reports)
        if not known:
            return Response("Not found", status_code=404, media_type="text/plain")
        if not expires.isdigit() or int(expires) < state.api_now():
            return Response("Request has expired", status_code=403, media_type="text/plain")
        return Response(REPORT_COLUMNS + "\n", media_type="text/csv")

    dma, fd = "/api/v5/broker/dma", "/api/v5/broker/fd"
    create_key = _broker_route(state, "broker_create_key", "dma", _create_key)
    keys = _broker_route(state, "broker_keys", "dma", _keys)
    links = _broker_route(state, "broker_rebate_links", "fd", _rebate_links)
    generate = _broker_route(state, "broker_rebate_generate", "fd", _rebate_generate)

    async def apikey(request: Request) -> Response:
        return await (create_key if request.method == "POST" else keys)(request)

    async def rebate_per_orders(request: Request) -> Response:
        return await (generate if request.method == "POST" else links)(request)

    return [
        Route(f"{dma}/subaccount-info", _broker_route(state, "broker_subaccounts", "dma", _subaccounts)),
        Route(f"{dma}/subaccount-trade-fee", _broker_route(state, "broker_fee_rates", "dma", _fee_rates)),
        Route(f"{dma}/subaccount/apikey", apikey, methods=["GET", "POST"]),
        Route(f"{fd}/rebate-per-orders", rebate_per_orders, methods=["GET", "POST"]),
        Route(f"{fd}/if-rebate", _broker_route(state, "broker_if_rebate", "fd", _if_rebate)),
        Route("/files/rebate/{name}", report_file),
    ]
