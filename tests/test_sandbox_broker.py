"""The sandbox's OKX Broker endpoints over real HTTP: each route's answer, OKX's validation codes, a broker seeing
only its own sub-accounts, non-broker keys refused (59608), the rate limits and their switch, the faults, a
created key signing the account endpoint, and the signature covering a POST's body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from okx_auth_mcp.core.okx_signing import iso_timestamp, signed_headers
from okx_auth_mcp.sandbox.broker_state import SubAccountKey, default_fee_rates
from okx_auth_mcp.sandbox.runner import RunningSandbox
from okx_auth_mcp.sandbox.state import SandboxState
from tests.helpers import START, FakeClock

DMA, FD, PLAIN, RIVAL = "DMA-KEY-0001", "FD-KEY-0001", "PLAIN-KEY-0001", "RIVAL-KEY-0001"
SECRET, PASS = "SECRET-0001", "Pass-0001"
DMA_UID, FD_UID, RIVAL_UID = "7000000001", "7000000002", "7000000003"
INFO, FEES = "/api/v5/broker/dma/subaccount-info", "/api/v5/broker/dma/subaccount-trade-fee"
APIKEY, REBATE, IF_REBATE = (
    "/api/v5/broker/dma/subaccount/apikey",
    "/api/v5/broker/fd/rebate-per-orders",
    "/api/v5/broker/fd/if-rebate",
)
NEW_KEY = {"subAcct": "alpha001", "label": "bot1", "passphrase": "Qwr4321!x", "perm": "trade", "ip": "10.0.0.1,::1"}


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    """One server for the module (starting and stopping one per test would be most of its time)."""
    with RunningSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def broker(running: RunningSandbox, clock: FakeClock) -> RunningSandbox:
    """The module's server with a fresh state on the test's clock: a DMA broker with two sub-accounts, a rival DMA
    broker with one, an FD broker and an ordinary key; the rate limits off (the tests of them turn them on)."""
    vars(running.state).update(vars(SandboxState(clock=clock, issuer=running.state.issuer)))
    state = running.state
    state.add_api_key(DMA, SECRET, PASS, uid=DMA_UID, broker="dma")
    state.add_api_key("DMA-KEY-0002", SECRET, PASS, uid=DMA_UID, broker="dma")
    state.add_api_key(RIVAL, SECRET, PASS, uid=RIVAL_UID, broker="dma")
    state.add_api_key(FD, SECRET, PASS, uid=FD_UID, broker="fd")
    state.add_api_key(PLAIN, SECRET, PASS)
    state.add_subaccount(DMA, "alpha001", uid="8000000001", label="first", ts_ms=1_000)
    state.add_subaccount(DMA, "beta0002", uid="8000000002", frozen_func=("trading",), can_trans_out=True, ts_ms=2_000)
    state.add_subaccount(RIVAL, "rival001", uid="8000000009", ts_ms=500)
    state.rate_limits = False
    return running


def call(
    sandbox: RunningSandbox,
    method: str,
    target: str,
    *,
    key: str = DMA,
    body: Any = None,
    sent: bytes | None = None,
    secret: str = SECRET,
) -> httpx2.Response:
    """A request signed with ``key`` at the API's time: ``body`` as JSON, or ``sent`` as the raw bytes signed."""
    raw = sent if sent is not None else (b"" if body is None else json.dumps(body).encode())
    stamp = iso_timestamp(sandbox.state.api_now())
    headers = signed_headers(
        api_key=key,
        secret_key=secret,
        passphrase=PASS,
        timestamp=stamp,
        method=method,
        request_path=target,
        body=raw.decode(),
    )
    headers["Content-Type"] = "application/json"
    return httpx2.request(method, sandbox.url + target, content=raw, headers=headers, timeout=5)


def code_of(answer: httpx2.Response) -> tuple[int, str, str]:
    found = answer.json()
    return answer.status_code, found["code"], found["msg"]


# ----- sub-accounts and fee rates -------------------------------------------------------------------------


def test_the_sub_account_list_shows_the_broker_s_own_accounts_in_full(broker: RunningSandbox) -> None:
    answer = call(broker, "GET", INFO)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["msg"]) == ("0", "")
    (listing,) = body["data"]
    assert (listing["page"], listing["totalPage"]) == ("1", "1")
    first, second = listing["details"]
    assert first == {
        "acctLv": "1",
        "canTransOut": False,
        "mainAcct": "",
        "enable": True,
        "frozenFunc": [],
        "label": "first",
        "subAcct": "alpha001",
        "ts": "1000",
        "uid": "8000000001",
    }
    assert (second["subAcct"], second["frozenFunc"], second["canTransOut"]) == ("beta0002", ["trading"], True)
    rival = call(broker, "GET", INFO, key=RIVAL).json()["data"][0]["details"]
    assert [d["subAcct"] for d in rival] == ["rival001"]
    same_account = call(broker, "GET", INFO, key="DMA-KEY-0002").json()["data"][0]["details"]
    assert [d["subAcct"] for d in same_account] == ["alpha001", "beta0002"]


def test_the_sub_account_list_filters_and_pages(broker: RunningSandbox) -> None:
    def names(target: str) -> tuple[list[str], str, str]:
        listing = call(broker, "GET", target).json()["data"][0]
        return [d["subAcct"] for d in listing["details"]], listing["page"], listing["totalPage"]

    assert names(f"{INFO}?subAcct=beta0002") == (["beta0002"], "1", "1")
    assert names(f"{INFO}?uid=8000000001") == (["alpha001"], "1", "1")
    assert names(f"{INFO}?subAcct=rival001") == ([], "1", "1")
    assert names(f"{INFO}?limit=1&page=2") == (["beta0002"], "2", "2")
    for query in ("limit=101", "limit=0", "page=x", "page=-1"):
        assert code_of(call(broker, "GET", f"{INFO}?{query}"))[:2] == (400, "51000")


def test_the_fee_rates_are_the_nine_types_with_maker_and_taker(broker: RunningSandbox) -> None:
    broker.state.subaccounts["beta0002"].fee_rates = [{"type": "1", "maker": "0.001", "taker": "0.002"}]
    (listing,) = call(broker, "GET", FEES).json()["data"]
    first, second = listing["details"]
    assert set(first) == {"feeRates", "mainAcct", "subAcct", "ts", "uid"}
    assert (first["subAcct"], first["uid"], first["ts"]) == ("alpha001", "8000000001", "1000")
    assert first["feeRates"] == default_fee_rates()
    assert [r["type"] for r in first["feeRates"]] == [str(n) for n in range(1, 10)]
    assert first["feeRates"][0] == {"type": "1", "maker": "-0.0008", "taker": "-0.001"}
    assert second["feeRates"] == [{"type": "1", "maker": "0.001", "taker": "0.002"}]
    assert call(broker, "GET", f"{FEES}?subAcct=alpha001").json()["data"][0]["details"][0]["subAcct"] == "alpha001"


def test_a_sub_account_added_without_a_time_is_created_now_and_needs_a_known_broker_key(
    broker: RunningSandbox,
) -> None:
    assert broker.state.add_subaccount(DMA, "gamma003", uid="8000000003").ts_ms == int(START * 1000)
    with pytest.raises(ValueError, match="add_api_key"):
        broker.state.add_subaccount("NOBODY", "delta004", uid="1")


# ----- API keys of sub-accounts ---------------------------------------------------------------------------


def test_a_created_key_is_answered_listed_and_signs_the_account_endpoint(broker: RunningSandbox) -> None:
    answer = call(broker, "POST", APIKEY, body=NEW_KEY)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["msg"]) == ("0", "")
    (made,) = body["data"]
    assert set(made) == {"subAcct", "label", "apiKey", "secretKey", "passphrase", "perm", "ip", "ts"}
    assert (made["subAcct"], made["label"], made["passphrase"]) == ("alpha001", "bot1", "Qwr4321!x")
    assert (made["perm"], made["ip"], made["ts"]) == ("read_only,trade", "10.0.0.1,::1", str(int(START * 1000)))
    assert len(made["apiKey"]) == 36 and made["apiKey"].count("-") == 4
    assert len(made["secretKey"]) == 32 and made["secretKey"] == made["secretKey"].upper()
    int(made["secretKey"], 16)
    stored = broker.state.api_keys[made["apiKey"]]
    assert (stored.uid, stored.perm, stored.broker, stored.demo, stored.site) == (
        "8000000001",
        "read_only,trade",
        None,
        False,
        "global",
    )

    stamp = iso_timestamp(broker.state.api_now())
    headers = signed_headers(
        api_key=made["apiKey"],
        secret_key=made["secretKey"],
        passphrase=made["passphrase"],
        timestamp=stamp,
        method="GET",
        request_path="/api/v5/account/config",
    )
    account = httpx2.get(broker.url + "/api/v5/account/config", headers=headers, timeout=5).json()
    assert account["code"] == "0"
    assert (account["data"][0]["uid"], account["data"][0]["perm"]) == ("8000000001", "read_only,trade")

    listed = call(broker, "GET", f"{APIKEY}?subAcct=alpha001").json()
    assert listed["code"] == "0"
    assert listed["data"] == [
        {"label": "bot1", "apiKey": made["apiKey"], "perm": "read_only,trade", "ip": "10.0.0.1,::1", "ts": made["ts"]}
    ]
    one = call(broker, "GET", f"{APIKEY}?subAcct=alpha001&apiKey={made['apiKey']}").json()
    assert one["data"] == listed["data"]
    assert call(broker, "GET", f"{APIKEY}?subAcct=beta0002").json()["data"] == []


def test_a_key_created_with_only_what_is_required_is_read_only_without_ips(broker: RunningSandbox) -> None:
    body = {"subAcct": "alpha001", "label": "1", "passphrase": "aB3$aaaa"}
    made = call(broker, "POST", APIKEY, body=body).json()["data"][0]
    assert (made["perm"], made["ip"]) == ("read_only", "")
    made = call(broker, "POST", APIKEY, body={**body, "label": "2", "perm": "withdraw,read_only,trade"}).json()
    assert made["data"][0]["perm"] == "read_only,trade,withdraw"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"subAcct": None}, "50014"),
        ({"label": None}, "50014"),
        ({"passphrase": None}, "50014"),
        ({"subAcct": ""}, "50014"),
        ({"subAcct": "abc12"}, "51000"),
        ({"subAcct": "a" * 21}, "51000"),
        ({"subAcct": "alpha 01"}, "51000"),
        ({"label": "x" * 51}, "51000"),
        ({"label": "bot-1"}, "51000"),
        ({"perm": "trade,admin"}, "51000"),
        ({"perm": "read_only,"}, "51000"),
        ({"ip": "10.0.0.300"}, "51000"),
        ({"ip": "10.0.0.1, 10.0.0.2"}, "51000"),
        ({"ip": ",".join(f"10.0.0.{n}" for n in range(21))}, "59503"),
        ({"passphrase": "Qw4!"}, "59505"),
        ({"passphrase": "Qwr4321!" * 5}, "59505"),
        ({"passphrase": "qwr4321!x"}, "59505"),
        ({"passphrase": "QWR4321!X"}, "59505"),
        ({"passphrase": "Qwrabcd!x"}, "59505"),
        ({"passphrase": "Qwr4321xx"}, "59505"),
        ({"passphrase": "Qwr4321! x"}, "59505"),
        ({"passphrase": "Qwr4321!é"}, "59505"),
        ({"subAcct": "nosuch01"}, "59510"),
        ({"subAcct": "rival001"}, "59510"),
    ],
)
def test_a_create_request_okx_would_refuse_gets_its_code_and_creates_nothing(
    broker: RunningSandbox, change: dict[str, str | None], code: str
) -> None:
    body = {name: value for name, value in {**NEW_KEY, **change}.items() if value is not None}
    status, answered, _ = code_of(call(broker, "POST", APIKEY, body=body))
    assert (status, answered) == (400 if code in ("50014", "51000") else 200, code)
    assert len(broker.state.api_keys) == 5
    assert all(not account.keys for account in broker.state.subaccounts.values())


@pytest.mark.parametrize(
    ("sent", "code", "msg"),
    [
        (b"", "50014", "Parameter subAcct can not be empty"),
        (b"[]", "51000", "Parameter body error"),
        (b"{not json", "51000", "Parameter body error"),
        (json.dumps({**NEW_KEY, "label": 7}).encode(), "51000", "Parameter label error"),
    ],
)
def test_a_create_body_that_is_not_a_json_object_of_strings_is_refused(
    broker: RunningSandbox, sent: bytes, code: str, msg: str
) -> None:
    assert code_of(call(broker, "POST", APIKEY, sent=sent)) == (400, code, msg)


def test_a_label_is_used_once_per_sub_account_and_a_sub_account_has_at_most_50_keys(broker: RunningSandbox) -> None:
    assert call(broker, "POST", APIKEY, body=NEW_KEY).json()["code"] == "0"
    assert code_of(call(broker, "POST", APIKEY, body=NEW_KEY))[:2] == (200, "59502")
    assert call(broker, "POST", APIKEY, body={**NEW_KEY, "subAcct": "beta0002"}).json()["code"] == "0"
    full = broker.state.subaccounts["beta0002"]
    full.keys += [SubAccountKey(f"k{n}", f"key-{n}", "read_only", "", 0) for n in range(49)]
    assert code_of(call(broker, "POST", APIKEY, body={**NEW_KEY, "subAcct": "beta0002", "label": "more"}))[:2] == (
        200,
        "59501",
    )


def test_querying_keys_needs_an_own_sub_account_and_a_key_of_it(broker: RunningSandbox) -> None:
    made = call(broker, "POST", APIKEY, body=NEW_KEY).json()["data"][0]
    assert code_of(call(broker, "GET", APIKEY)) == (400, "50014", "Parameter subAcct can not be empty")
    assert code_of(call(broker, "GET", f"{APIKEY}?subAcct=rival001"))[:2] == (200, "59510")
    assert code_of(call(broker, "GET", f"{APIKEY}?subAcct=nosuch01"))[:2] == (200, "59510")
    assert code_of(call(broker, "GET", f"{APIKEY}?subAcct=beta0002&apiKey={made['apiKey']}"))[:2] == (200, "59605")
    assert code_of(call(broker, "GET", f"{APIKEY}?subAcct=rival001", key=RIVAL))[:2] == (200, "0")


# ----- who may call, how often, and the signature ---------------------------------------------------------

ROUTES = [
    ("GET", INFO, "dma"),
    ("GET", FEES, "dma"),
    ("POST", APIKEY, "dma"),
    ("GET", f"{APIKEY}?subAcct=alpha001", "dma"),
    ("GET", f"{REBATE}?type=true", "fd"),
    ("POST", REBATE, "fd"),
    ("GET", f"{IF_REBATE}?apiKey=abc", "fd"),
]


@pytest.mark.parametrize(("method", "target", "kind"), ROUTES)
def test_only_a_broker_of_the_route_s_kind_may_call_it(
    broker: RunningSandbox, method: str, target: str, kind: str
) -> None:
    body = NEW_KEY if target == APIKEY else {"begin": "20240101", "end": "20240102"} if method == "POST" else None
    other = FD if kind == "dma" else DMA
    for key in (PLAIN, other):
        status, code, msg = code_of(call(broker, method, target, key=key, body=body))
        assert (status, code, msg) == (200, "59608", "Only the broker account has permission to operate this API")
    assert call(broker, method, target, key=DMA if kind == "dma" else FD, body=body).json()["code"] == "0"


def test_a_one_per_second_route_answers_50011_to_a_second_call_within_the_second(
    broker: RunningSandbox, clock: FakeClock
) -> None:
    broker.state.rate_limits = True
    assert call(broker, "GET", INFO).status_code == 200
    assert code_of(call(broker, "GET", INFO)) == (429, "50011", "Too Many Requests")
    assert code_of(call(broker, "GET", INFO, key="DMA-KEY-0002"))[:2] == (429, "50011")  # one account, one limit
    assert call(broker, "GET", INFO, key=RIVAL).status_code == 200
    assert call(broker, "GET", FEES).status_code == 200
    clock.advance(1.0)
    assert call(broker, "GET", INFO).status_code == 200
    broker.state.rate_limits = False
    assert call(broker, "GET", INFO).status_code == 200
    assert broker.state.count("broker_subaccounts") == 6


def test_the_rebate_routes_limits_are_two_a_minute_and_one_an_hour(broker: RunningSandbox, clock: FakeClock) -> None:
    broker.state.rate_limits = True
    links = [call(broker, "GET", f"{REBATE}?type=true", key=FD).status_code for _ in range(3)]
    assert links == [200, 200, 429]
    body = {"begin": "20240101", "end": "20240102"}
    assert [call(broker, "POST", REBATE, key=FD, body=body).status_code for _ in range(2)] == [200, 429]
    clock.advance(3600)
    assert call(broker, "POST", REBATE, key=FD, body=body).json()["data"][0]["result"] == "true"


def test_a_body_altered_after_signing_is_an_invalid_signature(broker: RunningSandbox) -> None:
    signed = json.dumps(NEW_KEY)
    stamp = iso_timestamp(broker.state.api_now())
    headers = signed_headers(
        api_key=DMA,
        secret_key=SECRET,
        passphrase=PASS,
        timestamp=stamp,
        method="POST",
        request_path=APIKEY,
        body=signed,
    )
    altered = signed.replace("bot1", "bot2").encode()
    answer = httpx2.post(broker.url + APIKEY, content=altered, headers=headers, timeout=5)
    assert code_of(answer) == (401, "50113", "Invalid Sign")
    assert broker.state.count("broker_create_key") == 1
    assert not broker.state.subaccounts["alpha001"].keys


def test_every_request_is_counted_even_one_refused_before_its_signature_is_read(broker: RunningSandbox) -> None:
    assert httpx2.get(broker.url + INFO, timeout=5).json()["code"] == "50103"
    assert code_of(call(broker, "GET", INFO, secret="WRONG"))[:2] == (401, "50113")
    assert broker.state.count("broker_subaccounts") == 2
    assert broker.state.count("broker_fee_rates") == 0


# ----- faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["broker_subaccounts", "broker_fee_rates", "broker_keys", "broker_rebate_links", "broker_if_rebate"],
)
def test_a_broker_route_answers_its_faults_after_counting(broker: RunningSandbox, name: str) -> None:
    target = {
        "broker_subaccounts": INFO,
        "broker_fee_rates": FEES,
        "broker_keys": f"{APIKEY}?subAcct=alpha001",
        "broker_rebate_links": f"{REBATE}?type=true",
        "broker_if_rebate": f"{IF_REBATE}?apiKey=x",
    }[name]
    broker.state.faults[name] = "okx:50026"
    assert code_of(call(broker, "GET", target, key=FD if "rebate" in name else DMA))[:2] == (400, "50026")
    broker.state.faults[name] = "http_500"
    assert call(broker, "GET", target).status_code == 500
    assert broker.state.count(name) == 2


def test_the_generic_faults_hold_on_the_post_routes_too(broker: RunningSandbox) -> None:
    broker.state.faults["broker_rebate_generate"] = "not_json"
    assert call(broker, "POST", REBATE, key=FD, body={"begin": "20240101", "end": "20240102"}).text.startswith("<html>")
    broker.state.faults["broker_create_key"] = "wrong_shape"
    assert call(broker, "POST", APIKEY, body=NEW_KEY).json() == {"unexpected": True}
    assert not broker.state.rebate_reports and not broker.state.subaccounts["alpha001"].keys


def test_created_then_500_creates_the_key_then_answers_a_server_error(broker: RunningSandbox) -> None:
    broker.state.faults["broker_create_key"] = "created_then_500"
    answer = call(broker, "POST", APIKEY, body=NEW_KEY)
    assert answer.status_code == 500
    with pytest.raises(ValueError):
        answer.json()
    (made,) = broker.state.subaccounts["alpha001"].keys
    assert broker.state.api_keys[made.api_key].uid == "8000000001"
    broker.state.faults.clear()
    assert code_of(call(broker, "POST", APIKEY, body=NEW_KEY))[:2] == (200, "59502")


@pytest.mark.parametrize(
    ("fault", "fields"),
    [
        ("no_secret", {"subAcct", "label", "apiKey", "passphrase", "perm", "ip", "ts"}),
        ("extra_field", {"subAcct", "label", "apiKey", "secretKey", "passphrase", "perm", "ip", "ts", "extra"}),
    ],
)
def test_an_answer_missing_or_adding_a_field_still_creates_the_key(
    broker: RunningSandbox, fault: str, fields: set[str]
) -> None:
    broker.state.faults["broker_create_key"] = fault
    (made,) = call(broker, "POST", APIKEY, body=NEW_KEY).json()["data"]
    assert set(made) == fields
    assert made.get("extra", "x") == "x"
    assert made["apiKey"] in broker.state.api_keys


def test_a_malformed_answer_is_code_0_with_an_object_for_data(broker: RunningSandbox) -> None:
    broker.state.faults["broker_create_key"] = "malformed"
    answer = call(broker, "POST", APIKEY, body=NEW_KEY)
    assert (answer.status_code, answer.json()) == (200, {"code": "0", "data": {}})
    assert len(broker.state.subaccounts["alpha001"].keys) == 1


# ----- FD: rebate reports and rebate information ----------------------------------------------------------


def test_a_rebate_report_is_asked_for_once_then_listed_ongoing_then_finished(
    broker: RunningSandbox, clock: FakeClock
) -> None:
    broker.state.config.rebate_ready_seconds = 60.0
    now_ms = str(int(START * 1000))
    first = call(broker, "POST", REBATE, key=FD, body={"begin": "20240101", "end": "20240131"}).json()
    assert first == {"code": "0", "msg": "", "data": [{"result": "false", "ts": now_ms}]}
    clock.advance(5)
    again = call(broker, "POST", REBATE, key=FD, body={"begin": "20240101", "end": "20240131", "brokerType": "api"})
    assert again.json()["data"] == [{"result": "true", "ts": now_ms}]
    call(broker, "POST", REBATE, key=FD, body={"begin": "20240201", "end": "20240202"})

    (link, _) = call(broker, "GET", f"{REBATE}?type=true", key=FD).json()["data"]
    assert set(link) == {"fileHref", "beginTime", "endTime", "cTime", "ts", "state"}
    assert (link["beginTime"], link["endTime"]) == ("1704067200000", "1706745600000")
    assert (link["cTime"], link["ts"], link["state"]) == (now_ms, str(int((START + 5) * 1000)), "ongoing")
    href = link["fileHref"]
    assert href.startswith(f"{broker.url}/files/rebate/") and f".xls?Expires={int(START) + 5 + 7200}" in href
    assert httpx2.get(href, timeout=5).text.startswith("brokerCode,level,instId,ordId")

    matching = call(broker, "GET", f"{REBATE}?type=false&begin=20240201&end=20240202", key=FD).json()["data"]
    assert [(item["beginTime"], item["state"]) for item in matching] == [("1706745600000", "ongoing")]
    assert call(broker, "GET", f"{REBATE}?type=false&begin=20240201&end=20240203", key=FD).json()["data"] == []
    clock.advance(58)
    states = [item["state"] for item in call(broker, "GET", f"{REBATE}?type=true", key=FD).json()["data"]]
    assert states == ["finished", "ongoing"]
    clock.advance(2 * 3600)
    assert httpx2.get(href, timeout=5).status_code == 403
    assert broker.state.count("broker_rebate_generate") == 3 and broker.state.count("broker_rebate_links") == 4


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "50014"),
        ("?type=yes", "51000"),
        ("?type=false", "50014"),
        ("?type=false&begin=20240101", "50014"),
        ("?type=false&begin=2024-01-01&end=20240102", "51000"),
        ("?type=false&begin=20240230&end=20240302", "51000"),
        ("?type=true&brokerType=dma", "51000"),
    ],
)
def test_a_rebate_link_query_okx_would_refuse_gets_its_code(broker: RunningSandbox, query: str, code: str) -> None:
    assert code_of(call(broker, "GET", f"{REBATE}{query}", key=FD))[:2] == (400, code)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"end": "20240102"}, 400, "50014"),
        ({"begin": "20240101"}, 400, "50014"),
        ({"begin": "20241301", "end": "20241302"}, 400, "51000"),
        ({"begin": "20240101", "end": "20240102", "brokerType": "x"}, 400, "51000"),
        ({"begin": "20240103", "end": "20240102"}, 200, "59616"),
        ({"begin": "20240101", "end": "20240630"}, 200, "59615"),
    ],
)
def test_a_rebate_report_request_okx_would_refuse_gets_its_code(
    broker: RunningSandbox, body: dict[str, str], status: int, code: str
) -> None:
    assert code_of(call(broker, "POST", REBATE, key=FD, body=body))[:2] == (status, code)
    assert not broker.state.rebate_reports
    assert call(broker, "POST", REBATE, key=FD, body={"begin": "20240101", "end": "20240629"}).json()["code"] == "0"


def test_if_rebate_answers_what_the_test_set_or_the_default(broker: RunningSandbox) -> None:
    default = call(broker, "GET", f"{IF_REBATE}?apiKey=63d54aa0-0020-4ad9-a9f0-ac92654bc831", key=FD).json()
    assert default == {
        "code": "0",
        "msg": "",
        "data": [
            {
                "affiliated": False,
                "brokerCode": "SBXBROKER0000CDE",
                "type": "0",
                "clientRebateRatio": "0",
                "lastRebate": "",
            }
        ],
    }
    broker.state.if_rebate["user-key"] = {"affiliated": True, "brokerCode": "B", "type": "3"}
    set_one = call(broker, "GET", f"{IF_REBATE}?apiKey=user-key&brokerType=oauth", key=FD).json()
    assert set_one["data"] == [{"affiliated": True, "brokerCode": "B", "type": "3"}]
    assert code_of(call(broker, "GET", IF_REBATE, key=FD)) == (400, "50014", "Parameter apiKey can not be empty")
    assert code_of(call(broker, "GET", f"{IF_REBATE}?apiKey=k&brokerType=fd", key=FD))[:2] == (400, "51000")
