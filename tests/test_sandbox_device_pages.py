"""The sandbox's device pages over loopback HTTP (how they look in a browser: test_sandbox_pages_browser.py): the
code read as a person types it, the confirmation before any decision, a CSRF token per page, a refused form
that comes back with the form, never a dead end."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx2
import pytest

from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.code_flow import DEVICE_GRANT, PUBLIC, authorize_url, device_authorization, pkce
from tests.helpers import FakeClock, csrf_of


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client() as client:
        yield client


@pytest.fixture
def issued(sandbox: RunningSandbox) -> dict[str, str]:
    return device_authorization(sandbox.url)


def poll(http: httpx2.Client, sandbox: RunningSandbox, issued: dict[str, str]) -> httpx2.Response:
    form = {"grant_type": DEVICE_GRANT, "device_code": issued["device_code"], "client_id": issued["client_id"]}
    return http.post(f"{sandbox.url}/oauth/token", data=form)


def test_the_device_authorization_offers_the_link_with_the_code_in_it(
    sandbox: RunningSandbox, issued: dict[str, str]
) -> None:
    assert issued["verification_uri"] == f"{sandbox.url}/device"
    assert issued["verification_uri_complete"] == f"{sandbox.url}/device?user_code={issued['user_code']}"


def test_the_code_page_has_a_labelled_focused_field_and_a_form_that_cannot_approve(
    sandbox: RunningSandbox, http: httpx2.Client
) -> None:
    page = http.get(f"{sandbox.url}/device")
    assert page.status_code == 200
    assert '<label for="user_code">Code</label>' in page.text
    assert 'id="user_code" name="user_code" value="" autofocus' in page.text
    assert '<form method="get" action="/device"' in page.text  # Enter in the field goes on to the confirmation
    assert "approve" not in page.text.lower()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c,
        lambda c: c.lower(),
        lambda c: c.replace("-", ""),
        lambda c: f"  {c[:4].lower()} {c[5:]} ",
        lambda c: c.replace("-", "\u2013"),  # an en dash, as a phone's keyboard may make it
        lambda c: "".join(chr(ord(x) + 0xFEE0) for x in c),  # full-width, as a Chinese keyboard may type it
    ],
    ids=["as-shown", "lower", "no-dash", "spaces", "en-dash", "full-width"],
)
def test_the_code_is_read_as_a_person_types_it(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str], typed: Callable[[str], str]
) -> None:
    page = http.get(f"{sandbox.url}/device", params={"user_code": typed(issued["user_code"])})
    assert page.status_code == 200 and f"<p class='code' id='shown-code'>{issued['user_code']}</p>" in page.text
    assert sandbox.state.decide(typed(issued["user_code"]), approve=True)  # what most tests use, the same way


def test_the_confirmation_shows_who_asks_for_what_on_which_site_before_any_decision(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str]
) -> None:
    sandbox.state.site = "eea"
    page = http.get(issued["verification_uri_complete"])
    assert "okx-auth-mcp asks for access to your OKX account." in page.text
    assert "the name is the application&#x27;s own claim" in page.text  # self-registered: no one checked it
    assert "EEA (my.okx.com)" in page.text and "in 10 min" in page.text
    assert "View your account" in page.text and "Place and cancel orders" not in page.text  # read_only only
    assert 'name="action" value="approve"' in page.text and 'name="action" value="deny"' in page.text
    assert poll(http, sandbox, issued).json()["error"] == "authorization_pending"  # looking decided nothing


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_the_confirmation_decides_once(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str], clock: FakeClock, action: str
) -> None:
    token = csrf_of(http.get(issued["verification_uri_complete"]).text)
    done = http.post(f"{sandbox.url}/device", data={"csrf": token, "action": action})
    assert done.status_code == 200
    assert ("Device approved." if action == "approve" else "Device denied.") in done.text
    again = http.post(f"{sandbox.url}/device", data={"csrf": token, "action": "approve"})
    assert again.status_code == 403 and 'name="user_code"' in again.text  # the form again, not a dead end
    clock.now += 5
    answer = poll(http, sandbox, issued).json()
    assert ("access_token" in answer) if action == "approve" else answer["error"] == "access_denied"


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({"user_code": "CODE", "action": "approve"}, {}),  # the curl -X POST -d 'user_code=...&action=approve'
        ({"csrf": "made-up", "action": "approve"}, {}),
        ({"csrf": "TOKEN", "action": "approve"}, {"Origin": "https://evil.example"}),
        ({"csrf": "TOKEN", "action": "approve"}, {"Origin": "null"}),
        ({"csrf": "TOKEN", "action": "yes"}, {}),
    ],
)
def test_a_post_without_the_pages_token_or_from_elsewhere_approves_nothing(
    sandbox: RunningSandbox,
    http: httpx2.Client,
    issued: dict[str, str],
    form: dict[str, str],
    headers: dict[str, str],
) -> None:
    token = csrf_of(http.get(issued["verification_uri_complete"]).text)
    sent = {k: v.replace("CODE", issued["user_code"]).replace("TOKEN", token) for k, v in form.items()}
    answer = http.post(f"{sandbox.url}/device", data=sent, headers=headers)
    assert answer.status_code == 403 and 'name="user_code"' in answer.text and "expired" in answer.text
    assert poll(http, sandbox, issued).json()["error"] == "authorization_pending"
    assert http.post(f"{sandbox.url}/device", data={"csrf": token, "action": "approve"}).status_code == 200


def test_a_consent_pages_token_does_not_decide_a_device(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str]
) -> None:
    sandbox.state.add_client(PUBLIC)
    token = csrf_of(http.get(authorize_url(sandbox.url, PUBLIC, "http://127.0.0.1:5000/callback", pkce())).text)
    assert http.post(f"{sandbox.url}/device", data={"csrf": token, "action": "approve"}).status_code == 403
    assert poll(http, sandbox, issued).json()["error"] == "authorization_pending"


@pytest.mark.parametrize(
    ("typed", "kept", "said"),
    [
        ("WXYZ-WXYZ", "WXYZ-WXYZ", "unknown, expired or already used"),
        ("   ", "", "Enter the code."),
        ("x" * 200, "x" * 32, "unknown, expired or already used"),
    ],
)
def test_an_unknown_code_comes_back_with_the_form_and_what_was_typed(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str], typed: str, kept: str, said: str
) -> None:
    page = http.get(f"{sandbox.url}/device", params={"user_code": typed})
    assert page.status_code == 400 and 'role="alert"' in page.text and said in page.text
    assert f'name="user_code" value="{kept}" autofocus' in page.text and 'aria-invalid="true"' in page.text


def test_an_expired_or_decided_code_comes_back_with_the_form(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str], clock: FakeClock
) -> None:
    token = csrf_of(http.get(issued["verification_uri_complete"]).text)
    clock.now += 600
    late = http.post(f"{sandbox.url}/device", data={"csrf": token, "action": "approve"})
    assert late.status_code == 403 and 'name="user_code"' in late.text
    page = http.get(issued["verification_uri_complete"])
    assert page.status_code == 400 and "unknown, expired or already used" in page.text


@pytest.mark.parametrize(
    ("query", "header", "words"),
    [
        ("", "zh-CN,zh;q=0.9", "请输入您的助手或应用显示的验证码"),
        ("?lang=en", "zh-CN", "Enter the code that your assistant or app shows you."),
        ("?lang=zh", "", "连接设备"),
        ("", "de-DE", "Connect a device"),
    ],
)
def test_the_device_pages_speak_the_language_asked_for(
    sandbox: RunningSandbox, http: httpx2.Client, query: str, header: str, words: str
) -> None:
    assert words in http.get(f"{sandbox.url}/device{query}", headers={"Accept-Language": header}).text


def test_the_decision_page_keeps_the_language_of_the_confirmation(
    sandbox: RunningSandbox, http: httpx2.Client, issued: dict[str, str]
) -> None:
    token = csrf_of(http.get(issued["verification_uri_complete"] + "&lang=zh").text)
    done = http.post(f"{sandbox.url}/device", data={"csrf": token, "action": "approve", "lang": "zh"})
    assert "设备已授权。" in done.text and '<html lang="zh-CN">' in done.text
