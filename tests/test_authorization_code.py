"""The redirect grants' pure half (``core.authorization_code``) and their settings: the S256 challenge against
RFC 7636's own example, the authorization URL, what a callback means, the loopback redirect URI, the client's
authentication at the token endpoint, and OKX_OAUTH_GRANT's variables checked before any request."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_auth_mcp.core import authorization_code as ac
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.login.settings import Settings

STATE = "st-0123456789abcdef"
ISSUER = "https://www.okx.com"


def test_the_challenge_is_rfc_7636s_own_example() -> None:
    # RFC 7636 Appendix B.
    assert ac.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_verifier_needs_32_random_bytes_and_is_43_unreserved_characters() -> None:
    assert len(ac.verifier_from(bytes(32))) == 43
    with pytest.raises(ValueError):
        ac.verifier_from(bytes(31))


def test_the_authorization_url_carries_state_and_the_s256_challenge_never_plain() -> None:
    url = ac.authorization_url(
        "https://www.okx.com/oauth/authorize",
        client_id="app-1",
        redirect="http://127.0.0.1:5000/callback",
        scope="read_only trade",
        state=STATE,
        verifier="v" * 43,
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "app-1",
        "redirect_uri": "http://127.0.0.1:5000/callback",
        "scope": "read_only trade",
        "state": STATE,
        "code_challenge": ac.challenge("v" * 43),
        "code_challenge_method": "S256",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"code": "c1", "state": STATE, "iss": ISSUER}, ac.Authorized("c1")),
        ({"code": "c1", "state": STATE, "iss": ISSUER + "/"}, None),  # RFC 9207 §2.4: compared exactly
        ({"code": "c1", "state": STATE}, None),  # the server sends iss: one without it is not its answer
        ({"code": "c1", "state": "another", "iss": ISSUER}, None),
        ({"code": "c1", "iss": ISSUER}, None),
        ({"code": "c1", "state": STATE, "iss": "https://evil.example"}, None),  # a mix-up
        ({"state": STATE, "iss": ISSUER}, None),
        ({"error": "access_denied", "state": STATE, "iss": ISSUER}, ac.Ended("denied", "access_denied")),
        ({"error": "53012", "state": STATE, "iss": ISSUER}, ac.Ended("expired", "53012")),
        ({"error": "53016", "state": STATE, "iss": ISSUER}, ac.Ended("failed", "53016")),
        ({"error": "<b>x</b>", "state": STATE, "iss": ISSUER}, ac.Ended("failed", "invalid")),
        ({"error": "access_denied", "state": "another", "iss": ISSUER}, None),  # a stray one ends nothing
    ],
)
def test_a_callback_is_this_logins_answer_only_with_its_state_and_the_issuers_iss(
    query: dict[str, str], expected: ac.Authorized | ac.Ended | None
) -> None:
    assert ac.callback_outcome(list(query.items()), state=STATE, issuer=ISSUER, iss_required=True) == expected


def test_a_callback_with_a_parameter_twice_is_no_answer() -> None:
    pairs = [("code", "c1"), ("state", STATE), ("iss", ISSUER), ("code", "c2")]
    assert ac.callback_outcome(pairs, state=STATE, issuer=ISSUER, iss_required=True) is None


def test_iss_is_optional_where_the_server_does_not_send_it_but_checked_when_present() -> None:
    assert ac.callback_outcome([("code", "c"), ("state", STATE)], state=STATE, issuer=ISSUER, iss_required=False)
    outcome = ac.callback_outcome(
        [("code", "c"), ("state", STATE), ("iss", "https://evil.example")],
        state=STATE,
        issuer=ISSUER,
        iss_required=False,
    )
    assert outcome is None


@given(st.dictionaries(st.sampled_from(["code", "state", "iss", "error"]), st.text(max_size=80)))
def test_no_callback_without_the_state_is_ever_an_outcome(query: dict[str, str]) -> None:
    if query.get("state") == STATE:
        return
    assert ac.callback_outcome(list(query.items()), state=STATE, issuer=ISSUER, iss_required=False) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ac.RedirectUri("127.0.0.1", 0, "/callback")),
        ("http://127.0.0.1:8123/cb", ac.RedirectUri("127.0.0.1", 8123, "/cb")),
        ("http://127.0.0.1/cb", ac.RedirectUri("127.0.0.1", 0, "/cb")),
        ("http://[::1]:9000/callback", ac.RedirectUri("::1", 9000, "/callback")),
    ],
)
def test_a_loopback_redirect_uri_is_taken(value: str | None, expected: ac.RedirectUri) -> None:
    assert ac.redirect_uri(value) == expected
    assert expected.with_port(5) == ("http://[::1]:5" if ":" in expected.host else "http://127.0.0.1:5") + expected.path


@pytest.mark.parametrize(
    "value",
    [
        "https://127.0.0.1/cb",
        "http://localhost:8000/cb",  # a name could resolve elsewhere (RFC 8252 §8.3)
        "http://192.168.1.5:8000/cb",
        "http://127.0.0.1:8000/cb?x=1",
        "http://127.0.0.1:8000/cb#f",
        "http://user:pw@127.0.0.1:8000/cb",
        "http://127.0.0.1:99999/cb",
        "127.0.0.1:8000/cb",
        "http://127.0.0.1:8000/a%2Fb",
        "http://127.0.0.1:8000/{p}",
        "http://127.0.0.1:8000/cb\\x",
    ],
)
def test_any_other_redirect_uri_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="loopback address"):
        ac.redirect_uri(value)


def test_client_authentication_as_the_metadata_allows() -> None:
    assert ac.client_auth("app", None, ["client_secret_basic"]) == ac.ClientAuth("app")
    basic = ac.client_auth("a:pp", "s3/cret", [])
    form, headers = basic.applied({"grant_type": "authorization_code", "client_id": "a:pp"})
    assert form == {"grant_type": "authorization_code"}
    assert base64.b64decode(headers["Authorization"].removeprefix("Basic ")) == b"a%3App:s3%2Fcret"
    post = ac.client_auth("app", "s3cr3t-post", ["client_secret_post"])
    assert post.applied({"x": "1"}) == ({"x": "1", "client_id": "app", "client_secret": "s3cr3t-post"}, {})
    assert "s3cr3t-post" not in repr(post)
    with pytest.raises(ValueError):
        ac.client_auth("app", "sec", ["private_key_jwt"])


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"OKX_OAUTH_GRANT": "implicit"}, "OKX_OAUTH_GRANT must be device, pkce or code"),
        ({"OKX_OAUTH_GRANT": "pkce"}, "needs OKX_OAUTH_CLIENT_ID"),
        ({"OKX_OAUTH_GRANT": "code", "OKX_OAUTH_CLIENT_ID": "app"}, "needs OKX_OAUTH_CLIENT_SECRET"),
        (
            {"OKX_OAUTH_GRANT": "pkce", "OKX_OAUTH_CLIENT_ID": "app", "OKX_OAUTH_CLIENT_SECRET": "s3cr3t-value"},
            "takes no OKX_OAUTH_CLIENT_SECRET",
        ),
        ({"OKX_OAUTH_GRANT": "pkce", "OKX_OAUTH_CLIENT_ID": "a b"}, "OKX_OAUTH_CLIENT_ID must be"),
        (
            {
                "OKX_OAUTH_GRANT": "pkce",
                "OKX_OAUTH_CLIENT_ID": "app",
                "OKX_OAUTH_REDIRECT_URI": "https://app.example/cb",
            },
            "OKX_OAUTH_REDIRECT_URI must be",
        ),
    ],
)
def test_bad_or_partial_grant_settings_are_refused_naming_the_variable_never_the_value(
    env: dict[str, str], said: str
) -> None:
    with pytest.raises(ConfigError, match=said) as refused:
        Settings.from_env(env)
    assert "s3cr3t-value" not in str(refused.value)


def test_the_grant_settings_are_read_and_the_secret_is_kept_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {"OKX_OAUTH_GRANT": "code", "OKX_OAUTH_CLIENT_ID": "app", "OKX_OAUTH_CLIENT_SECRET": "s3cr3t-value"}
    )
    assert (settings.grant, settings.client_id, settings.client_secret) == ("code", "app", "s3cr3t-value")
    assert settings.redirect == ac.RedirectUri("127.0.0.1", 0, "/callback")
    assert "s3cr3t-value" not in repr(settings)
    device = Settings.from_env({"OKX_OAUTH_CLIENT_ID": "ignored"})
    assert (device.grant, device.client_id) == ("device", None)


def test_a_redirect_grant_is_the_native_clients_never_okx_clis(tmp_path: object) -> None:
    from okx_auth_mcp.login.backends import open_service
    from okx_auth_mcp.login.native import NativeBackend

    env = {"OKX_OAUTH_GRANT": "pkce", "OKX_OAUTH_CLIENT_ID": "app", "OKX_AUTH_MCP_STATE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="OKX's okx CLI logs in with the device flow only"):
        open_service(Settings.from_env({**env, "OKX_AUTH_BACKEND": "okx-cli"}))
    service = open_service(Settings.from_env({**env, "OKX_AUTH_BACKEND": "auto"}))
    try:
        assert isinstance(service.backend, NativeBackend)
    finally:
        service.close()
