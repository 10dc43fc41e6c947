"""The sandbox's authorization code flow over loopback HTTP: the consent page (``/oauth/authorize``) and its
refusals, and the token endpoint's ``authorization_code`` grant with client authentication and PKCE. What is
refused is refused exactly (the page or the redirect, the error, OKX's code), and a refusal issues nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from okx_auth_mcp.sandbox.clients import SandboxClient
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.code_flow import (
    CALLBACK,
    CONFIDENTIAL,
    PUBLIC,
    answered,
    approved_code,
    authorize_url,
    consent,
    device_authorization,
    exchange,
    pkce,
)
from tests.helpers import FakeClock, csrf_of

DESK = CONFIDENTIAL.redirect_uris[0]


@pytest.fixture
def issuer(sandbox: RunningSandbox) -> str:
    sandbox.state.add_client(PUBLIC)
    sandbox.state.add_client(CONFIDENTIAL)
    return sandbox.url


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client() as client:
        yield client


def account(http: httpx2.Client, issuer: str, access_token: str) -> httpx2.Response:
    return http.get(f"{issuer}/api/v5/account/config", headers={"Authorization": f"Bearer {access_token}"})


def test_discovery_names_the_authorization_endpoint_and_what_it_supports(issuer: str, http: httpx2.Client) -> None:
    metadata = http.get(f"{issuer}/.well-known/oauth-authorization-server").json()
    assert metadata["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in metadata["grant_types_supported"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in metadata["grant_types_supported"]
    methods = ["client_secret_basic", "client_secret_post", "none"]
    assert metadata["token_endpoint_auth_methods_supported"] == methods
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_a_public_client_signs_in_with_pkce_and_its_tokens_work_and_rotate(issuer: str, http: httpx2.Client) -> None:
    pair = pkce()
    page = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pair))
    assert page.status_code == 200
    assert "Acme Pocket" in page.text and "Place and cancel orders for you" in page.text
    answer = http.post(f"{issuer}/oauth/authorize", data={"csrf": csrf_of(page.text), "action": "approve"})
    assert answer.status_code == 303 and answer.headers["location"].startswith(CALLBACK + "?")
    back = answered(answer.headers["location"])
    assert set(back) == {"code", "state", "iss"} and (back["state"], back["iss"]) == ("state-7f3a", issuer)
    tokens = exchange(http, issuer, PUBLIC, back["code"], CALLBACK, pair.verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "read_only trade", 3600)
    assert account(http, issuer, body["access_token"]).json()["data"][0]["perm"] == "read_only,trade"
    form = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": PUBLIC.client_id}
    rotated = http.post(f"{issuer}/oauth/token", data=form)
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != body["refresh_token"]
    assert account(http, issuer, body["access_token"]).json()["code"] == "53003"  # replaced by the refresh


@pytest.mark.parametrize("how", ["basic", "post"])
def test_a_confidential_client_authenticates_with_basic_or_in_the_body(
    issuer: str, http: httpx2.Client, how: str
) -> None:
    pair = pkce()
    code = approved_code(http, authorize_url(issuer, CONFIDENTIAL, DESK, pair, scope="read_only"))
    tokens = exchange(http, issuer, CONFIDENTIAL, code, DESK, pair.verifier, how=how)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"] == "read_only"


@pytest.mark.parametrize(
    ("headers", "form", "status", "error", "challenged"),
    [
        ({"Authorization": "Basic ZGVzay1hcHA6d3Jvbmc="}, {}, 401, "invalid_client", True),  # desk-app:wrong
        ({}, {"client_id": "desk-app", "client_secret": "wrong"}, 401, "invalid_client", False),
        ({}, {"client_id": "desk-app"}, 401, "invalid_client", False),  # no secret at all
        ({"Authorization": "Bearer abc"}, {}, 401, "invalid_client", True),
        ({"Authorization": "Basic not-base64!"}, {}, 401, "invalid_client", True),
        ({}, {"client_id": "pocket-app", "client_secret": "invented"}, 401, "invalid_client", False),
        ({}, {"client_id": "nobody"}, 401, "invalid_client", False),
        ({"Authorization": "Basic ZGVzay1hcHA6d3Jvbmc="}, {"client_secret": "x"}, 400, "invalid_request", False),
    ],
)
def test_a_client_that_cannot_prove_who_it_is_gets_no_token(
    issuer: str,
    http: httpx2.Client,
    headers: dict[str, str],
    form: dict[str, str],
    status: int,
    error: str,
    challenged: bool,
) -> None:
    form = {"grant_type": "authorization_code", "code": "c", **form}
    answer = http.post(f"{issuer}/oauth/token", data=form, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert ("www-authenticate" in answer.headers) is challenged


def test_a_confidential_client_refreshes_and_revokes_only_with_its_secret(issuer: str, http: httpx2.Client) -> None:
    pair = pkce()
    code = approved_code(http, authorize_url(issuer, CONFIDENTIAL, DESK, pair))
    tokens = exchange(http, issuer, CONFIDENTIAL, code, DESK, pair.verifier).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    bare = http.post(f"{issuer}/oauth/token", data={**refresh, "client_id": CONFIDENTIAL.client_id})
    assert (bare.status_code, bare.json()["error"]) == (401, "invalid_client")
    secret = {"client_id": CONFIDENTIAL.client_id, "client_secret": CONFIDENTIAL.secret or ""}
    rotated = http.post(f"{issuer}/oauth/token", data={**refresh, **secret})
    assert rotated.status_code == 200, rotated.text
    revoke = {"token": rotated.json()["refresh_token"], "token_type_hint": "refresh_token"}
    wrong = http.post(f"{issuer}/oauth/revoke", data={**revoke, **secret, "client_secret": "wrong"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert account(http, issuer, rotated.json()["access_token"]).status_code == 200  # nothing was revoked
    assert http.post(f"{issuer}/oauth/revoke", data={**revoke, **secret}).status_code == 200
    assert account(http, issuer, rotated.json()["access_token"]).json()["code"] == "53003"


def test_deny_goes_back_with_access_denied_the_state_and_the_issuer(issuer: str, http: httpx2.Client) -> None:
    answer = consent(http, authorize_url(issuer, PUBLIC, CALLBACK, pkce()), action="deny")
    assert answer.status_code == 303
    back = answered(answer.headers["location"])
    assert (back["error"], back["state"], back["iss"]) == ("access_denied", "state-7f3a", issuer)
    assert "code" not in back


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"client_id": None}, "53011"),
        ({"client_id": "someone-else"}, "53010"),
        ({"redirect_uri": None}, "53011"),
    ],
)
def test_an_unknown_client_or_a_missing_redirect_gets_a_page_never_a_redirect(
    issuer: str, http: httpx2.Client, changes: dict[str, str | None], code: str
) -> None:
    answer = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce(), **changes))
    assert answer.status_code == 400 and "location" not in answer.headers
    assert f"OKX code {code}" in answer.text and "csrf" not in answer.text


@pytest.mark.parametrize(
    ("registered", "asked"),
    [
        ("https://desk.example/oauth/cb", "https://desk.example/oauth/cb2"),  # the path
        ("https://desk.example/oauth/cb", "https://desk.example/oauth/"),
        ("https://desk.example/oauth/cb", "https://desk.example:8443/oauth/cb"),  # the port
        ("https://desk.example/oauth/cb", "https://desk.example:443/oauth/cb"),  # the same, written otherwise
        ("https://desk.example/oauth/cb", "http://desk.example/oauth/cb"),  # the scheme
        ("https://desk.example/oauth/cb", "https://evil.example/oauth/cb"),  # the host
        ("https://desk.example/oauth/cb", "https://desk.example/oauth/cb?next=https://evil.example"),
        ("https://desk.example/oauth/cb", "https://desk.example/oauth/cb#x"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:53123/other"),  # loopback: any port, not any path
        ("http://127.0.0.1/callback", "http://127.0.0.1:53123/callback/"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:53123/callback?x=1"),
        ("http://127.0.0.1/callback", "http://[::1]:53123/callback"),  # another loopback address
        ("http://127.0.0.1/callback", "http://localhost:53123/callback"),
        ("http://127.0.0.1/callback", "https://127.0.0.1:53123/callback"),
        ("http://127.0.0.1/callback", "http://user@127.0.0.1:53123/callback"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:port/callback"),
        ("http://localhost/callback", "http://localhost:53123/callback"),  # localhost gets no port rule
    ],
)
def test_a_redirect_uri_that_differs_by_a_path_or_a_port_gets_the_53016_page(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox, registered: str, asked: str
) -> None:
    sandbox.state.add_client(SandboxClient("other-app", redirect_uris=(registered,)))
    answer = http.get(authorize_url(issuer, SandboxClient("other-app"), asked, pkce()))
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "OKX code 53016: Invalid redirect_uri" in answer.text and "csrf" not in answer.text


@pytest.mark.parametrize(
    ("registered", "asked"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:53123/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:65535/callback"),
        ("http://[::1]/cb?app=1", "http://[::1]:40001/cb?app=1"),
        ("https://desk.example/oauth/cb", "https://desk.example/oauth/cb"),
        ("com.example.pocket:/oauth", "com.example.pocket:/oauth"),  # a private-use scheme, exactly
    ],
)
def test_a_loopback_redirect_matches_at_any_port_and_anything_else_exactly(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox, registered: str, asked: str
) -> None:
    client = sandbox.state.add_client(SandboxClient("other-app", redirect_uris=(registered,)))
    pair = pkce()
    answer = consent(http, authorize_url(issuer, client, asked, pair))
    assert answer.status_code == 303 and answer.headers["location"].startswith(asked)
    code = answered(answer.headers["location"])["code"]
    if asked != registered:  # the code is bound to the URI asked, port and all
        assert exchange(http, issuer, client, code, registered, pair.verifier).json()["code"] == "53016"
        code = approved_code(http, authorize_url(issuer, client, asked, pair))
    assert exchange(http, issuer, client, code, asked, pair.verifier).status_code == 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # RFC 7636's default is plain
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # a public client
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "read_only withdraw"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
    ],
)
def test_once_the_redirect_is_proven_a_bad_request_goes_back_with_its_error(
    issuer: str, http: httpx2.Client, changes: dict[str, str | None], error: str
) -> None:
    answer = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce(), **changes))
    assert answer.status_code == 302 and answer.headers["location"].startswith(CALLBACK + "?")
    back = answered(answer.headers["location"])
    assert (back["error"], back["state"], back["iss"]) == (error, "state-7f3a", issuer)
    assert "code" not in back


def test_a_request_without_state_or_with_a_parameter_twice_is_invalid(issuer: str, http: httpx2.Client) -> None:
    answer = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce(), state=None))
    back = answered(answer.headers["location"])
    assert back["error"] == "invalid_request" and "state" not in back
    twice = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce()) + "&scope=trade")
    assert answered(twice.headers["location"])["error"] == "invalid_request"
    twice_client = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce()) + "&client_id=desk-app")
    assert twice_client.status_code == 400 and "OKX code 53010" in twice_client.text


def test_a_confidential_client_may_leave_out_pkce_but_then_sends_no_verifier(issuer: str, http: httpx2.Client) -> None:
    url = authorize_url(issuer, CONFIDENTIAL, DESK, None)
    with_verifier = exchange(http, issuer, CONFIDENTIAL, approved_code(http, url), DESK, pkce().verifier)
    assert (with_verifier.status_code, with_verifier.json()["error"]) == (400, "invalid_grant")
    assert exchange(http, issuer, CONFIDENTIAL, approved_code(http, url), DESK, None).status_code == 200


@pytest.mark.parametrize(
    "post",
    [
        {"action": "approve"},  # no token: the post a plain curl makes
        {"action": "approve", "csrf": "made-up"},
        {"action": "approve", "csrf": ""},
    ],
)
def test_a_post_without_its_pages_csrf_token_approves_nothing(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox, post: dict[str, str]
) -> None:
    assert http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce())).status_code == 200  # a page is open
    answer = http.post(f"{issuer}/oauth/authorize", data=post)
    assert answer.status_code == 403 and "location" not in answer.headers
    assert sandbox.state.codes == {}


def test_a_post_from_another_origin_or_with_another_pages_token_approves_nothing(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox
) -> None:
    page = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce()))
    form = {"csrf": csrf_of(page.text), "action": "approve"}
    for origin in ("https://evil.example", "null"):
        answer = http.post(f"{issuer}/oauth/authorize", data=form, headers={"Origin": origin})
        assert answer.status_code == 403 and "location" not in answer.headers
    confirm = http.get(device_authorization(issuer)["verification_uri_complete"])
    answer = http.post(f"{issuer}/oauth/authorize", data={"csrf": csrf_of(confirm.text), "action": "approve"})
    assert answer.status_code == 403 and sandbox.state.codes == {}
    own = http.post(f"{issuer}/oauth/authorize", data=form, headers={"Origin": issuer})
    assert own.status_code == 303  # the page's own origin: the form still works


def test_a_consent_page_answers_once_and_expires(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    url = authorize_url(issuer, PUBLIC, CALLBACK, pkce())
    form = {"csrf": csrf_of(http.get(url).text), "action": "approve"}
    assert http.post(f"{issuer}/oauth/authorize", data=form).status_code == 303
    assert http.post(f"{issuer}/oauth/authorize", data={**form, "action": "deny"}).status_code == 403
    late = {"csrf": csrf_of(http.get(url).text), "action": "approve"}
    clock.now += sandbox.state.config.page_ttl
    assert http.post(f"{issuer}/oauth/authorize", data=late).status_code == 403
    assert len(sandbox.state.codes) == 1


def test_a_post_far_larger_than_the_form_is_refused_unread(issuer: str, http: httpx2.Client) -> None:
    answer = http.post(f"{issuer}/oauth/authorize", data={"csrf": "x" * 10_000, "action": "approve"})
    assert answer.status_code == 413


@pytest.mark.parametrize("wrong", ["another", None, "the challenge", "short"])
def test_a_wrong_verifier_is_invalid_grant_and_spends_the_code(
    issuer: str, http: httpx2.Client, wrong: str | None
) -> None:
    pair = pkce()
    verifier = {"another": pkce().verifier, "the challenge": pair.challenge}.get(wrong or "", wrong)
    code = approved_code(http, authorize_url(issuer, PUBLIC, CALLBACK, pair))
    refused = exchange(http, issuer, PUBLIC, code, CALLBACK, verifier)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert exchange(http, issuer, PUBLIC, code, CALLBACK, pair.verifier).json()["code"] == "53012"  # spent


def test_a_code_used_twice_is_53012_and_revokes_what_it_issued(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox
) -> None:
    pair = pkce()
    code = approved_code(http, authorize_url(issuer, PUBLIC, CALLBACK, pair))
    first = exchange(http, issuer, PUBLIC, code, CALLBACK, pair.verifier).json()
    assert account(http, issuer, first["access_token"]).status_code == 200
    again = exchange(http, issuer, PUBLIC, code, CALLBACK, pair.verifier)
    assert (again.status_code, again.json()) == (
        400,
        {"code": "53012", "msg": "Authorization code expired", "data": []},
    )
    assert account(http, issuer, first["access_token"]).json()["code"] == "53003"
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": PUBLIC.client_id}
    assert http.post(f"{issuer}/oauth/token", data=form).json()["error"] == "invalid_grant"
    assert sandbox.state.code_reuse_detected == 1


def test_a_code_lasts_ten_minutes(issuer: str, http: httpx2.Client, clock: FakeClock) -> None:
    pair = pkce()
    url = authorize_url(issuer, PUBLIC, CALLBACK, pair)
    code = approved_code(http, url)
    clock.now += 599
    assert exchange(http, issuer, PUBLIC, code, CALLBACK, pair.verifier).status_code == 200
    code = approved_code(http, url)
    clock.now += 600
    assert exchange(http, issuer, PUBLIC, code, CALLBACK, pair.verifier).json()["code"] == "53012"


@pytest.mark.parametrize(
    ("redirect_uri", "code"),
    [("http://127.0.0.1:53124/callback", "53016"), ("http://127.0.0.1/callback", "53016"), (None, "53011")],
)
def test_the_token_request_must_repeat_the_authorization_requests_redirect_uri(
    issuer: str, http: httpx2.Client, redirect_uri: str | None, code: str
) -> None:
    pair = pkce()
    granted = approved_code(http, authorize_url(issuer, PUBLIC, CALLBACK, pair))
    assert exchange(http, issuer, PUBLIC, granted, redirect_uri, pair.verifier).json()["code"] == code


def test_a_code_works_only_for_its_own_client(issuer: str, http: httpx2.Client) -> None:
    pair = pkce()
    code = approved_code(http, authorize_url(issuer, CONFIDENTIAL, DESK, pair))
    stolen = exchange(http, issuer, PUBLIC, code, DESK, pair.verifier)
    assert (stolen.status_code, stolen.json()["error"]) == (400, "invalid_grant")
    assert exchange(http, issuer, CONFIDENTIAL, code, DESK, pair.verifier).status_code == 200  # not spent by it


def test_the_redirect_keeps_the_query_the_client_registered(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox
) -> None:
    client = sandbox.state.add_client(SandboxClient("tenant-app", redirect_uris=("https://t.example/cb?tenant=7",)))
    answer = consent(http, authorize_url(issuer, client, "https://t.example/cb?tenant=7", pkce()))
    assert answer.headers["location"].startswith("https://t.example/cb?tenant=7&")
    assert answered(answer.headers["location"])["tenant"] == "7"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("redirect_error:53009", {"error": "53009", "iss": "ISSUER"}),
        ("wrong_iss", {"iss": "https://another-issuer.example"}),
        ("no_iss", {}),
    ],
)
def test_faults_make_the_consent_redirect_misbehave_for_a_clients_tests(
    issuer: str, http: httpx2.Client, sandbox: RunningSandbox, fault: str, expected: dict[str, str]
) -> None:
    sandbox.state.faults["authorize"] = fault
    back = answered(consent(http, authorize_url(issuer, PUBLIC, CALLBACK, pkce())).headers["location"])
    assert back["state"] == "state-7f3a"
    for name, value in expected.items():
        assert back[name] == value.replace("ISSUER", issuer)
    assert ("iss" in back) is ("iss" in expected)
    assert ("code" in back) is (fault != "redirect_error:53009")


@pytest.mark.parametrize(
    ("query", "header", "words"),
    [
        ("", "zh-CN,zh;q=0.9,en;q=0.8", "授权 Acme Pocket"),
        ("", "en;q=0.5, zh-TW;q=0.9", "授权 Acme Pocket"),
        ("", "fr-FR,fr;q=0.9", "Authorize Acme Pocket"),
        ("", "", "Authorize Acme Pocket"),
        ("&lang=en", "zh-CN", "Authorize Acme Pocket"),
        ("&lang=zh", "en-US", "它不能提币或转移您的资金"),
    ],
)
def test_the_consent_page_speaks_the_language_asked_for(
    issuer: str, http: httpx2.Client, query: str, header: str, words: str
) -> None:
    url = authorize_url(issuer, PUBLIC, CALLBACK, pkce()) + query
    assert words in http.get(url, headers={"Accept-Language": header}).text


def test_the_consent_page_loads_nothing_and_posts_only_to_itself_and_the_redirect(
    issuer: str, http: httpx2.Client
) -> None:
    page = http.get(authorize_url(issuer, PUBLIC, CALLBACK, pkce()))
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "form-action 'self' http://127.0.0.1:53123;" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert not any(tag in page.text for tag in ("<script", "<link", "<img", "src=", "url(", "@import"))
