"""Two of the hardening issue's smaller holes, end to end.

Echoed credentials: no URL is shown with its credentials (``config show`` text and JSON, ``diagnose``), and
no config value that failed validation is quoted back (a secret typed into ``site`` or ``OKX_SITE``): the
messages name the field and the profile instead. Through the commands in this process, and through the SDK's
MCP client.

One rule for the site: ``choose_site`` and ``login --site`` accept the same answers, ASCII and full-width
digits and the site ids (ASCII letters, any case), surrounding whitespace ignored; nothing else (no NFKC:
``①``, ``¹``, ``𝟏``, ``uſ``, full-width letters choose nothing)."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.sites import SITE_IDS, SiteId, parse_site_reply
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import connected, data, error_text, log_in, run_cli, write_config

URL_SECRET = "PP-PASS-4f3e"
QUERY_SECRET = "QQ-TOKEN-9d8c"
SITE_SECRET = "sk-SITE-SECRET-5a6b"
ENV_SITE_SECRET = "ENV-SITE-SECRET-7c8d"
KEY = "AK-0123456789abcdef"

# ----- echoed credentials --------------------------------------------------------------------------------


def keyed_profile(okx_home: str, *, site: str = "global", base_url: str | None = None, extra: str = "") -> None:
    lines = ['default_profile = "main"', "[profiles.main]", f'api_key = "{KEY}"', 'secret_key = "SK-1"']
    lines += ['passphrase = "PP-1"', f'site = "{site}"']
    lines += [f'base_url = "{base_url}"'] if base_url else []
    write_config(okx_home, "\n".join(lines) + "\n" + extra)


def test_config_show_never_shows_the_credentials_of_a_base_url(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str]
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], base_url=f"http://u:{URL_SECRET}@127.0.0.1:9/api?token={QUERY_SECRET}#f")
    code, text, err = run_cli(capsys, "config", "show")
    assert (code, err) == (0, "")
    assert (
        "  main (default, in effect): api_key AK-0****cdef, site global, demo false, base_url http://127.0.0.1:9/api\n"
        in text
    )
    code, shown, err = run_cli(capsys, "config", "show", "--json")
    assert (code, err) == (0, "")
    profile = json.loads(shown)["profiles"][0]
    assert (profile["base_url"], profile["api_base_url"]) == ("http://127.0.0.1:9/api", "http://127.0.0.1:9/api")
    for output in (text, shown):
        assert URL_SECRET not in output and QUERY_SECRET not in output and "u:" not in output


def test_a_base_url_that_is_no_url_but_may_hold_credentials_is_not_shown(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str]
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], base_url=f"u:{URL_SECRET}@127.0.0.1:9")
    code, shown, _ = run_cli(capsys, "config", "show", "--json")
    assert code == 0 and URL_SECRET not in shown
    assert json.loads(shown)["profiles"][0]["base_url"] == "(not a URL)"


NOT_URLS = [
    URL_SECRET,  # a password pasted into base_url
    f"https://eea.okx.com:{URL_SECRET}",  # a port that is not a number
    f"eea.okx.com/{URL_SECRET}",  # no scheme
    f"ftp://{URL_SECRET}.example",  # not http(s)
    f"https://[{URL_SECRET}]/",  # no IP address in the brackets
    f"https://{URL_SECRET} x/",  # no host name
]


@pytest.mark.parametrize("base_url", NOT_URLS)
def test_a_base_url_that_is_no_url_is_never_shown(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], base_url: str
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], base_url=base_url)
    code, text, err = run_cli(capsys, "config", "show")
    assert (code, err) == (0, "")
    assert "  main (default, in effect): api_key AK-0****cdef, site global, demo false, base_url (not a URL)\n" in text
    code, shown, err = run_cli(capsys, "config", "show", "--json")
    assert (code, err) == (0, "")
    profile = json.loads(shown)["profiles"][0]
    assert (profile["base_url"], profile["api_base_url"]) == ("(not a URL)", "(not a URL)")
    assert URL_SECRET not in text + shown


@pytest.mark.parametrize("base_url", NOT_URLS)
def test_diagnose_never_shows_a_base_url_that_is_no_url(
    capsys: pytest.CaptureFixture[str],
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    live: RunningSandbox,
    base_url: str,
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], base_url=base_url)
    monkeypatch.setenv("OKX_API_BASE_URL", live.url)  # the host probed: not the site's, on the internet
    for argv in (("diagnose", "--timeout", "1"), ("diagnose", "--timeout", "1", "--json")):
        _, out, err = run_cli(capsys, *argv)
        assert "base_url is not an http(s) URL" in out
        assert URL_SECRET not in out + err


DEFAULT_SECRET = "DP-SECRET-3e2f"


@pytest.mark.parametrize("env_key", [False, True])
def test_a_default_profile_that_names_no_profile_is_not_shown(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, env_key: bool
) -> None:
    if env_key:  # the environment's profile is no profile in the file
        for name, value in (("OKX_API_KEY", KEY), ("OKX_SECRET_KEY", "SK-ENV-1"), ("OKX_PASSPHRASE", "PP-ENV-1")):
            monkeypatch.setenv(name, value)
    write_config(isolated_env["OKX_HOME"], f'default_profile = "{DEFAULT_SECRET}"\n[profiles.main]\nsite = "eea"\n')
    code, text, err = run_cli(capsys, "config", "show")
    assert (code, err) == (0, "")
    assert "\ndefault_profile: (names no profile)\n" in text
    code, shown, err = run_cli(capsys, "config", "show", "--json")
    assert (code, err) == (0, "")
    assert json.loads(shown)["default_profile"] == "(names no profile)"
    assert DEFAULT_SECRET not in text + shown
    write_config(isolated_env["OKX_HOME"], 'default_profile = "env"\n[profiles.main]\nsite = "eea"\n')
    _, text, _ = run_cli(capsys, "config", "show")
    assert "\ndefault_profile: (names no profile)\n" in text


def test_a_default_profile_that_names_a_profile_is_shown(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str]
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], extra='[profiles.other]\nsite = "eea"\n')
    code, text, _ = run_cli(capsys, "config", "show")
    assert code == 0 and "\ndefault_profile: main\n" in text and "  main (default, in effect): " in text
    code, shown, _ = run_cli(capsys, "config", "show", "--json")
    assert code == 0 and json.loads(shown)["default_profile"] == "main"
    write_config(isolated_env["OKX_HOME"], '[profiles.main]\nsite = "eea"\n')
    code, shown, _ = run_cli(capsys, "config", "show", "--json")
    assert code == 0 and json.loads(shown)["default_profile"] is None


def test_diagnose_never_shows_the_credentials_of_a_base_url(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], live: RunningSandbox
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], base_url=f"http://u:{URL_SECRET}@127.0.0.1:9/?token={QUERY_SECRET}")
    for argv in (("diagnose", "--timeout", "1"), ("diagnose", "--timeout", "1", "--json")):
        _, out, err = run_cli(capsys, *argv)
        assert "127.0.0.1:9" in out
        assert URL_SECRET not in out + err and QUERY_SECRET not in out + err


def test_a_secret_typed_into_a_profile_s_site_is_never_quoted(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], live: RunningSandbox
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], site=SITE_SECRET)
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 2 and out == ""
    assert "profiles.main.site" in err and "global, eea, us or tr" in err
    assert SITE_SECRET not in err
    code, out, err = run_cli(capsys, "diagnose", "--timeout", "1", "--json")
    assert code == 1
    assert "profiles.main.site" in out and SITE_SECRET not in out + err


def test_a_secret_typed_into_okx_site_is_never_quoted(
    capsys: pytest.CaptureFixture[str], isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_API_KEY", KEY)
    monkeypatch.setenv("OKX_SECRET_KEY", "SK-ENV-1")
    monkeypatch.setenv("OKX_PASSPHRASE", "PP-ENV-1")
    monkeypatch.setenv("OKX_SITE", ENV_SITE_SECRET)
    for argv in (("config", "show"), ("config", "show", "--json")):
        _, out, err = run_cli(capsys, *argv)
        assert ENV_SITE_SECRET not in out + err, argv


@pytest.mark.anyio
async def test_the_tools_name_the_field_never_the_value(service: AuthService, isolated_env: dict[str, str]) -> None:
    keyed_profile(isolated_env["OKX_HOME"], site=SITE_SECRET)
    async with connected(service, "legacy") as client:
        for tool in ("preflight", "verify_credentials"):
            text = error_text(await client.call_tool(tool, {"lang": "en"}))
            assert text.startswith("[config_error] ") and "profiles.main.site" in text, text
            assert SITE_SECRET not in text
        diagnosis = json.dumps(data(await client.call_tool("diagnose", {"lang": "en"})), ensure_ascii=False)
        assert "profiles.main.site" in diagnosis and SITE_SECRET not in diagnosis


@pytest.mark.anyio
async def test_verify_names_okx_site_never_its_value(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_API_KEY", KEY)
    monkeypatch.setenv("OKX_SECRET_KEY", "SK-ENV-1")
    monkeypatch.setenv("OKX_PASSPHRASE", "PP-ENV-1")
    monkeypatch.setenv("OKX_SITE", ENV_SITE_SECRET)
    from_env = AuthService(Settings.from_env())
    try:
        async with connected(from_env, "legacy") as client:
            text = error_text(await client.call_tool("verify_credentials", {"lang": "en"}))
    finally:
        from_env.close()
    assert text.startswith("[profile_unusable] ") and "OKX_SITE" in text and "profile env" in text, text
    assert ENV_SITE_SECRET not in text


# ----- one rule for the site -------------------------------------------------------------------------------

MENU_NUMBERS: dict[str, SiteId] = {
    "1": "global",
    "2": "eea",
    "3": "us",
    "4": "tr",
    "１": "global",
    "２": "eea",
    "３": "us",
    "４": "tr",
}


def by_the_rule(reply: str) -> SiteId | None:
    """The documented rule, written out: a menu number (ASCII or full-width digit) or a site id in ASCII
    letters of any case, with whitespace around it."""
    text = reply.strip()
    if text in MENU_NUMBERS:
        return MENU_NUMBERS[text]
    for site in SITE_IDS:
        if text.isascii() and text.lower() == site:
            return site
    return None


NFKC_ONLY = [
    "①",
    "¹",
    "𝟏",
    "₂",
    "uſ",
    "ＧＬＯＢＡＬ",
    "ｅｅａ",
    "Ｕｓ",
    "ＵＳ",
    "١",
    "߂",
    "३",
    "global\u200b",
    "g\u0301lobal",
]


@pytest.mark.parametrize("reply", NFKC_ONLY)
def test_what_only_nfkc_made_a_site_chooses_nothing(reply: str) -> None:
    assert parse_site_reply(reply) is None


@pytest.mark.parametrize(
    ("reply", "site"),
    [
        ("GLOBAL", "global"),
        ("gLoBaL", "global"),
        ("Eea", "eea"),
        ("uS", "us"),
        ("\u3000２\u3000", "eea"),
        ("３\n", "us"),
    ],
)
def test_the_ids_in_any_ascii_case_and_both_kinds_of_digit_choose(reply: str, site: SiteId) -> None:
    assert parse_site_reply(reply) == site


def _cased(word: str, upper: list[bool]) -> str:
    return "".join(c.upper() if up else c for c, up in zip(word, upper, strict=False))


_SPACE = st.text(alphabet=" \t\n\r\u3000\u00a0\u2003", max_size=3)
_WORDS = st.sampled_from([*MENU_NUMBERS, *SITE_IDS, *NFKC_ONLY, "4", "４", "0", "okx", "1 2", "ｕｓ"])
_NEAR_MISSES = st.builds(
    lambda before, word, upper, after: before + _cased(word, upper) + after,
    _SPACE,
    _WORDS,
    st.lists(st.booleans(), max_size=8),
    _SPACE,
)


@given(st.one_of(st.text(), _NEAR_MISSES))
@example("uſ")
@example("ＵS")
@example("①")
@example(" \u3000Ｅea")
def test_a_reply_chooses_a_site_by_that_rule_alone(reply: str) -> None:
    assert parse_site_reply(reply) == by_the_rule(reply)


CLI_SITES = [
    "eea",
    "EEA",
    "Eea",
    " eea ",
    "2",
    "２",
    "global",
    "GLOBAL",
    "1",
    "１",
    "us",
    "3",
    "①",
    "𝟏",
    "uſ",
    "ｅｅａ",
    "ＥＥＡ",
    "5",
    "",
]


def test_login_site_follows_the_same_rule(
    capsys: pytest.CaptureFixture[str], service: AuthService, live: RunningSandbox
) -> None:
    """Logged in to EEA: an answer for EEA says so (exit 0), one for another site is refused as another site
    (exit 1), one that chooses nothing is a usage error (exit 2), and nothing is started."""
    log_in(service, live, "eea")
    requests = (live.state.count("device"), live.state.count("token"))
    for value in CLI_SITES:
        expected = by_the_rule(value)
        try:
            code, out, err = run_cli(capsys, "login", "--site", value, "--lang", "en")
        except SystemExit as exited:
            code, (out, err) = int(str(exited.code)), capsys.readouterr()
        if expected is None:
            assert code == 2 and out == "", value
            assert "argument --site" in err and "global, eea, us or tr" in err, err
        elif expected == "eea":
            assert (code, out, err) == (0, texts.logged_in("en", "eea", ["read_only", "trade"]) + "\n", ""), value
        else:
            assert code == 1 and err.startswith("okx-auth-mcp: [already_logged_in] "), (value, err)
    assert (live.state.count("device"), live.state.count("token")) == requests
