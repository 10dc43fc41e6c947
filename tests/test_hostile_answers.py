"""Hostile authorization and API servers (issue 9, items 5-8): answers crafted to crash or fool a client arrive
over real HTTP from the sandbox (``sandbox.faults.HOSTILE`` and the device endpoint's ``uri_suffix:`` faults)
and each ends in its clear error, never a traceback: JSON nested past any parser's recursion, numbers past
any clock, tokens carrying terminal escapes or header breaks, and verification links that read as another
host."""

from __future__ import annotations

import contextlib
import json
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp.client import Client

from okx_auth_mcp.core.bounded_json import MAX_JSON_DEPTH, nesting
from okx_auth_mcp.core.oauth_errors import BadResponse, DiscoveryFailed, PhishingGuard
from okx_auth_mcp.core.oauth_wire import (
    MAX_ACCESS_TTL,
    DeviceAuthorization,
    TokenResponse,
    TrustPolicy,
    check_device_links,
    is_safe_issuer,
    okx_code,
    parse,
    scopes_of,
)
from okx_auth_mcp.edges.http import decode_json
from okx_auth_mcp.edges.net_probes import server_time
from okx_auth_mcp.edges.okx_api import OkxApi
from okx_auth_mcp.login import diagnose as login_diagnose
from okx_auth_mcp.login.diagnose import ProbeOptions
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.faults import HOSTILE
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    FakeClock,
    approved_login_then_token_fault,
    confirmed_site,
    data,
    error_text,
    log_in,
    one_error_line,
    run_cli,
    site_ticket,
    snapshot,
    start_login,
    stored_session,
)

CRASHERS = ["deep_json", "deep_object", "long_number"]
"""Answers a plain ``json.loads`` turns into RecursionError or a ValueError it does not call a JSON error."""
HOSTILE_TOKENS = {
    "control_char_token": "access_token",
    "crlf_token": "access_token",
    "crlf_refresh_token": "refresh_token",
}


def refuse_names(host: str, port: int) -> list[str]:
    raise OSError("no names in these tests")


# ----- item 5: deeply nested JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("fault", CRASHERS)
@pytest.mark.parametrize(
    ("endpoint", "error"), [("discovery", DiscoveryFailed), ("register", BadResponse), ("device", BadResponse)]
)
def test_a_crashing_body_during_login_is_a_bad_response_and_changes_nothing(
    service: AuthService, sandbox: RunningSandbox, endpoint: str, error: type[Exception], fault: str
) -> None:
    ticket = site_ticket(service)
    before = snapshot(service.store.directory)
    sandbox.state.faults[endpoint] = fault
    if endpoint == "discovery":
        sandbox.state.faults["discovery_oidc"] = fault
    with pytest.raises(error, match=r"not JSON|nested deeper"):
        service.login("eea", ticket)
    after = snapshot(service.store.directory)
    assert {name: after[name] for name in before} == before
    assert service.auth_state().status == "not_logged_in"


@pytest.mark.parametrize("fault", CRASHERS)
def test_a_poisoned_token_poll_is_a_bad_response_each_time_and_the_login_survives_it(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, fault: str
) -> None:
    approved_login_then_token_fault(service, sandbox, fault)
    with pytest.raises(BadResponse):
        service.status()
    assert service.auth_state().status == "pending"
    polls = sandbox.state.count("token")
    assert service.status().status == "pending"  # within the interval: the failed poll counted
    assert sandbox.state.count("token") == polls
    clock.advance(5)
    with pytest.raises(BadResponse):
        service.status()
    assert service.auth_state().status == "pending"
    del sandbox.state.faults["token"]
    clock.advance(5)
    assert service.status().status == "logged_in"


@pytest.mark.parametrize("fault", CRASHERS)
def test_a_poisoned_refresh_keeps_the_session(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, fault: str
) -> None:
    log_in(service, sandbox)
    before = snapshot(service.store.directory)
    sandbox.state.faults["token"] = fault
    clock.advance(3600)
    with pytest.raises(BadResponse):
        service.bearer_token()
    assert snapshot(service.store.directory) == before
    assert service.status().status == "logged_in"


@pytest.mark.parametrize("fault", CRASHERS)
def test_a_crashing_account_answer_is_a_bad_response(sandbox: RunningSandbox, fault: str) -> None:
    sandbox.state.faults["account"] = fault
    with pytest.raises(BadResponse, match="account check"):
        OkxApi(timeout=2).account_config(sandbox.url, {"Authorization": "Bearer x"})


@pytest.mark.parametrize("fault", ["deep_json", "far_future_time", "infinite_time", "long_number"])
def test_diagnose_reports_a_time_endpoint_that_does_not_answer_with_a_time(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, fault: str
) -> None:
    sandbox.state.faults["time"] = fault
    report = login_diagnose.diagnose(service, ProbeOptions(timeout=1.0, resolver=refuse_names, wall=clock))
    offset = next(c for c in report.checks if c.id == "clock.offset")
    assert offset.status == "warn" and "not with OKX's server time" in offset.finding.en


def test_diagnose_reports_a_poisoned_token_endpoint(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    sandbox.state.faults["token"] = "deep_json"
    report = login_diagnose.diagnose(service, ProbeOptions(timeout=1.0, resolver=refuse_names, wall=clock))
    refresh = next(c for c in report.checks if c.id == "oauth.refresh")
    assert refresh.status == "warn" and "nested deeper" in refresh.finding.en


def test_status_after_a_poisoned_poll_is_one_line_on_the_command_line(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    start_login(me, "global")
    live.state.faults["token"] = "deep_json"
    code, out, err = run_cli(capsys, "status", "--lang", "en")
    assert (code, out) == (1, "")
    one_error_line(err, "bad_response")
    code, out, err = run_cli(capsys, "status", "--lang", "en")  # within the interval: the pending login, again
    assert me.auth_state().status == "pending"
    assert "Traceback" not in out + err


def test_diagnose_on_the_command_line_survives_a_poisoned_time_endpoint(
    capsys: pytest.CaptureFixture[str], live: RunningSandbox
) -> None:
    live.state.faults["time"] = "deep_json"
    code, out, err = run_cli(capsys, "diagnose", "--lang", "en", "--timeout", "2")
    assert (code, err) == (0, "")
    assert "not with OKX's server time" in out


@pytest.mark.anyio
async def test_the_tools_answer_bad_response_to_nested_json(client: Client, sandbox: RunningSandbox) -> None:
    choice = await confirmed_site(client, "1")
    arguments = {"site": choice["site"], "site_ticket": choice["site_ticket"], "lang": "en"}
    sandbox.state.faults["device"] = "deep_json"
    text = error_text(await client.call_tool("auth_login_manual", arguments))
    assert text.startswith("[bad_response]") and "nested deeper" in text
    del sandbox.state.faults["device"]
    data(await client.call_tool("auth_login_manual", arguments))
    sandbox.state.faults["token"] = "deep_json"
    text = error_text(await client.call_tool("auth_status", {"lang": "en"}))
    assert text.startswith("[bad_response]") and "nested deeper" in text
    assert data(await client.call_tool("preflight", {}))["next"] == "pending"


@given(st.integers(min_value=1, max_value=200))
def test_nesting_is_refused_exactly_beyond_the_limit(depth: int) -> None:
    for raw in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"0" + b"}" * depth):
        if depth <= MAX_JSON_DEPTH:
            decode_json(raw, 200, "x")
        else:
            with pytest.raises(BadResponse, match="nested deeper"):
                decode_json(raw, 200, "x")


@given(st.text(alphabet='[]{}"\\,:a0 ', max_size=300))
def test_any_brackets_and_quotes_decode_or_are_a_bad_response(text: str) -> None:
    with contextlib.suppress(BadResponse):
        decode_json(text.encode(), 200, "x")


def test_brackets_inside_strings_do_not_count() -> None:
    deep_text = '"' + "[" * 10_000 + '\\"' + "{" * 10_000 + '"'
    assert decode_json(f'{{"a": [{deep_text}]}}'.encode(), 200, "x") == {"a": [deep_text[1:-1].replace('\\"', '"')]}


_JSON_STRINGS = st.text(alphabet='"\\[]{}:,a ', max_size=12)
"""Strings full of what ends or escapes a string and of brackets that must not count."""
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _JSON_STRINGS),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_JSON_STRINGS, inner, max_size=4)),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    """How deep ``value``'s lists and dicts nest, the way the parser recurses into them."""
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@given(JSON_VALUES, st.sampled_from([{}, {"indent": 1}, {"ensure_ascii": False, "separators": (",", ":")}]))
def test_nesting_is_the_exact_depth_of_any_json_value(value: Any, style: dict[str, Any]) -> None:
    assert nesting(json.dumps(value, **style)) == depth_of(value)


UNCLOSED = '"' + '\\"' * 20_000
"""A string that never ends, with 20000 escaped quotes in it: 40 KB that took the depth's old count, a regular
expression for strings retried from each quote to the end, about 6 s (quadratic)."""
QUOTES = '"' * 20_000
BACKSLASH_QUOTE = '\\\\\\"' * 15_000
"""An escaped backslash then an escaped quote, 15000 times."""


def nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (UNCLOSED, "not JSON"),
        ("[" + UNCLOSED, "not JSON"),
        ('["' + BACKSLASH_QUOTE, "not JSON"),
        ('["' + '\\\\"' * 15_000, "not JSON"),  # \\" repeated: strings that end, backslashes between them
        ('{"a": ' + UNCLOSED + "[" * 100, "not JSON"),  # the brackets are inside the string: not too deep
        ("[" * (MAX_JSON_DEPTH + 1) + UNCLOSED, "nested deeper"),
    ],
)
def test_quotes_escaped_in_their_thousands_are_refused_for_what_they_are(text: str, error: str) -> None:
    with pytest.raises(BadResponse, match=error):
        decode_json(text.encode(), 200, "x")


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        (UNCLOSED + '"', QUOTES),
        ('{"a": [' + UNCLOSED + '"]}', {"a": [QUOTES]}),
        ("[" * MAX_JSON_DEPTH + UNCLOSED + '"' + "]" * MAX_JSON_DEPTH, nested(QUOTES, MAX_JSON_DEPTH)),
        (
            "[" * MAX_JSON_DEPTH + '"' + BACKSLASH_QUOTE + '"' + "]" * MAX_JSON_DEPTH,
            nested('\\"' * 15_000, MAX_JSON_DEPTH),
        ),
    ],
)
def test_quotes_escaped_in_their_thousands_are_decoded(text: str, decoded: Any) -> None:
    assert decode_json(text.encode(), 200, "x") == decoded


@pytest.mark.parametrize("raw", [b"NaN", b'{"a": Infinity}', b"[-Infinity]", b"[1e400]", b"1" * 5000, b"\xff"])
def test_what_is_not_json_by_rfc_8259_is_refused(raw: bytes) -> None:
    with pytest.raises(BadResponse, match="not JSON"):
        decode_json(raw, 200, "x")


# ----- item 6: numbers from the wire ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["huge_expires_in", "nan_expires_in", "long_number"])
def test_an_expires_in_past_any_clock_is_refused_at_the_poll(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, fault: str
) -> None:
    approved_login_then_token_fault(service, sandbox, fault)
    with pytest.raises(BadResponse):
        service.status()
    assert stored_session(service) is None and service.auth_state().status == "pending"


def test_an_expires_in_past_any_clock_is_refused_at_the_refresh(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    before = snapshot(service.store.directory)
    sandbox.state.faults["token"] = "huge_expires_in"
    clock.advance(3600)
    with pytest.raises(BadResponse, match="expires_in"):
        service.bearer_token()
    assert snapshot(service.store.directory) == before


@given(st.integers())
def test_expires_in_is_taken_within_one_year_only(seconds: int) -> None:
    body = {"access_token": "tok", "token_type": "Bearer", "expires_in": seconds}
    if 0 < seconds <= MAX_ACCESS_TTL:
        assert parse(TokenResponse, body, "token").expires_in == seconds
    else:
        with pytest.raises(BadResponse, match="expires_in"):
            parse(TokenResponse, body, "token")


@pytest.mark.parametrize(
    ("field", "value"),
    [("expires_in", 10**400), ("expires_in", 86401), ("interval", 10**400), ("interval", 0), ("expires_in", math.inf)],
)
def test_a_device_answer_with_numbers_out_of_range_is_refused(field: str, value: Any) -> None:
    body = {
        "device_code": "d",
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://www.okx.com/d",
        "expires_in": 600,
    }
    with pytest.raises(BadResponse, match=field):
        parse(DeviceAuthorization, {**body, field: value}, "device authorization")


@given(st.one_of(st.integers(), st.floats(), st.text(max_size=20)))
def test_the_server_time_is_a_finite_time_between_2000_and_2200_or_refused(ts: Any) -> None:
    try:
        seconds = server_time(200, {"code": "0", "data": [{"ts": ts}]})
    except BadResponse:
        return
    assert math.isfinite(seconds) and 946_684_800 <= seconds <= 7_258_118_400


# ----- item 7: token characters --------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "field"), HOSTILE_TOKENS.items())
def test_a_token_with_characters_outside_rfc_6750_is_refused_naming_the_field(
    service: AuthService, sandbox: RunningSandbox, fault: str, field: str
) -> None:
    approved_login_then_token_fault(service, sandbox, fault)
    with pytest.raises(BadResponse, match=field) as failure:
        service.status()
    message = str(failure.value)
    assert not re.search(r"[\x00-\x1f]", message) and "owned" not in message and "Injected" not in message
    assert stored_session(service) is None and service.auth_state().status == "pending"


def test_token_never_prints_a_hostile_token_to_the_terminal(
    capsys: pytest.CaptureFixture[str], me: AuthService, live: RunningSandbox
) -> None:
    live.state.config.access_ttl = 30  # within the refresh margin: the command refreshes
    log_in(me, live, "global")
    live.state.faults["token"] = "control_char_token"
    code, out, err = run_cli(capsys, "token")
    assert (code, out) == (3, "")
    one_error_line(err, "bad_response")
    assert "access_token" in err and "\x1b" not in err and "owned" not in err
    assert "\x1b" not in HOSTILE["control_char_token"].decode()  # sent escaped in JSON, decoded by the client
    session = stored_session(me)
    assert session is not None and "\x1b" not in session.access_token


B64TOKEN = st.from_regex(r"\A[A-Za-z0-9\-._~+/]+=*\Z")


@given(B64TOKEN)
def test_rfc_6750_tokens_are_accepted(token: str) -> None:
    body = {"access_token": token, "token_type": "Bearer", "refresh_token": token}
    parsed = parse(TokenResponse, body, "token")
    assert (parsed.access_token, parsed.refresh_token) == (token, token)


@given(
    B64TOKEN, st.characters(exclude_characters="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")
)
def test_any_other_character_is_refused(token: str, bad: str) -> None:
    for field in ("access_token", "refresh_token"):
        body = {"access_token": "ok", "token_type": "Bearer", field: token[:1] + bad + token[1:]}
        with pytest.raises(BadResponse, match=field):
            parse(TokenResponse, body, "token")


@pytest.mark.parametrize("token", ["=", "==abc", "ab=c", "a b", "", "tok\n", "tok=\n"])
def test_padding_only_at_the_end_and_never_alone(token: str) -> None:
    with pytest.raises(BadResponse, match="access_token"):
        parse(TokenResponse, {"access_token": token, "token_type": "Bearer"}, "token")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_trailing_newline_gets_into_no_code_scope_or_user_code(newline: str) -> None:
    token = parse(TokenResponse, {"access_token": "a", "token_type": "Bearer"}, "token")
    with pytest.raises(BadResponse, match="scope"):
        parse(TokenResponse, {"access_token": "a", "token_type": "Bearer", "scope": "read_only" + newline}, "t")
    assert scopes_of(token, "read_only") == ["read_only"]
    body = {
        "device_code": "d",
        "user_code": CODE + newline,
        "verification_uri": "https://www.okx.com/d",
        "expires_in": 9,
    }
    with pytest.raises(BadResponse, match="user_code"):
        parse(DeviceAuthorization, body, "device authorization")
    assert okx_code({"code": "53003" + newline}) is None


# ----- item 8: links that read as another host -----------------------------------------------------------

BUILT_IN = TrustPolicy("https://www.okx.com", custom_issuer=False)
CODE = "WDJB-MJHT"


@pytest.mark.parametrize(
    "uri",
    [
        "https://www.okx.com#.evil.example",
        "https://www.okx.com/device#.evil.example",
        "https://www.okx.com/device#",
        "https://www.okx.com?.evil.example",
        "https://www.okx.com/device?",
        "https://www.okx.com/device?user_code=WDJB-MJHT&x=1",
        "https://www.okx.com:0/device",
        "https://www.okx.com:00/device",
    ],
)
def test_a_verification_uri_with_a_fragment_a_query_or_port_0_is_refused(uri: str) -> None:
    with pytest.raises(PhishingGuard) as failure:
        BUILT_IN.check(uri)
    assert "evil" not in str(failure.value) and "okx.com" not in str(failure.value)


@pytest.mark.parametrize(
    "uri",
    [
        "https://www.okx.com/device?user_code=WDJB-MJHT&.evil.example",
        "https://www.okx.com/device?user_code=WDJB-MJHT#.evil.example",
        "https://www.okx.com/device?user_code=WDJB-MJHT#",
        "https://www.okx.com/device?.evil.example&user_code=WDJB-MJHT",
        "https://www.okx.com/device?user_code=WDJB-MJHT&user_code=WDJB-MJHT",
        "https://www.okx.com/device?user_code=ZZZZ-ZZZZ",
        "https://www.okx.com/device?user_code=",
        "https://www.okx.com/device?user_code=WDJB-MJHT.evil.example",
        "https://www.okx.com/device?code=WDJB-MJHT",
        "https://www.okx.com/device",
        "https://www.okx.com:0/device?user_code=WDJB-MJHT",
    ],
)
def test_a_complete_uri_carries_exactly_the_user_code_and_nothing_else(uri: str) -> None:
    with pytest.raises(PhishingGuard) as failure:
        BUILT_IN.check(uri, user_code=CODE)
    assert "evil" not in str(failure.value) and "okx.com" not in str(failure.value)


@pytest.mark.parametrize(
    "uri",
    [
        "https://www.okx.com/device?user_code=WDJB-MJHT",
        "https://www.okx.com/device?user_code=wdjbmjht",  # the same code, as a person may type it
        "https://www.okx.com:443/device?user_code=WDJB-MJHT",
    ],
)
def test_a_complete_uri_with_the_user_code_is_trusted(uri: str) -> None:
    BUILT_IN.check(uri, user_code=CODE)
    BUILT_IN.check(uri)  # without the code to compare (the okx CLI's link): a code is all its query may carry


@pytest.mark.parametrize("issuer", ["https://a.example#", "https://a.example?", "https://a.example:0"])
def test_an_issuer_with_an_empty_fragment_or_query_or_port_0_is_unsafe(issuer: str) -> None:
    assert not is_safe_issuer(issuer)


@pytest.mark.parametrize(
    ("uri", "complete"),
    [
        ("https://www.okx.com/device?user_code=WDJB-MJHT", None),  # verification_uri has no query (RFC 8628)
        ("https://www.okx.com/device#", None),
        ("https://www.okx.com/device", "https://www.okx.com/device?user_code=ZZZZ-ZZZZ"),
        ("https://www.okx.com/device", "https://www.okx.com/device"),
        ("https://www.okx.com/device", "https://www.okx.com/device?user_code=WDJB-MJHT#"),
    ],
)
def test_a_device_answer_whose_links_carry_more_than_the_code_is_refused(uri: str, complete: str | None) -> None:
    body = {"device_code": "d", "user_code": CODE, "verification_uri": uri, "expires_in": 600}
    device = parse(DeviceAuthorization, {**body, "verification_uri_complete": complete}, "device authorization")
    with pytest.raises(PhishingGuard, match="verification URI") as failure:
        check_device_links(device)
    assert "okx.com" not in str(failure.value)
    plain = {**body, "verification_uri": "https://www.okx.com/device"}
    check_device_links(parse(DeviceAuthorization, plain, "device authorization"))
    complete_uri = "https://www.okx.com/device?user_code=WDJB-MJHT"
    check_device_links(parse(DeviceAuthorization, {**plain, "verification_uri_complete": complete_uri}, "device"))


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        ("uri_suffix:#.evil.example", "verification URI"),
        ("uri_suffix:#", "verification URI"),
        ("uri_suffix:?.evil.example", "verification URI"),
        ("complete_suffix:&.evil.example", "verification URI"),
        ("complete_suffix:#.evil.example", "verification URI"),
    ],
)
def test_the_sandbox_serving_such_a_link_is_refused_and_nothing_is_kept(
    service: AuthService, sandbox: RunningSandbox, fault: str, shown: str
) -> None:
    ticket = site_ticket(service)
    sandbox.state.faults["device"] = fault
    with pytest.raises(PhishingGuard, match=shown) as failure:
        service.login("eea", ticket)
    assert "evil" not in str(failure.value) and "127.0.0.1" not in str(failure.value)
    assert service.auth_state().status == "not_logged_in"


@pytest.mark.anyio
async def test_the_login_tool_refuses_a_link_with_a_fragment(client: Client, sandbox: RunningSandbox) -> None:
    choice = await confirmed_site(client, "1")
    sandbox.state.faults["device"] = "uri_suffix:#.evil.example"
    text = error_text(
        await client.call_tool(
            "auth_login_manual", {"site": choice["site"], "site_ticket": choice["site_ticket"], "lang": "en"}
        )
    )
    assert text.startswith("[phishing_guard]") and "evil" not in text
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "not_logged_in"
