"""verify_credentials end to end: real config files under tmp_path, the sandbox over loopback HTTP checking
signatures and clocks with its own code, and the SDK's MCP client in memory (both protocol generations)."""

from __future__ import annotations

import contextlib
import json
import re
import stat
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver.exceptions import ToolError

from okx_auth_mcp.core import api_keys, okx_codes, texts
from okx_auth_mcp.core.api_keys import (
    ClockSkew,
    KeyRejected,
    LoginNotFinished,
    NotConfigured,
    ProfileUnusable,
    RegionRestricted,
    SessionEnded,
    SessionRejected,
    SiteHostMismatch,
    Target,
    Verified,
)
from okx_auth_mcp.core.oauth_errors import BadResponse, NetworkError, OkxError
from okx_auth_mcp.core.okx_profiles import Profile
from okx_auth_mcp.core.okx_signing import iso_timestamp, signature
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.edges.okx_api import OkxApi
from okx_auth_mcp.login import verify
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp import verify_tool
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.api_routes import HOSTILE_MSG
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    CLIENT_KINDS,
    FakeClock,
    connected,
    data,
    error_text,
    free_port,
    log_in,
    snapshot,
    start_login,
    write_config,
)

AK, SK, PP = "AK-0123456789abcdef", "SK-SECRET-777", "PP-PHRASE-888"
UID = "44556677889900"


@pytest.fixture
def api() -> OkxApi:
    return OkxApi(timeout=2)


def configure(
    isolated_env: dict[str, str],
    base_url: str | None,
    *,
    site: str | None = "global",
    secret: str = SK,
    passphrase: str = PP,
    demo: bool | None = None,
    extra: str = "",
) -> None:
    """``~/.okx/config.toml`` with one API-key profile, ``main``, the default."""
    lines = ['default_profile = "main"', "[profiles.main]", f'api_key = "{AK}"']
    lines += [f'secret_key = "{secret}"'] if secret else []
    lines += [f'passphrase = "{passphrase}"'] if passphrase else []
    lines += [f'site = "{site}"'] if site else []
    lines += [f'base_url = "{base_url}"'] if base_url else []
    lines += [f"demo = {str(demo).lower()}"] if demo is not None else []
    write_config(isolated_env["OKX_HOME"], "\n".join(lines) + "\n" + extra)


# ----- the code table ----------------------------------------------------------------------------------

LISTED = [
    *("50001", "50004", "50011", "50013", "50026", "50061", "50100", "50110", "50111", "50112", "50113"),
    *("50119", "51155", "51734"),
    *(f"530{n:02d}" for n in range(18) if n not in (7, 8)),
]


def test_every_code_the_issue_lists_is_in_the_one_table_with_a_meaning_and_a_next_step() -> None:
    for code in LISTED:
        entry = okx_codes.CODES[code]
        assert entry.meaning and not entry.meaning.endswith("."), code
        assert entry.next_step.endswith(".") and len(entry.next_step) > 12, code
        assert okx_codes.describe_okx_code(code) == f"{entry.meaning}. {entry.next_step}"
    assert "53007" not in okx_codes.CODES and "53008" not in okx_codes.CODES  # OKX publishes no such codes
    assert okx_codes.describe_okx_code("99999") == okx_codes.UNKNOWN_CODE
    assert okx_codes.code_kind("99999") is None


def test_the_kinds_that_decide_what_the_user_is_told() -> None:
    def kind(name: str) -> set[str]:
        return {code for code, entry in okx_codes.CODES.items() if entry.kind == name}

    assert kind("key_rejected") == {"50100", "50105", "50111", "50113", "50114"}
    assert kind("clock") == {"50102", "50112"}
    assert kind("site_host") == {"50119"}
    assert kind("region") == {"51155", "51734"}
    assert kind("retry") == {"50001", "50004", "50011", "50013", "50026", "50061"}
    assert kind("session") == {"53000", "53002", "53003", "53005", "53006"}


def test_every_code_the_sandbox_answers_is_in_the_table() -> None:
    for code in ("50101", "50102", "50103", "50104", "50105", "50106", "50107", "50111", "50112", "50113", "50119"):
        assert code in okx_codes.CODES


def test_an_okx_error_says_the_table_text_never_the_server_prose() -> None:
    text = str(OkxError("50011", HOSTILE_MSG, 429))
    assert text == f"OKX error 50011: {okx_codes.describe_okx_code('50011')} (HTTP 429)"


# ----- where a key goes (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "environ", "target"),
    [
        (Profile("p", "k", site="eea"), {}, Target("eea", "https://eea.okx.com", False)),
        (Profile("p", "k", site="us", demo=True), {}, Target("us", "https://app.okx.com", True)),
        (Profile("p", "k", base_url="https://eea.okx.com/"), {}, Target("eea", "https://eea.okx.com", False)),
        (Profile("p", "k", site="global"), {"OKX_SITE": "us"}, Target("us", "https://app.okx.com", False)),
        (
            Profile("p", "k", site="global", base_url="https://www.okx.com"),
            {"OKX_API_BASE_URL": "http://127.0.0.1:9", "OKX_DEMO": "1"},
            Target("global", "http://127.0.0.1:9", True),
        ),
        (Profile("p", "k", site="eea"), {"OKX_DEMO": "true"}, Target("eea", "https://eea.okx.com", True)),
        (Profile("p", "k", site="eea"), {"OKX_DEMO": "0"}, Target("eea", "https://eea.okx.com", False)),
    ],
)
def test_a_key_goes_where_okx_client_sends_it(profile: Profile, environ: dict[str, str], target: Target) -> None:
    assert api_keys.api_key_target(profile, environ, "config.toml") == target


@pytest.mark.parametrize(
    ("profile", "environ", "text"),
    [
        (Profile("p", "k"), {}, r"names no site .* site in \[profiles.p\] of config.toml"),
        (Profile("env", "k"), {}, "Set OKX_SITE in the environment"),
        (Profile("p", "k", base_url="http://127.0.0.1:9"), {}, "names no site"),
        (
            Profile("p", "k", site="eea"),
            {"OKX_SITE": "europe"},
            "OKX_SITE in the environment, the site of the API-key profile p, must be global, eea, us or tr$",
        ),
        (Profile("p", "k", site="eea", base_url="http://okx.example.net"), {}, "must be an https URL"),
        (Profile("p", "k", site="eea", base_url="https://user:pw@www.okx.com"), {}, "must be an https URL"),
    ],
)
def test_a_profile_that_cannot_be_sent_says_why(profile: Profile, environ: dict[str, str], text: str) -> None:
    with pytest.raises(ProfileUnusable, match=text) as caught:
        api_keys.api_key_target(profile, environ, "config.toml")
    assert "pw" not in str(caught.value) and "europe" not in str(caught.value)


def test_a_site_is_known_by_its_api_host() -> None:
    assert api_keys.site_of_api_host("https://www.okx.com") == "global"
    assert api_keys.site_of_api_host("https://eea.okx.com/") == "eea"
    assert api_keys.site_of_api_host("https://app.okx.com:443") == "us"
    assert api_keys.site_of_api_host("https://my.okx.com") is None  # the web host, not the API's
    assert api_keys.site_of_api_host("http://www.okx.com") is None
    assert api_keys.site_of_api_host("not a url") is None


def test_a_uid_is_masked_to_its_first_and_last_two_digits() -> None:
    assert api_keys.mask_uid(UID) == "44****00"
    assert api_keys.mask_uid("123456") == "12****56"
    assert api_keys.mask_uid("12345") == "****"


# ----- an API key against the sandbox --------------------------------------------------------------------


def test_a_file_profile_okx_accepts_is_ok_with_its_site_permissions_and_masked_uid(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, uid=UID, perm="read_only,trade,withdraw")
    configure(isolated_env, sandbox.url)
    outcome = verify.verify(service, api, clock)
    assert outcome == Verified("api_key", "global", "44****00", ("read_only", "trade", "withdraw"), "main", False)
    assert sandbox.state.count("account") == 1 and sandbox.state.termids == []


def test_environment_credentials_win_and_can_point_at_the_sandbox(
    settings: Settings,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The environment's key is OKX's client's first choice; OKX_API_BASE_URL (OKX's own override) points it at
    the sandbox, which plays the EEA host here."""
    configure(isolated_env, sandbox.url)  # a file key the sandbox does not know: using it would fail
    sandbox.state.site = "eea"
    sandbox.state.add_api_key("AK-ENV-0123456789", "SK-ENV", "PP-ENV", site="eea", perm="read_only")
    env = {"OKX_API_KEY": "AK-ENV-0123456789", "OKX_SECRET_KEY": "SK-ENV", "OKX_PASSPHRASE": "PP-ENV"}
    for name, value in {**env, "OKX_SITE": "eea", "OKX_API_BASE_URL": sandbox.url}.items():
        monkeypatch.setenv(name, value)
    service = AuthService(Settings.from_env(), clock=clock)
    try:
        outcome = verify.verify(service, api, clock)
    finally:
        service.close()
    assert outcome == Verified("api_key", "eea", "44****00", ("read_only",), "env", False)


@pytest.mark.parametrize("how", ["profile", "environment"])
def test_a_demo_key_is_sent_with_the_simulated_trading_header(
    settings: Settings,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, demo=True)
    configure(isolated_env, sandbox.url, demo=True if how == "profile" else None)
    if how == "environment":
        monkeypatch.setenv("OKX_DEMO", "1")  # OKX's client's own switch
    fresh = AuthService(Settings.from_env(), clock=clock)
    try:
        outcome = verify.verify(fresh, api, clock)
    finally:
        fresh.close()
    assert isinstance(outcome, Verified) and outcome.demo is True


def test_a_demo_key_sent_as_live_is_okx_environment_error(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, demo=True)
    configure(isolated_env, sandbox.url)
    with pytest.raises(OkxError, match="OKX error 50101: The API key does not match this environment") as caught:
        verify.verify(service, api, clock)
    assert "demo = true" in str(caught.value)


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"secret": "SK-WRONG"}, "50113"),  # Invalid Sign
        ({"passphrase": "PP-WRONG"}, "50105"),
        ({"register": False}, "50111"),  # a key OKX does not know
    ],
)
def test_a_key_okx_refuses_is_rejected_with_its_code(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    setup: dict[str, Any],
    code: str,
) -> None:
    if setup.pop("register", True):
        sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url, site="eea", **setup)
    assert verify.verify(service, api, clock) == KeyRejected("main", "eea", code)


def test_a_bare_http_401_is_a_rejected_key_without_a_code(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    configure(isolated_env, sandbox.url)
    sandbox.state.faults["account"] = "http_401"
    assert verify.verify(service, api, clock) == KeyRejected("main", "global", None)


def test_a_clock_within_30_seconds_is_fine_at_once(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url)
    sandbox.state.skew = -29.0
    outcome = verify.verify(service, api, clock)
    assert isinstance(outcome, Verified) and outcome.clock_offset_ms is None
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (1, 0)


# ----- a skewed clock: one reading of OKX's time, one retry ----------------------------------------------

DAY = 24 * 3600.0
OFFSET_RE = re.compile(r"it is [0-9.]+ s (?:behind|ahead of) OKX's server time \(clock offset ([+-][0-9]+) ms\)")


def near(offset_ms: int | None, skew: float) -> bool:
    """Whether a measured offset is the sandbox's skew, give or take half a loopback round trip."""
    return offset_ms is not None and abs(offset_ms - skew * 1000) < 1000


def measured_in(text: str) -> int:
    """The clock offset a ClockSkew text names."""
    found = OFFSET_RE.search(text)
    assert found is not None, text
    return int(found.group(1))


@pytest.mark.parametrize("skew", [90.0, -90.0, 31.0, DAY - 60])
def test_a_skewed_clock_verifies_with_one_retry_and_reports_the_offset(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    skew: float,
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, uid=UID)
    configure(isolated_env, sandbox.url)
    sandbox.state.skew = skew
    outcome = verify.verify(service, api, clock)
    assert isinstance(outcome, Verified) and near(outcome.clock_offset_ms, skew), outcome
    assert outcome == Verified(
        "api_key", "global", "44****00", ("read_only", "trade"), "main", False, outcome.clock_offset_ms
    )
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (2, 1)


def test_the_offset_is_measured_again_on_every_check_and_never_stored(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url)
    sandbox.state.skew = 90.0

    def state_files() -> dict[str, bytes]:
        directory = service.store.directory
        return snapshot(directory) if directory.exists() else {}

    before = state_files()
    for _ in range(2):
        outcome = verify.verify(service, api, clock)
        assert isinstance(outcome, Verified) and near(outcome.clock_offset_ms, 90.0)
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (4, 2)  # refused first both times
    assert state_files() == before


@pytest.fixture
def refused_clock(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> Callable[[float], ClockSkew]:
    """With the key of profile main known to the sandbox: verify_credentials with the sandbox's API clock
    ``skew`` seconds off, and the ClockSkew it must raise."""
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url)

    def run(skew: float) -> ClockSkew:
        sandbox.state.skew = skew
        with pytest.raises(ClockSkew) as caught:
            verify.verify(service, api, clock)
        return caught.value

    return run


@pytest.mark.parametrize("skew", [2 * DAY, -2 * DAY, DAY + 60, -(DAY + 60)])
def test_an_offset_of_more_than_a_day_is_refused_and_no_second_request_is_signed(
    sandbox: RunningSandbox, refused_clock: Callable[[float], ClockSkew], skew: float
) -> None:
    refused = refused_clock(skew)
    text = str(refused)
    assert refused.code == "50102" and near(measured_in(text), skew)
    assert "this computer's clock is off" in text and "more than a day, a reading that is not used" in text
    assert ("behind" if skew > 0 else "ahead of") + " OKX's server time" in text
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (1, 1)


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("http_500", "server time: the server failed HTTP 500"),
        ("not_json", "server time: HTTP 200 with a body that is not JSON"),
        ("wrong_shape", "server time: the answer carries no OKX code"),
        ("okx:50011", "OKX error 50011: "),
        ("far_future_time", "server time: not OKX's server time"),
        ("infinite_time", "server time: HTTP 200 with a body that is not JSON"),
        ("hang:3", "server time: 127.0.0.1:"),
    ],
)
def test_a_server_time_that_cannot_be_read_leaves_the_clock_refused(
    sandbox: RunningSandbox, refused_clock: Callable[[float], ClockSkew], fault: str, why: str
) -> None:
    sandbox.state.faults["time"] = fault
    refused = refused_clock(90.0)
    text = str(refused)
    assert refused.code == "50102" and "clock offset" not in text
    assert "; measuring it against OKX's server time failed (" + why in text, text
    assert "says no" not in text and "okx-verify" not in text
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (1, 1)


@pytest.mark.parametrize("code", ["50102", "50112"])
def test_a_retry_refused_for_its_time_again_is_clock_skew_with_the_offset(
    sandbox: RunningSandbox, clock: FakeClock, refused_clock: Callable[[float], ClockSkew], code: str
) -> None:
    """OKX refuses every request's time (the fault answers before any check): the one retry is refused too."""
    sandbox.state.faults["account"] = f"okx:{code}"
    refused = refused_clock(45.0)
    text = str(refused)
    assert refused.code == code and near(measured_in(text), 45.0)
    assert text.endswith(f"and the request signed again with that correction was refused too (code {code})")
    assert iso_timestamp(clock.now) in text  # what this computer's clock said, not the corrected time
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (2, 1)


def test_a_wrong_secret_behind_a_skewed_clock_is_found_on_the_retry(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    """The sandbox checks the time before the signature, as OKX does: only the corrected request shows the key."""
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url, secret="SK-WRONG")
    sandbox.state.skew = -90.0
    assert verify.verify(service, api, clock) == KeyRejected("main", "global", "50113")
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (2, 1)


def test_an_eea_key_on_the_global_host_is_a_site_and_host_mismatch(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    """The sandbox plays www.okx.com; the key was created on my.okx.com (EEA): OKX answers 50119."""
    sandbox.state.add_api_key(AK, SK, PP, site="eea")
    configure(isolated_env, sandbox.url, site="eea")
    with pytest.raises(SiteHostMismatch) as caught:
        verify.verify(service, api, clock)
    text = str(caught.value)
    host = sandbox.url.removeprefix("http://")
    assert caught.value.code == "50119"
    assert f"does not exist at {host}" in text and "the profile's site is eea" in text
    assert "the site and host do not match" in text and "my.okx.com only with eea" in text


def test_a_profile_whose_base_url_is_another_site_s_api_host_is_told_exactly_that() -> None:
    """The case that cannot run against the sandbox (it would reach www.okx.com): the text alone."""
    target = Target("eea", "https://www.okx.com", False)
    text = api_keys.site_host_message(OkxError("50119", HOSTILE_MSG, 401), "main", target)
    assert text == (
        "OKX says the API key of profile main does not exist at www.okx.com (code 50119: The API key does not "
        "exist on this host: a key works only on the site where it was created): www.okx.com is the Global API "
        "host, but the profile's site is eea: the site and host do not match (the EEA API host is "
        "https://eea.okx.com). A key created on www.okx.com works only with site global, one created on "
        "my.okx.com only with eea, one created on app.okx.com only with us, one created on tr.okx.com only with tr"
    )


@pytest.mark.parametrize("how", ["key_answer", "fault"])
@pytest.mark.parametrize("code", ["51155", "51734"])
def test_region_codes_say_not_available_on_the_configured_site(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    how: str,
    code: str,
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, answer=code if how == "key_answer" else None)
    if how == "fault":
        sandbox.state.faults["account"] = f"okx:{code}"
    configure(isolated_env, sandbox.url, site="us")
    with pytest.raises(RegionRestricted) as caught:
        verify.verify(service, api, clock)
    assert caught.value.code == code
    assert "not available on the configured site, us (app.okx.com)" in str(caught.value)
    assert "okx-verify.example" not in str(caught.value) and "says no" not in str(caught.value)


@pytest.mark.parametrize("code", ["50011", "50001", "50110", "53004", "59999"])
def test_any_other_okx_code_is_an_okx_error_with_the_table_text(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    code: str,
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, answer=code)
    configure(isolated_env, sandbox.url)
    with pytest.raises(OkxError) as caught:
        verify.verify(service, api, clock)
    assert caught.value.code == code and caught.value.status == 200
    assert str(caught.value) == f"OKX error {code}: {okx_codes.describe_okx_code(code)} (HTTP 200)"


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        ("not_json", "not JSON"),
        ("oversized", "larger than"),
        ("wrong_shape", "carries no OKX code"),
        ("http_500", "the server failed"),
        ("http_404", "unexpected HTTP 404"),
    ],
)
def test_a_broken_answer_is_a_bad_response(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    fault: str,
    text: str,
) -> None:
    configure(isolated_env, sandbox.url)
    sandbox.state.faults["account"] = fault
    with pytest.raises(BadResponse, match=text):
        verify.verify(service, api, clock)


@pytest.mark.parametrize(
    ("account", "field"),
    [
        ({"uid": "12 <a href='https://okx-verify.example'>", "perm": "read_only"}, "uid"),
        ({"uid": UID, "perm": "read_only,[open](https://okx-verify.example)"}, "perm"),
        ({"uid": 44556677889900, "perm": "read_only"}, "uid"),
    ],
)
def test_an_account_answer_with_prose_in_it_is_refused_without_repeating_it(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    account: dict[str, Any],
    field: str,
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, uid=account["uid"], perm=account["perm"])
    configure(isolated_env, sandbox.url)
    with pytest.raises(BadResponse, match=f"the account's {field} is not what OKX sends") as caught:
        verify.verify(service, api, clock)
    assert "okx-verify" not in str(caught.value)


def test_a_silent_server_is_a_network_error_within_the_timeout(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    configure(isolated_env, sandbox.url)
    sandbox.state.faults["account"] = "hang:3"
    started = time.monotonic()
    with pytest.raises(NetworkError, match="did not answer in time"):
        verify.verify(service, api, clock)
    assert time.monotonic() - started < 3.5


def test_an_unreachable_host_is_a_network_error_at_once(
    service: AuthService, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    port = free_port()
    configure(isolated_env, f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(NetworkError, match=f"cannot reach 127.0.0.1:{port}"):
        verify.verify(service, api, clock)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("setup", "text"),
    [
        ({"site": None}, "names no site"),
        ({"secret": ""}, "has an api_key but no secret_key"),
        ({"secret": "", "passphrase": ""}, "no secret_key and no passphrase"),
    ],
)
def test_a_profile_that_cannot_be_sent_sends_nothing(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    api: OkxApi,
    isolated_env: dict[str, str],
    setup: dict[str, Any],
    text: str,
) -> None:
    configure(isolated_env, sandbox.url, **setup)
    with pytest.raises(ProfileUnusable, match=text):
        verify.verify(service, api, clock)
    assert sandbox.state.count("account") == 0


# ----- OAuth, and neither --------------------------------------------------------------------------------


def test_an_oauth_session_is_checked_with_its_token_and_a_stable_device_id(
    service: AuthService, settings: Settings, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi
) -> None:
    log_in(service, sandbox)
    first = verify.verify(service, api, clock)
    assert first == Verified("oauth", "eea", "44****00", ("read_only", "trade"))
    assert verify.verify(service, api, clock) == first
    again = AuthService(settings, clock=clock)  # another process or a restart, on the same state directory
    try:
        assert verify.verify(again, api, clock) == first
    finally:
        again.close()
    termids = sandbox.state.termids
    assert len(termids) == 3 and len(set(termids)) == 1
    assert str(uuid.UUID(termids[0])) == termids[0] == service.store.device_id()
    device_file = service.store.directory / "device-id"
    assert stat.S_IMODE(device_file.stat().st_mode) == 0o600
    service.logout()
    assert service.store.device_id() == termids[0]  # a logout keeps the device


def test_a_device_id_file_that_holds_no_uuid_is_replaced(service: AuthService) -> None:
    service.store.write_json("device-id", {"not": "a uuid"})
    device = service.store.device_id()
    assert str(uuid.UUID(device)) == device
    assert (service.store.directory / "device-id").read_text(encoding="ascii") == device
    assert service.store.device_id() == device


def test_a_token_near_expiry_is_refreshed_before_the_check(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi
) -> None:
    log_in(service, sandbox)
    refreshes = sandbox.state.count("token")
    clock.advance(3600 - 30)
    assert isinstance(verify.verify(service, api, clock), Verified)
    assert sandbox.state.count("token") == refreshes + 1
    assert sandbox.state.reuse_detected == 0


def test_a_session_the_server_ended_at_the_refresh_is_session_ended(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi
) -> None:
    log_in(service, sandbox)
    for token in sandbox.state.refresh_tokens.values():
        token.grant.revoked = True
    clock.advance(3600)
    assert verify.verify(service, api, clock) == SessionEnded()
    assert sandbox.state.count("account") == 0
    assert service.auth_state().status == "not_logged_in"


def test_a_token_okx_refuses_is_session_rejected(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi
) -> None:
    log_in(service, sandbox)
    sandbox.state.faults["account"] = "okx:53003"  # refused again after verify's one refresh and retry
    with pytest.raises(SessionRejected, match="code 53003: Token revoked") as caught:
        verify.verify(service, api, clock)
    assert caught.value.code == "53003"


def test_an_api_key_is_checked_even_with_an_oauth_session(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    log_in(service, sandbox)
    configure(isolated_env, sandbox.url)  # unknown to the sandbox: OAuth would pass, the key does not
    assert verify.verify(service, api, clock) == KeyRejected("main", "global", "50111")
    assert sandbox.state.termids == []


def test_a_pending_login_or_nothing_at_all_sends_nothing(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, api: OkxApi, isolated_env: dict[str, str]
) -> None:
    assert verify.verify(service, api, clock) == NotConfigured()
    write_config(isolated_env["OKX_HOME"], '[profiles.a]\nsite = "eea"\n')  # a site but no key
    assert verify.verify(service, api, clock) == NotConfigured()
    start_login(service)
    assert verify.verify(service, api, clock) == LoginNotFinished("eea")
    assert sandbox.state.count("account") == 0


# ----- through the MCP client ----------------------------------------------------------------------------


@pytest.fixture(params=CLIENT_KINDS)
async def client(request: pytest.FixtureRequest, service: AuthService, clock: FakeClock) -> AsyncIterator[Client]:
    """The server as ``build_server`` makes it, with verify_credentials registered on the tests' clock (the
    sandbox's): in place of the one ``build_server`` registers on the real clock, once it does."""
    mcp = build_server(service)
    with contextlib.suppress(ToolError):
        mcp.remove_tool("verify_credentials")
    verify_tool.register(mcp, service, clock=clock, api=OkxApi(timeout=2))
    async with connected(service, str(request.param), server=mcp) as joined:
        yield joined


REJECTED_EN = (
    "OKX rejected the API key of profile main (OKX code 50113).\n"
    "Logging in with OAuth does not help while this key is configured: OKX's client always uses the API key first. "
    "Choose one:\n"
    "1. Replace the API key: create a new one at https://www.okx.com/account/my-api, then enter it on a one-time "
    "page on this computer (setup_api_key; in a terminal: okx-auth-mcp config init), not in the chat.\n"
    "2. Switch entirely to OAuth: first remove the broken API-key profile (profile main, once you confirm: "
    "remove_api_key_profile; in a terminal: okx-auth-mcp config remove main), then log in with OAuth."
)
REJECTED_ZH = (
    "OKX 拒绝了 profile main 的 API key（OKX 错误码 50113）。\n"
    "只要这个 API key 仍在配置中，OAuth 登录就解决不了问题：OKX 客户端总是优先使用 API key。请选择其一：\n"
    "1. 更换 API key：在 https://www.okx.com/account/my-api 创建一个新的 API key，然后在本机的一次性页面中输入它"
    "（setup_api_key；终端中：okx-auth-mcp config init），不要粘贴到对话中。\n"
    "2. 完全改用 OAuth：先删除失效的 API key profile（经您确认后删除 profile main：remove_api_key_profile；"
    "终端中：okx-auth-mcp config remove main），再用 OAuth 登录。"
)


@pytest.mark.anyio
async def test_the_tool_is_described_for_the_model(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    tool = tools["verify_credentials"]
    assert tool.title == "Verify OKX credentials" and tool.annotations is not None
    assert tool.annotations.destructive_hint is False and tool.annotations.open_world_hint is True
    assert tool.output_schema is not None and "reply" in tool.output_schema["properties"]
    assert tool.input_schema["required"] == ["lang"] and tool.input_schema["properties"]["lang"]["description"]
    description = tool.description or ""
    assert "two options" in description and "never call either one recommended" in description
    assert "preflight" in description


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_accepted_key_through_the_client(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str], lang: str
) -> None:
    sandbox.state.add_api_key(AK, SK, PP, demo=True)
    configure(isolated_env, sandbox.url, site="global", demo=True)
    reply = {
        "en": "OKX accepted the demo-trading API key of profile main.\nSite: global\nUID: 44****00\n"
        "Permissions: read_only, trade",
        "zh": "OKX 已接受 profile main 的 API key（模拟盘）。\n站点：global\nUID：44****00\n权限：read_only, trade",
    }[lang]
    assert data(await client.call_tool("verify_credentials", {"lang": lang})) == {
        "reply": reply,
        "status": "ok",
        "credential": "api_key",
        "profile": "main",
        "site": "global",
        "demo": True,
        "uid": "44****00",
        "permissions": ["read_only", "trade"],
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("lang", "skew", "words"),
    [
        ("en", 90.0, "this computer's clock is 90.0 s behind OKX's server time"),
        ("en", -90.0, "this computer's clock is 90.0 s ahead of OKX's server time"),
        ("zh", 90.0, "本机时钟比 OKX 服务器时间慢 90.0 秒"),
        ("zh", -90.0, "本机时钟比 OKX 服务器时间快 90.0 秒"),
    ],
)
async def test_a_skewed_clock_through_the_client_reports_the_offset_and_the_fix(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str], lang: Lang, skew: float, words: str
) -> None:
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url)
    sandbox.state.skew = skew
    result = data(await client.call_tool("verify_credentials", {"lang": lang}))
    offset = result.pop("clockOffsetMs")
    assert near(offset, skew)
    verified = texts.credentials_verified(lang, "main", "global", "44****00", ["read_only", "trade"])
    assert result == {
        "reply": verified + "\n" + texts.clock_advice(lang, offset),
        "status": "ok",
        "credential": "api_key",
        "profile": "main",
        "site": "global",
        "demo": False,
        "uid": "44****00",
        "permissions": ["read_only", "trade"],
    }
    assert words in result["reply"]
    assert ("automatic time" if lang == "en" else "自动对时") in result["reply"]
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (2, 1)


@pytest.mark.anyio
async def test_a_clock_too_far_off_through_the_client_is_clock_skew(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url)
    sandbox.state.skew = -2 * DAY
    text = error_text(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert text.startswith("[clock_skew] OKX refused the request's time (code 50102: "), text
    assert near(measured_in(text), -2 * DAY) and "a reading that is not used" in text and "Next: " in text
    assert (sandbox.state.count("account"), sandbox.state.count("time")) == (1, 1)


@pytest.mark.anyio
@pytest.mark.parametrize(("lang", "reply"), [("en", REJECTED_EN), ("zh", REJECTED_ZH)])
async def test_a_wrong_secret_gives_exactly_the_two_neutral_options(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str], lang: str, reply: str
) -> None:
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url, secret="SK-WRONG")
    result = data(await client.call_tool("verify_credentials", {"lang": lang}))
    assert result == {
        "reply": reply,
        "status": "api_key_rejected",
        "credential": "api_key",
        "profile": "main",
        "site": "global",
        "code": "50113",
    }
    assert "recommend" not in reply.lower() and "推荐" not in reply


@pytest.mark.anyio
async def test_an_eea_profile_gets_the_eea_key_page(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    sandbox.state.site = "eea"
    configure(isolated_env, sandbox.url, site="eea")
    result = data(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert result["reply"] == texts.api_key_rejected("en", "main", "eea", "50111")
    assert "https://my.okx.com/account/my-api" in result["reply"]


@pytest.mark.anyio
async def test_oauth_and_nothing_through_the_client(
    client: Client, service: AuthService, sandbox: RunningSandbox
) -> None:
    nothing = data(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert nothing == {
        "reply": "No OKX API key is configured and you are not logged in to OKX, so there is nothing to check. "
        "Do you want to log in?",
        "status": "not_configured",
    }
    zh = data(await client.call_tool("verify_credentials", {"lang": "zh"}))
    assert zh["reply"] == "未配置 OKX API key，也未登录 OKX，没有可验证的凭据。需要现在登录吗？"
    start_login(service)
    pending = data(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert pending == {"reply": texts.pending("en", "eea"), "status": "pending", "site": "eea"}
    device = next(iter(sandbox.state.devices.values()))
    assert sandbox.state.decide(device.user_code, approve=True)
    assert service.status().status == "logged_in"
    ok = data(await client.call_tool("verify_credentials", {"lang": "zh"}))
    assert ok == {
        "reply": "OKX 已接受你的 OAuth 登录。\n站点：eea\nUID：44****00\n权限：read_only, trade",
        "status": "ok",
        "credential": "oauth",
        "site": "eea",
        "uid": "44****00",
        "permissions": ["read_only", "trade"],
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("scenario", "start"),
    [
        ("skew", "[clock_skew] OKX refused the request's time (code 50102: "),
        ("eea_key", "[site_host_mismatch] OKX says the API key of profile main does not exist at "),
        ("region", "[region_restricted] OKX says this is not available on the configured site, global "),
        ("rate_limit", "[okx_error] OKX error 50011: Too many requests: OKX's rate limit was reached. Wait "),
        ("no_site", "[profile_unusable] the API-key profile main names no site"),
        ("not_json", "[bad_response] account check: HTTP 200 with a body that is not JSON"),
        ("down", "[network_error] account check: cannot reach 127.0.0.1:"),
        ("broken_config", "[config_error] "),
    ],
)
async def test_each_failure_class_has_its_error_text(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str], scenario: str, start: str
) -> None:
    sandbox.state.add_api_key(
        AK,
        SK,
        PP,
        site="eea" if scenario == "eea_key" else "global",
        answer={"region": "51155", "rate_limit": "50011"}.get(scenario),
    )
    base_url = f"http://127.0.0.1:{free_port()}" if scenario == "down" else sandbox.url
    configure(isolated_env, base_url, site=None if scenario == "no_site" else "global")
    if scenario == "skew":
        sandbox.state.skew = 2 * DAY  # an offset too large to correct for
    if scenario == "not_json":
        sandbox.state.faults["account"] = "not_json"
    if scenario == "broken_config":
        write_config(isolated_env["OKX_HOME"], "[profiles.main]\npassphrase = a#b\n")
    text = error_text(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert text.startswith(start), text
    assert "Next: " in text
    assert "okx-verify.example" not in text and "Invalid Sign" not in text and "Timestamp request expired" not in text


@pytest.mark.anyio
async def test_no_secret_reaches_a_result_or_a_log(
    client: Client,
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    isolated_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    seen: list[str] = []

    async def call() -> None:
        result = await client.call_tool("verify_credentials", {"lang": "en"})
        seen.append(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))

    log_in(service, sandbox)
    await call()  # OAuth: ok
    clock.advance(3600)
    await call()  # OAuth, refreshed first
    sandbox.state.add_api_key(AK, SK, PP, uid=UID)
    configure(isolated_env, sandbox.url)
    await call()  # ok
    sandbox.state.skew = 60
    await call()  # ok, signed again with OKX's time
    sandbox.state.skew = 2 * DAY
    await call()  # clock
    sandbox.state.skew = 0
    configure(isolated_env, sandbox.url, passphrase="PP-WRONG-999")
    await call()  # rejected
    sandbox.state.add_api_key(AK, SK, PP, uid=UID, answer="51155")
    configure(isolated_env, sandbox.url)
    await call()  # region, with prose in msg

    sent_signature = signature(SK, iso_timestamp(clock.now), "GET", "/api/v5/account/config")
    resent = [  # the retry's, signed at this clock plus an offset a little under 60 s
        signature(SK, iso_timestamp(clock.now + 60 - ms / 1000), "GET", "/api/v5/account/config") for ms in range(1000)
    ]
    secrets = [SK, PP, "PP-WRONG-999", AK, UID, sent_signature, *resent, service.store.device_id()]
    secrets += [*sandbox.state.access_tokens, *sandbox.state.refresh_tokens]
    everything = caplog.text + "\n".join(seen)
    assert len(seen) == 7 and "verify_credentials" in caplog.text and "clockOffsetMs" in everything
    for secret in secrets:
        assert secret not in everything
    assert "okx-verify.example" not in everything


@pytest.mark.anyio
async def test_a_passphrase_okx_never_issues_is_refused_without_quoting_it(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    sandbox.state.add_api_key(AK, SK, PP)
    configure(isolated_env, sandbox.url, passphrase="pä\u00a0ss")
    text = error_text(await client.call_tool("verify_credentials", {"lang": "en"}))
    assert text.startswith("[profile_unusable] the API-key profile main has a passphrase with characters"), text
    assert "ä" not in text + caplog.text and "\\xe4" not in text + caplog.text
    assert sandbox.state.count("account") == 0
