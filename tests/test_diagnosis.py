"""The diagnosis core, without I/O: facts in, checklist out (``diagnosis`` and its ``diagnosis_*`` parts)."""

from __future__ import annotations

import dataclasses

import pytest

from okx_auth_mcp.core.diagnosis.checklist import Check, Report
from okx_auth_mcp.core.diagnosis.facts import (
    ConfigFacts,
    LocalFacts,
    NetworkFacts,
    OAuthFacts,
    Plan,
    ProfileFacts,
    Sample,
    StateDirFacts,
    Step,
    Target,
    TargetFacts,
    TokenProbe,
    clock_offset,
)
from okx_auth_mcp.core.diagnosis.report import checks, plan
from okx_auth_mcp.core.diagnosis.urls import clean_url, redact_proxy
from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.records import REFRESH_MARGIN_SECONDS
from okx_auth_mcp.core.texts import OKX_CLI_UPGRADE

NOW = 1_800_000_000.0
API = Target("https://www.okx.com", frozenset({"api", "oauth"}))


def local(
    config: ConfigFacts | None = None,
    oauth: OAuthFacts | None = None,
    state: StateDirFacts | None = None,
    override: str | None = None,
) -> LocalFacts:
    return LocalFacts(
        backend="native",
        now=NOW,
        config=config or ConfigFacts("/home/u/.okx/config.toml"),
        oauth=oauth or OAuthFacts("not_logged_in"),
        state=state
        or StateDirFacts("/state", exists=True, mode=0o700, files=(("ticket.key", 0o600),), lock=Step(seconds=0.001)),
        issuer_override=override,
    )


def one(found: tuple[Check, ...], check_id: str) -> Check:
    matching = [c for c in found if c.id == check_id]
    assert len(matching) == 1, [c.id for c in found]
    return matching[0]


def answered(offset: float, rtt: float = 0.0) -> NetworkFacts:
    sample = Sample(sent_at=NOW, rtt=rtt, server_time=NOW + rtt / 2 + offset)
    return NetworkFacts(
        (TargetFacts(API, dns=Step(seconds=0.01, detail="1.2.3.4"), connect=Step(seconds=0.02), samples=(sample,)),)
    )


# ----- the clock ------------------------------------------------------------------------------------------


def test_the_offset_is_measured_at_the_midpoint_of_the_shortest_round_trip() -> None:
    slow = Sample(sent_at=100.0, rtt=0.8, server_time=150.0)
    fast = Sample(sent_at=101.0, rtt=0.2, server_time=146.3)
    assert clock_offset([slow, fast]) == pytest.approx((146.3 - 101.1, 0.1))
    assert clock_offset([Sample(100.0, 0.1, None)]) is None


@pytest.mark.parametrize(
    ("offset", "status", "words"),
    [
        (0.0, "ok", "within 30 s"),
        (29.9, "ok", "within 30 s"),
        (30.0, "ok", "within 30 s"),
        (30.2, "warn", "30.2 s behind"),
        (-45.0, "warn", "45.0 s ahead of"),
        (89.9, "warn", "89.9 s behind"),
        (90.0, "warn", "90.0 s behind"),
        (90.2, "fail", "90.2 s behind"),
        (-120.0, "fail", "120.0 s ahead of"),
    ],
)
def test_the_clock_is_flagged_beyond_30_seconds_and_fails_beyond_90(offset: float, status: str, words: str) -> None:
    clock = one(checks(local(), answered(offset)), "clock.offset")
    assert clock.status == status and words in clock.finding.en
    assert (clock.next is None) == (status == "ok")
    if status != "ok":
        assert "NTP" in clock.next.en and "NTP" in clock.next.zh  # type: ignore[union-attr]
        assert ("慢" if offset > 0 else "快") in clock.finding.zh


def test_a_host_that_answers_without_okx_time_is_flagged_not_measured() -> None:
    facts = TargetFacts(API, connect=Step(seconds=0.01), samples=(Sample(NOW, 0.05, None),), time_error="HTTP 404")
    clock = one(checks(local(), NetworkFacts((facts,))), "clock.offset")
    assert clock.status == "warn" and "HTTP 404" in clock.finding.en
    assert one(checks(local(), NetworkFacts()), "clock.offset").status == "skip"


# ----- the network ----------------------------------------------------------------------------------------


def test_latency_above_300_ms_is_flagged() -> None:
    assert one(checks(local(), answered(0.0, rtt=0.29)), "network.latency").status == "ok"
    slow = one(checks(local(), answered(0.0, rtt=0.31)), "network.latency")
    assert slow.status == "warn" and "310 ms" in slow.finding.en and slow.target == "www.okx.com:443"


def test_a_failed_step_skips_the_steps_after_it() -> None:
    unresolved = NetworkFacts((TargetFacts(API, dns=Step(error="Name or service not known")),))
    found = checks(local(), unresolved)
    assert [one(found, i).status for i in ("network.dns", "network.connect", "network.latency")] == [
        "fail",
        "skip",
        "skip",
    ]
    refused = NetworkFacts(
        (TargetFacts(API, dns=Step(seconds=0.0, detail="1.2.3.4"), connect=Step(error="Connection refused")),)
    )
    found = checks(local(), refused)
    assert [one(found, i).status for i in ("network.dns", "network.connect", "network.latency")] == [
        "ok",
        "fail",
        "skip",
    ]
    assert "Connection refused" in one(found, "network.connect").finding.en


def test_a_tls_failure_points_at_interception() -> None:
    facts = TargetFacts(API, dns=Step(seconds=0.0), connect=Step(error="TLS: certificate not trusted (self-signed)"))
    connect = one(checks(local(), NetworkFacts((facts,))), "network.connect")
    assert connect.status == "fail" and "intercepting TLS" in (connect.next.en if connect.next else "")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("http://user:pa55@proxy.example:3128", "http://proxy.example:3128"),
        ("http://user:pa55@proxy.example:3128/path?token=abc#frag", "http://proxy.example:3128"),
        ("proxy.example:8080", "http://proxy.example:8080"),
        ("socks5://u:p@[::1]:1080", "socks5://[::1]:1080"),
        ("http://user:pa55@", "(not a URL)"),
        ("not a url at all", "(not a URL)"),
    ],
)
def test_a_proxy_url_is_shown_without_credentials_path_or_query(raw: str, shown: str) -> None:
    assert redact_proxy(raw) == shown


def test_a_base_url_loses_its_credentials_and_query() -> None:
    assert clean_url("https://u:p@eea.okx.com/?x=1") == ("https://eea.okx.com", True)
    assert clean_url("eea.okx.com") == ("(not a URL)", False)  # a bare word may be a secret typed in the wrong place
    assert clean_url("ftp://u:p@host") == ("(not a URL)", False)


# ----- which hosts ----------------------------------------------------------------------------------------


def keyed(name: str = "main", **fields: object) -> ProfileFacts:
    return ProfileFacts(name=name, from_env=False, has_key=True, **fields)  # type: ignore[arg-type]


def test_the_api_key_profile_picks_its_base_url_or_its_site() -> None:
    with_url = ConfigFacts("/c", profiles=(keyed(site="eea", base_url="http://127.0.0.1:9"),), in_effect="main")
    chosen = plan(local(config=with_url, override="http://127.0.0.1:8"))
    assert (chosen.source, chosen.site, chosen.profile) == ("api_key", "eea", "main")
    assert [(t.base, sorted(t.roles)) for t in chosen.targets] == [("http://127.0.0.1:9", ["api"])]
    no_site = ConfigFacts("/c", profiles=(keyed(),), in_effect="main")
    assert [t.base for t in plan(local(config=no_site)).targets] == ["https://www.okx.com"]
    us = ConfigFacts("/c", profiles=(keyed(site="us"),), in_effect="main")
    assert [t.display for t in plan(local(config=us)).targets] == ["app.okx.com:443"]


def test_a_session_picks_its_issuer_and_its_sites_api() -> None:
    session = OAuthFacts("logged_in", site="eea", issuer="https://eea.okx.com", token_endpoint="https://eea.okx.com/t")
    chosen = plan(local(oauth=session))
    assert (chosen.source, chosen.site) == ("session", "eea")
    assert [(t.base, sorted(t.roles)) for t in chosen.targets] == [("https://eea.okx.com", ["api", "oauth"])]
    pending = OAuthFacts("pending", site="us", issuer="http://127.0.0.1:7")
    chosen = plan(local(oauth=pending, override="http://127.0.0.1:7"))
    assert (chosen.source, chosen.site) == ("pending", "us")
    assert [(t.base, sorted(t.roles)) for t in chosen.targets] == [("http://127.0.0.1:7", ["api", "oauth"])]


def test_without_a_key_or_a_session_the_issuer_then_a_profiles_site_then_all_three_sites() -> None:
    assert [t.base for t in plan(local(override="http://127.0.0.1:7")).targets] == ["http://127.0.0.1:7"]
    sited = ConfigFacts("/c", profiles=(ProfileFacts("demo", from_env=False, has_key=False, site="us"),))
    chosen = plan(local(config=sited))
    assert (chosen.source, [t.base for t in chosen.targets]) == ("config", ["https://app.okx.com"])
    chosen = plan(local())
    assert chosen.source == "all" and chosen.site is None
    assert [t.base for t in chosen.targets] == [
        "https://www.okx.com",
        "https://eea.okx.com",
        "https://app.okx.com",
        "https://tr.okx.com",
    ]


# ----- the config -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "base_url", "status", "words"),
    [
        ("eea", "https://eea.okx.com", "ok", "matches"),
        ("eea", "https://my.okx.com", "ok", "matches"),
        ("eea", "https://www.okx.com", "fail", "50119"),
        ("us", "https://eea.okx.com/", "fail", "EEA's host"),
        ("global", "http://127.0.0.1:8080", "warn", "not an OKX host"),
    ],
)
def test_a_profiles_site_must_agree_with_its_base_url_host(site: str, base_url: str, status: str, words: str) -> None:
    base, ok = clean_url(base_url)
    cfg = ConfigFacts("/c", exists=True, profiles=(ProfileFacts("p", False, False, site, base, ok),))  # type: ignore[arg-type]
    found = one(checks(local(config=cfg), NetworkFacts()), "config.site_host")
    assert found.status == status and words in found.finding.en
    assert (found.next is None) == (status == "ok")


def test_a_base_url_that_is_not_a_url_fails() -> None:
    base, ok = clean_url("eea.okx.com")
    cfg = ConfigFacts("/c", exists=True, profiles=(ProfileFacts("p", False, False, None, base, ok),))
    found = one(checks(local(config=cfg), NetworkFacts()), "config.site_host")
    assert found.status == "fail" and "not an http(s) URL" in found.finding.en


def test_several_keys_say_which_is_used_and_why() -> None:
    a, b = keyed("a"), keyed("b")
    first = ConfigFacts("/c/config.toml", exists=True, profiles=(a, b), in_effect="a")
    found = one(checks(local(config=first), NetworkFacts()), "config.profiles")
    assert found.status == "warn" and "because it comes first" in found.finding.en and "Not used: b" in found.finding.en
    assert found.next is not None and 'default_profile = "a"' in found.next.en

    chosen = ConfigFacts("/c", exists=True, default_profile="b", profiles=(a, b), in_effect="b")
    found = one(checks(local(config=chosen), NetworkFacts()), "config.profiles")
    assert (found.status, found.finding.en) == ("ok", "b is used (default_profile). Not used: a.")

    env = ProfileFacts("env", from_env=True, has_key=True)
    from_env = ConfigFacts("/c", exists=True, default_profile="a", profiles=(env, a), in_effect="env")
    found = one(checks(local(config=from_env), NetworkFacts()), "config.profiles")
    assert found.status == "warn" and "environment variables win" in found.finding.en
    assert found.next is not None and "unset OKX_API_KEY" in found.next.en

    stray = ConfigFacts("/c", exists=True, default_profile="gone", profiles=(a,), in_effect="a")
    found = one(checks(local(config=stray), NetworkFacts()), "config.profiles")
    assert found.status == "warn" and "default_profile names no profile" in found.finding.en
    assert "gone" not in found.finding.en + found.finding.zh


@pytest.mark.parametrize(
    ("mode", "holds", "status"),
    [(0o600, True, "ok"), (0o644, True, "warn"), (0o640, None, "warn"), (0o644, False, "ok"), (None, True, "skip")],
)
def test_a_config_file_with_keys_must_be_private(mode: int | None, holds: bool | None, status: str) -> None:
    cfg = ConfigFacts("/c/config.toml", exists=True, mode=mode, holds_secrets=holds)
    found = one(checks(local(config=cfg), NetworkFacts()), "config.permissions")
    assert found.status == status
    if status == "warn":
        assert found.next is not None and found.next.en == "Run: chmod 600 /c/config.toml"


# ----- the OAuth state ------------------------------------------------------------------------------------


def session(expires_in: float, refresh: bool = True) -> OAuthFacts:
    return OAuthFacts(
        "logged_in",
        site="eea",
        scopes=("read_only",),
        issuer="https://eea.okx.com",
        token_endpoint="https://eea.okx.com/token",
        client_id="c",
        access_expires_at=NOW + expires_in,
        has_refresh_token=refresh,
    )


ANSWERS = NetworkFacts(token=TokenProbe("eea.okx.com:443", "answers", "HTTP 400"))


def test_a_due_refresh_is_reported_and_never_done() -> None:
    fresh = one(checks(local(oauth=session(3000)), ANSWERS), "oauth.refresh")
    assert fresh.status == "ok" and fresh.finding.en.startswith("No refresh is due yet; the token endpoint")
    due = one(checks(local(oauth=session(REFRESH_MARGIN_SECONDS - 1)), ANSWERS), "oauth.refresh")
    assert due.status == "ok" and due.finding.en.startswith("A refresh is due")


@pytest.mark.parametrize(
    ("expires_in", "answer", "status"),
    [
        (3000, "unreachable", "warn"),
        (10, "unreachable", "fail"),
        (3000, "server_error", "warn"),
        (3000, "unknown_client", "fail"),
    ],
)
def test_a_token_endpoint_that_does_not_answer_is_worse_when_a_refresh_is_due(
    expires_in: float, answer: str, status: str
) -> None:
    probe = TokenProbe("eea.okx.com:443", answer, "Connection refused")  # type: ignore[arg-type]
    found = one(checks(local(oauth=session(expires_in)), NetworkFacts(token=probe)), "oauth.refresh")
    assert found.status == status and found.next is not None


def test_a_session_whose_tokens_another_backend_keeps_is_not_probed() -> None:
    elsewhere = OAuthFacts("logged_in", site="us", scopes=("read_only",))
    found = checks(local(oauth=elsewhere), NetworkFacts())
    assert one(found, "oauth.session").status == "ok"
    refresh = one(found, "oauth.refresh")
    assert (refresh.status, refresh.finding.en) == ("skip", "Not checked: the native backend keeps the tokens itself.")


def test_no_token_lifetime_is_ever_shown() -> None:
    for expires_in in (3000, 10, -500):
        for found in checks(local(oauth=session(expires_in)), ANSWERS):
            for text in (found.finding.en, found.finding.zh, found.next.en if found.next else ""):
                assert str(int(NOW + expires_in)) not in text and "minute" not in text and "分钟" not in text


def test_the_oauth_states() -> None:
    assert one(checks(local(oauth=session(3000)), ANSWERS), "oauth.session").finding.en == (
        "Logged in to eea (scopes: read_only)."
    )
    ended = one(checks(local(oauth=OAuthFacts("not_logged_in", reason="denied")), NetworkFacts()), "oauth.session")
    assert ended.status == "warn" and "denied" in ended.finding.en
    broken = one(
        checks(local(oauth=OAuthFacts(None, error="session.json is not valid JSON")), NetworkFacts()), "oauth.session"
    )
    assert broken.status == "fail" and broken.next is not None and "logout" in broken.next.en
    held = one(checks(local(oauth=OAuthFacts(None)), NetworkFacts()), "oauth.session")
    assert held.status == "skip"
    key = ConfigFacts("/c", profiles=(keyed(),), in_effect="main")
    with_key = one(checks(local(config=key), NetworkFacts()), "oauth.session")
    assert with_key.status == "ok" and "API-key profile main is used" in with_key.finding.en
    both = one(checks(local(config=key, oauth=session(3000)), ANSWERS), "oauth.session")
    assert both.status == "ok" and both.finding.en.endswith(
        "The API-key profile main is used instead: OKX's client prefers a key."
    )


# ----- the state directory --------------------------------------------------------------------------------


def test_state_files_readable_by_others_fail_and_a_loose_directory_is_flagged() -> None:
    loose_file = StateDirFacts("/s", exists=True, mode=0o700, files=(("session.json", 0o644), ("ticket.key", 0o600)))
    found = one(checks(local(state=loose_file), NetworkFacts()), "state.permissions")
    assert found.status == "fail" and "session.json (0644)" in found.finding.en and "ticket.key" not in found.finding.en
    loose_dir = StateDirFacts("/s", exists=True, mode=0o755, files=(("session.json", 0o600),))
    found = one(checks(local(state=loose_dir), NetworkFacts()), "state.permissions")
    assert found.status == "warn" and found.next is not None and found.next.en == "Run: chmod 700 /s"
    writable = StateDirFacts("/s", exists=True, mode=0o770, files=(("session.json", 0o600),))
    found = one(checks(local(state=writable), NetworkFacts()), "state.permissions")
    assert found.status == "fail" and found.next is not None and found.next.en.startswith("Run: chmod 700 /s ")
    not_a_directory = StateDirFacts("/s", exists=True, is_directory=False)
    found = one(checks(local(state=not_a_directory), NetworkFacts()), "state.permissions")
    assert found.status == "fail" and "/s is not a directory" in found.finding.en
    foreign = StateDirFacts("/s", exists=True, mode=0o700, foreign_owner=1234)
    found = one(checks(local(state=foreign), NetworkFacts()), "state.permissions")
    assert found.status == "fail" and found.next is not None and "chown -R $(id -un) /s" in found.next.en


def test_an_unreadable_state_directory_fails() -> None:
    found = checks(local(state=StateDirFacts("/s", exists=True, error="Permission denied")), NetworkFacts())
    assert one(found, "state.permissions").status == "fail" and one(found, "state.lock").status == "skip"
    assert "Permission denied" in one(found, "state.permissions").finding.en


def test_a_held_lock_fails_with_how_to_find_the_holder() -> None:
    held = StateDirFacts(
        "/s", exists=True, mode=0o700, lock=Step(error="another process has held it for more than 2 s")
    )
    found = one(checks(local(state=held), NetworkFacts()), "state.lock")
    assert found.status == "fail" and found.next is not None and "lsof /s/state.lock" in found.next.en


# ----- the report -----------------------------------------------------------------------------------------


def test_the_report_renders_every_check_in_both_languages() -> None:
    found = checks(local(), answered(120.0))
    report = Report("native", Plan("all", None, (API,)), found)
    assert report.failed and report.view("en")["ok"] is False
    en, zh = report.render("en"), report.render("zh")
    assert en.startswith("OKX login diagnosis\nBackend: native\nSite: none chosen yet: all three sites probed\n")
    assert zh.startswith("OKX 登录诊断\n后端：native\n站点：尚未选择：探测全部三个站点\n")
    for check in found:
        assert f"{check.finding.en}" in en and f"{check.finding.zh}" in zh
        if check.next is not None:
            assert f"    Next: {check.next.en}" in en and f"    下一步：{check.next.zh}" in zh
    assert "[FAIL] Clock: This device's clock is 120.0 s behind" in en
    assert "[失败] 系统时钟：本机时钟比 OKX 服务器时间慢 120.0 秒" in zh
    assert en.endswith("Result: 1 failed, 1 flagged, 10 ok, 2 skipped.")
    ids = [c["id"] for c in report.view("zh")["checks"]]
    assert ids[:5] == ["config.file", "config.env", "config.permissions", "config.site_host", "config.profiles"]
    assert ids[-4:] == ["oauth.session", "oauth.refresh", "state.permissions", "state.lock"]
    for check in found:
        assert check.finding.zh != check.finding.en and check.title.zh != check.title.en


# ----- the okx CLI a backend choice passed over -----------------------------------------------------------


def test_no_okx_cli_item_without_a_note() -> None:
    assert all(c.id != "backend.okx_cli" for c in checks(local(), answered(0.0)))


@pytest.mark.parametrize(
    ("backend", "note", "status", "found", "next_step"),
    [
        ("native", BackendNote("okx_auth_bin_is_ours"), "ok", "OKX_AUTH_BIN names okx-auth-mcp-bin", None),
        (
            "native",
            BackendNote("okx_cli_too_old", version="1.2.4"),
            "warn",
            "(1.2.4) has no `okx auth`",
            OKX_CLI_UPGRADE,
        ),
        ("native", BackendNote("okx_cli_too_old"), "warn", "on PATH has no `okx auth`", OKX_CLI_UPGRADE),
        ("native", BackendNote("okx_cli_error", code="okx_auth_missing"), "warn", "([okx_auth_missing])", "okx auth"),
        ("okx-cli", BackendNote("okx_cli_too_old", version="1.2.4"), "fail", "okx 1.2.4 on PATH", OKX_CLI_UPGRADE),
    ],
)
def test_the_okx_cli_item_says_why_it_does_not_log_in(
    backend: str, note: BackendNote, status: str, found: str, next_step: str | None
) -> None:
    facts = dataclasses.replace(local(), backend=backend, backend_note=note)
    all_checks = checks(facts, answered(0.0))
    item = one(all_checks, "backend.okx_cli")
    assert (item.status, item.title.en, item.title.zh) == (status, "OKX's okx CLI", "OKX 的 okx CLI")
    assert found in item.finding.en and item.finding.zh != item.finding.en
    if next_step is None:
        assert item.next is None
    else:
        assert item.next is not None and next_step in item.next.en and next_step in item.next.zh
    ids = [c.id for c in all_checks]
    assert ids.index("clock.offset") < ids.index("backend.okx_cli") < ids.index("oauth.session")
