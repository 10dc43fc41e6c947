"""The broker tools' pure half: OKX's parameter rules, the generated passphrase, the answers' validation, the
confirmation tickets and the rate windows."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_auth_mcp.core import broker_confirmation as confirmation
from okx_auth_mcp.core import broker_rules as rules
from okx_auth_mcp.core import broker_texts, tickets
from okx_auth_mcp.core.broker_answers import CreatedKey, RebateLink, SubAccount
from okx_auth_mcp.core.broker_confirmation import KeyRequest
from okx_auth_mcp.core.rate_windows import RULES, Rule, wait_for
from okx_auth_mcp.core.records import Unfit, validated
from okx_auth_mcp.login.broker_keys import new_passphrase

KEY = b"k" * 32
NOW = 1_800_000_000.0
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("name", ["abcdef", "A1b2C3d4E5f6G7h8I9j0", "123456"])
def test_sub_account_names_okx_takes(name: str) -> None:
    assert rules.sub_account(name) == name


@pytest.mark.parametrize("name", ["abcde", "a" * 21, "abc def", "abc-def", "abcdéf", "abcdef\n", ""])
def test_sub_account_names_okx_refuses_never_quoted(name: str) -> None:
    with pytest.raises(rules.BrokerArgumentError, match=r"^subAcct: a sub-account name is 6-20") as caught:
        rules.sub_account(name)
    assert name not in str(caught.value) or not name


@pytest.mark.parametrize("label", ["", "a" * 51, "with space", "dash-ed", "标签"])
def test_labels_okx_refuses(label: str) -> None:
    with pytest.raises(rules.BrokerArgumentError, match=r"^label: "):
        rules.label(label)


def test_permissions_always_hold_read_only_in_okxs_order() -> None:
    assert rules.permissions(None) == ("read_only",)
    assert rules.permissions("trade") == ("read_only", "trade")
    assert rules.permissions(["withdraw", "read_only", "trade"]) == ("read_only", "trade", "withdraw")
    assert rules.permissions(" trade , trade ") == ("read_only", "trade")
    for unknown in ("admin", "read_only,transfer", ["TRADE"]):
        with pytest.raises(rules.BrokerArgumentError, match=r"^perm: "):
            rules.permissions(unknown)


def test_ip_lists_canonical_unique_and_at_most_twenty() -> None:
    assert rules.ip_list(None) == ()
    assert rules.ip_list("10.0.0.1, 10.0.0.1,::FFFF:1") == ("10.0.0.1", "::ffff:1")
    assert len(rules.ip_list([f"10.0.0.{i}" for i in range(20)])) == 20
    with pytest.raises(rules.BrokerArgumentError, match="at most 20"):
        rules.ip_list([f"10.0.0.{i}" for i in range(21)])
    assert rules.ip_list(["::ffff:10.0.0.1", "10.0.0.1"]) == ("10.0.0.1",)  # IPv4-mapped: the IPv4 address
    for bad in ("10.0.0.0/24", "example.com", "10.0.0.256", "1.2.3.4 5.6.7.8", "fe80::1%eth0", "fe80::1%0. ok"):
        with pytest.raises(rules.BrokerArgumentError, match=r"^ip: "):
            rules.ip_list(bad)


def test_report_ranges() -> None:
    assert rules.report_range("20260601", "20261128", TODAY) == ("20260601", "20261128")
    for begin, end, field, words in (
        ("20261102", "20261101", "begin", "after the end"),
        ("20260101", "20261201", "end", "180 days"),
        ("20261130", "20261203", "end", "future"),
        ("2026111", "20261101", "begin", "YYYYMMDD"),
        ("20260230", "20261101", "begin", "no calendar day"),
    ):
        with pytest.raises(rules.BrokerArgumentError, match=f"^{field}: .*{words}"):
            rules.report_range(begin, end, TODAY)


def test_every_generated_passphrase_is_one_okx_takes() -> None:
    made = {new_passphrase() for _ in range(500)}
    assert len(made) == 500 and all(rules.passphrase_fits(p) and len(p) == 24 for p in made)


def test_passphrases_okx_refuses() -> None:
    for bad in ("Aa1!", "aaaaaaa1!", "AAAAAAA1!", "Aaaaaaaa!", "Aaaaaaaa1", "Aa1! with space", "Aa1!é" * 2, "A1!a" * 9):
        assert not rules.passphrase_fits(bad), bad
    assert rules.passphrase_fits("Qwr4321!")


def test_the_profile_name_of_a_new_key() -> None:
    assert rules.sub_profile_name("panpanBroker2", "broker3") == "sub-panpanBroker2-broker3"
    assert len(rules.sub_profile_name("a" * 20, "b" * 50)) == 75


CREATED = {
    "subAcct": "panpanBroker2",
    "label": "broker3",
    "apiKey": "0f3e5a2c-1d2b-4c5d-8e9f-0a1b2c3d4e5f",
    "secretKey": "C0FFEE" * 5 + "AB",
    "passphrase": "Qwr4321!x",
    "perm": "read_only,trade",
    "ip": "10.0.108.9",
    "ts": "1597026383085",
}


def test_a_created_key_is_all_okx_documents_and_nothing_more() -> None:
    created = validated(CreatedKey, CREATED)
    assert "C0FFEE" not in repr(created) and "Qwr4321" not in repr(created)
    shown = created.shown()
    assert shown["api_key"] == "0f3e****4e5f" and "secret" not in str(shown).lower()
    for broken in ({k: v for k, v in CREATED.items() if k != "secretKey"}, {**CREATED, "extra": "x"}):
        with pytest.raises(Unfit):
            validated(CreatedKey, broken)


def test_answers_carry_no_prose() -> None:
    item = {"subAcct": "abcdef", "uid": "289000001696", "acctLv": "1", "enable": True, "ts": "1648521249000"}
    assert validated(SubAccount, item).shown()["uid"] == "28****96"
    with pytest.raises(Unfit) as caught:
        validated(SubAccount, {**item, "label": "click https://evil.example now"})
    assert caught.value.fields == ("label",)
    with pytest.raises(Unfit):
        validated(RebateLink, {"fileHref": "javascript:alert(1)", "state": "finished"})
    with pytest.raises(Unfit):
        validated(RebateLink, {"fileHref": "https://user:pw@files.example/x", "state": "finished"})


def _request(
    perm: list[str] | None = None, ip: list[str] | None = None, deliver: confirmation.Delivery = "config"
) -> KeyRequest:
    return KeyRequest.checked("broker", "panpanBroker2", "broker3", perm, ip, deliver)


def test_a_confirmation_carries_the_whole_request() -> None:
    request = _request(["trade"], ["10.0.0.1"])
    ticket = confirmation.issue(KEY, request, "create", NOW, nonce="n")
    held = confirmation.verify(KEY, ticket, NOW + 599, broker_profile="broker")
    assert held.request == request and held.stage == "create"
    with pytest.raises(confirmation.KeyConfirmationExpired):
        confirmation.verify(KEY, ticket, NOW + 600, broker_profile="broker")
    with pytest.raises(confirmation.KeyConfirmationMismatch):
        confirmation.verify(KEY, ticket, NOW, broker_profile="other")
    with pytest.raises(confirmation.KeyConfirmationMismatch):
        confirmation.verify(KEY, ticket, NOW, broker_profile="broker", sub_acct="another1")


def test_no_other_ticket_is_taken_for_a_key_confirmation() -> None:
    removal = tickets.sign(KEY, "okxr1", {"v": 1})
    with pytest.raises(confirmation.KeyConfirmationInvalid):
        confirmation.verify(KEY, removal, NOW, broker_profile="broker")
    forged = tickets.sign(KEY, confirmation.PREFIX, {"v": 1, "w": "create", "d": "config", "s": "x", "exp": NOW + 9})
    with pytest.raises(confirmation.KeyConfirmationInvalid):
        confirmation.verify(KEY, forged, NOW, broker_profile="broker")


@given(st.data())
def test_changing_any_character_of_a_confirmation_invalidates_it(data: st.DataObject) -> None:
    ticket = confirmation.issue(KEY, _request(), "create", NOW, nonce="n")
    index = data.draw(st.integers(0, len(ticket) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != ticket[index]))
    with pytest.raises(tickets.TicketInvalid):
        confirmation.verify(KEY, ticket[:index] + replacement + ticket[index + 1 :], NOW, broker_profile="broker")


def test_only_the_stages_own_word_confirms() -> None:
    assert confirmation.confirms_stage("create", " YES ") and confirmation.confirms_stage("create", "是")
    assert not confirmation.confirms_stage("create", "withdraw")
    assert confirmation.confirms_stage("withdraw", "Withdraw") and confirmation.confirms_stage("withdraw", "提币")
    for reply in ("yes", "是", "y", "withdraw please", ""):
        assert not confirmation.confirms_stage("withdraw", reply)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_question_names_everything_agreed_to(lang: str) -> None:
    unbound = _request(["trade"])
    text = broker_texts.question(lang, unbound, "eea", False, "/home/u/.okx/config.toml")  # type: ignore[arg-type]
    for part in ("panpanBroker2", "broker3", "read_only, trade", "sub-panpanBroker2-broker3", "my.okx.com", "14"):
        assert part in text
    demo = broker_texts.question(lang, unbound, "eea", True, "/c")  # type: ignore[arg-type]
    assert "14" not in demo  # OKX never deletes a demo-trading key
    bound = broker_texts.question(lang, _request(["trade"], ["10.0.0.1"]), "global", False, "/c")  # type: ignore[arg-type]
    assert "10.0.0.1" in bound and "14" not in bound
    assert "panpanBroker2" in broker_texts.withdraw_question(lang, _request(["withdraw"]))  # type: ignore[arg-type]


def test_rate_windows() -> None:
    per_second = Rule(1, 1.0)
    assert wait_for([], per_second, NOW) == 0.0
    assert wait_for([NOW - 0.25], per_second, NOW) == pytest.approx(0.75)
    assert wait_for([NOW - 1.0], per_second, NOW) == 0.0
    assert wait_for([NOW - 10, NOW - 30], RULES["broker_rebate_links"], NOW) == pytest.approx(30.0)
    assert wait_for([NOW + 5], per_second, NOW) == pytest.approx(1.0)  # a clock set back opens no window ...
    assert wait_for([NOW + 3e7], RULES["broker_rebate_generate"], NOW) == pytest.approx(3600)  # ... nor blocks
    assert RULES["broker_rebate_generate"].words() == "1 per 1 hour"


@given(st.lists(st.floats(0, 100), max_size=50), st.integers(1, 5), st.floats(0.5, 60))
def test_the_wait_is_exactly_until_the_request_fits(sent: list[float], count: int, window: float) -> None:
    rule, now = Rule(count, window), 100.0
    wait = wait_for(sent, rule, now)
    assert wait_for(sent, rule, now + wait + 1e-6) == 0.0  # it fits then ...
    if wait > 1e-3:
        assert wait_for(sent, rule, now + wait - 1e-3) > 0.0  # ... and not before
