"""The one-time page that shows a new API key's secrets (``login.secret_page``), over real loopback HTTP: what
a GET shows (never a secret), the one POST that reveals them, everything refused with the offer still waiting,
expiry, several offers at once, and the server listening only while one waits. A real browser presses the
button in tests/test_secret_page_browser.py."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2
import pytest

from okx_auth_mcp.core.api_key_page import CSP
from okx_auth_mcp.login import secret_page
from okx_auth_mcp.login.secret_page import Offer, SecretPages, Shown
from tests.helpers import FakeClock, csrf_of, origin

AK, SK, PP = "4f0c1d2e-aaaa-bbbb-cccc-0123456789ab", "SK-REVEAL-SECRET-0F1E2D3C4B5A6978", "Pp-Reveal-Phrase-42"
FORM = "application/x-www-form-urlencoded"


def shown(ak: str = AK, sk: str = SK, pp: str = PP) -> Shown:
    return Shown(
        heading={"en": "API key for sub-account bot-7", "zh": "子账户 bot-7 的 API key"},
        facts=(
            ({"en": "Sub-account", "zh": "子账户"}, "bot-7"),
            ({"en": "Permissions", "zh": "权限"}, "read_only, trade"),
            ({"en": "IP addresses", "zh": "IP 地址"}, "203.0.113.7"),
        ),
        secrets=(
            ({"en": "API key", "zh": "API key"}, ak),
            ({"en": "Secret key", "zh": "Secret key"}, sk),
            ({"en": "Passphrase", "zh": "Passphrase"}, pp),
        ),
    )


@pytest.fixture
def steps() -> FakeClock:
    """A monotonic clock the test moves."""
    return FakeClock(1000.0)


@pytest.fixture
def pages(steps: FakeClock) -> Iterator[SecretPages]:
    opened = SecretPages(clock=steps)
    yield opened
    opened.close()


def reveal(offer: Offer, **headers: str) -> httpx2.Response:
    """The button pressed as a browser on the page presses it: its CSRF token, its Origin."""
    csrf = csrf_of(httpx2.get(offer.url, timeout=5).text)
    sent = {"Origin": origin(offer.url), **headers}
    return httpx2.post(offer.url, data={"csrf": csrf}, headers=sent, timeout=10)


def revealed_values(html: str) -> list[str]:
    return re.findall(r'<code class="secret" id="secret-\d-value" aria-labelledby="secret-\d">([^<]*)</code>', html)


def listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def port_of(offer: Offer) -> int:
    port = urlsplit(offer.url).port
    assert port is not None
    return port


def wait_closed(port: int) -> None:
    deadline = time.monotonic() + 10
    while listens(port):
        if time.monotonic() > deadline:
            pytest.fail("the secret page's server still listens")
        time.sleep(0.05)


# ----- the page before the button --------------------------------------------------------------------------


def test_a_get_shows_the_heading_the_facts_and_the_button_never_a_secret(pages: SecretPages) -> None:
    offer = pages.offer("en", shown())
    parts = urlsplit(offer.url)
    assert parts.hostname == "127.0.0.1" and parts.port and parts.path.startswith("/reveal/")
    token = parts.path.removeprefix("/reveal/")
    assert len(token) == 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 16 random bytes, base64url
    answer = httpx2.get(offer.url, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == CSP
    assert "script" not in CSP and "form-action 'self'" in CSP
    assert answer.headers["cache-control"] == "no-store" and answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    html = answer.text
    assert '<html lang="en">' in html and "<h1>API key for sub-account bot-7</h1>" in html
    assert "<dt>Permissions</dt><dd>read_only, trade</dd>" in html and "203.0.113.7" in html
    assert "shown once" in html and "cannot show them again" in html and "did not keep them" in html
    assert html.count("<form") == 1 and '<form method="post"' in html and html.count('name="csrf"') == 1
    assert '<button type="submit">Show the secrets once</button>' in html
    assert not re.search(r"(src|href|action)=", html) and "<script" not in html  # nothing loaded, posts to itself
    for secret in (AK, SK, PP):
        assert secret not in html
    for _ in range(3):  # a prefetcher, a link preview, a reload: GET spends nothing
        again = httpx2.get(offer.url, timeout=5)
        assert again.status_code == 200 and SK not in again.text
    head = httpx2.head(offer.url, timeout=5)
    assert head.status_code == 200 and head.content == b""
    assert pages.status(offer.id) == "waiting"


def test_the_page_speaks_chinese(pages: SecretPages) -> None:
    offer = pages.offer("zh", shown())
    html = httpx2.get(offer.url, timeout=5).text
    assert '<html lang="zh-CN">' in html and "子账户 bot-7 的 API key" in html and "<dt>权限</dt>" in html
    assert "只显示一次" in html and "显示密钥（仅一次）" in html and SK not in html
    answer = reveal(offer)
    assert "本页无法再次显示它们" in answer.text and revealed_values(answer.text) == [AK, SK, PP]
    gone = httpx2.get(offer.url, timeout=5)
    assert gone.status_code == 410 and "已经显示过一次" in gone.text and '<html lang="zh-CN">' in gone.text


def test_what_the_caller_gives_is_escaped_and_a_missing_language_falls_back(pages: SecretPages) -> None:
    evil = Shown(
        heading={"en": "<script>alert(1)</script>"},
        facts=(({"en": "Note"}, '"><img src=x>'),),
        secrets=(({"en": "Secret key"}, "a<b&c"),),
    )
    offer = pages.offer("zh", evil)
    html = httpx2.get(offer.url, timeout=5).text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&quot;&gt;&lt;img src=x&gt;" in html
    assert "a&lt;b&amp;c" in reveal(offer).text


# ----- the button ------------------------------------------------------------------------------------------


def test_the_post_reveals_the_secrets_once_and_never_again(pages: SecretPages) -> None:
    offer = pages.offer("en", shown())
    answer = reveal(offer)
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == CSP and answer.headers["cache-control"] == "no-store"
    assert revealed_values(answer.text) == [AK, SK, PP]
    assert '<dt id="secret-1">Secret key</dt>' in answer.text
    assert "bot-7" in answer.text and "cannot show them again" in answer.text
    assert pages.status(offer.id) == "shown"
    csrf = pages._by_id[offer.id].csrf  # the page's own token: its GET no longer shows the form
    replay = httpx2.post(offer.url, data={"csrf": csrf}, headers={"Origin": origin(offer.url)}, timeout=10)
    later = [replay, httpx2.get(offer.url, timeout=5)]
    for gone in later:
        assert gone.status_code == 410 and "already shown once" in gone.text
        for secret in (AK, SK, PP):
            assert secret not in gone.text
    assert pages._by_id[offer.id].shown.secrets == ()  # dropped from memory as they were sent
    assert pages.status(offer.id) == "shown"


def test_of_posts_at_the_same_moment_one_gets_the_secrets(pages: SecretPages) -> None:
    offer = pages.offer("en", shown())
    csrf = csrf_of(httpx2.get(offer.url, timeout=5).text)
    answers: list[httpx2.Response] = []

    def post() -> None:
        answers.append(httpx2.post(offer.url, data={"csrf": csrf}, headers={"Origin": origin(offer.url)}, timeout=10))

    posting = [threading.Thread(target=post) for _ in range(6)]
    for thread in posting:
        thread.start()
    for thread in posting:
        thread.join(10)
    assert sorted(a.status_code for a in answers) == [200, 410, 410, 410, 410, 410]
    assert sum(SK in a.text for a in answers) == 1


def raw_request(offer: Offer, head: str, body: bytes = b"") -> bytes:
    """One request as written here (two Host headers, say), and the first bytes of its answer."""
    with socket.create_connection(("127.0.0.1", port_of(offer)), timeout=5) as raw:
        raw.sendall(head.encode() + b"\r\n" + body)
        return raw.recv(65536)


@pytest.mark.parametrize(
    ("headers", "data", "status", "why"),
    [
        ({"Host": "evil.example"}, None, 403, "DNS rebinding"),
        ({"Host": "localhost:{port}"}, None, 403, "another name of this server"),
        ({"Origin": "http://evil.example"}, None, 403, "a cross-site post"),
        ({"Origin": "null"}, None, 403, "an opaque origin"),
        ({"Origin": "http://127.0.0.1:1"}, None, 403, "another port"),
        ({"Origin": ""}, None, 403, "no Origin"),
        ({"Content-Type": "text/plain"}, None, 403, "not a form"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, None, 403, "a multipart form"),
        ({}, "csrf=forged", 403, "a wrong CSRF token"),
        ({}, "", 403, "no CSRF token"),
        ({}, "csrf={csrf}&csrf={csrf}", 403, "the token twice"),
        ({}, "csrf={csrf}&pad=" + "x" * (9 * 1024), 413, "larger than the cap"),
    ],
)
def test_a_request_from_anywhere_but_the_page_is_refused_and_the_offer_still_waits(
    pages: SecretPages, headers: dict[str, str], data: str | None, status: int, why: str
) -> None:
    offer = pages.offer("en", shown())
    port = port_of(offer)
    csrf = csrf_of(httpx2.get(offer.url, timeout=5).text)
    sent = {"Origin": origin(offer.url), "Content-Type": FORM}
    sent.update({name: value.format(port=port) for name, value in headers.items()})
    if sent["Origin"] == "":
        del sent["Origin"]
    body = (f"csrf={csrf}" if data is None else data.format(csrf=csrf)).encode()
    answer = httpx2.post(offer.url, content=body, headers=sent, timeout=10)
    assert answer.status_code == status, why
    assert answer.headers["content-security-policy"] == CSP
    for secret in (AK, SK, PP):
        assert secret not in answer.text
    assert pages.status(offer.id) == "waiting"
    assert revealed_values(reveal(offer).text) == [AK, SK, PP]  # the person's own press still works


def test_two_host_headers_and_a_declared_huge_body_are_refused_unread(pages: SecretPages) -> None:
    offer = pages.offer("en", shown())
    port, path = port_of(offer), urlsplit(offer.url).path
    own = f"127.0.0.1:{port}"
    twice = raw_request(offer, f"GET {path} HTTP/1.1\r\nHost: {own}\r\nHost: {own}\r\nConnection: close\r\n")
    assert twice.startswith((b"HTTP/1.1 400", b"HTTP/1.1 403")) and SK.encode() not in twice  # h11 or names_host
    csrf = csrf_of(httpx2.get(offer.url, timeout=5).text)
    huge = raw_request(
        offer,
        f"POST {path} HTTP/1.1\r\nHost: {own}\r\nOrigin: http://{own}\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {10 * 1024 * 1024}\r\nConnection: close\r\n",
        f"csrf={csrf}".encode(),
    )
    assert huge.startswith(b"HTTP/1.1 413")
    assert pages.status(offer.id) == "waiting"


def test_every_answer_checks_the_host_and_carries_the_headers(pages: SecretPages) -> None:
    offer = pages.offer("en", shown())
    base = offer.url.rsplit("/", 2)[0]
    for url in (offer.url + "/", base + "/elsewhere", base + "/reveal/" + "A" * 22, base + "/"):
        refused = httpx2.get(url, headers={"Host": "evil.example"}, timeout=5)
        assert refused.status_code == 403 and "location" not in refused.headers
        answer = httpx2.get(url, timeout=5)
        assert answer.status_code == 404 and "not one this computer issued" in answer.text
        assert answer.headers["content-security-policy"] == CSP and answer.headers["x-frame-options"] == "DENY"
    assert httpx2.put(offer.url, timeout=5).status_code == 404
    assert pages.status(offer.id) == "waiting"


# ----- time, several offers, the server ---------------------------------------------------------------------


def test_an_offer_not_revealed_in_time_expires_and_its_secrets_are_dropped(
    pages: SecretPages, steps: FakeClock
) -> None:
    offer = pages.offer("en", shown())
    assert offer.expires_at == 1600.0
    csrf = csrf_of(httpx2.get(offer.url, timeout=5).text)
    assert "10 more minutes" in httpx2.get(offer.url, timeout=5).text
    steps.now += 599
    assert pages.status(offer.id) == "waiting" and "1 more minutes" in httpx2.get(offer.url, timeout=5).text
    steps.now += 1
    assert pages.status(offer.id) == "expired"
    assert pages._by_id[offer.id].shown.secrets == ()
    gone = httpx2.get(offer.url, timeout=5)
    assert gone.status_code == 410 and "expired before the secrets were shown" in gone.text
    late = httpx2.post(offer.url, data={"csrf": csrf}, headers={"Origin": origin(offer.url)}, timeout=10)
    assert late.status_code == 410 and SK not in late.text


def test_several_offers_are_open_at_once_each_its_own(pages: SecretPages) -> None:
    first = pages.offer("en", shown())
    second = pages.offer("zh", shown(ak="ak-second-000", sk="SK-SECOND-SECRET-111", pp="Pp-Second-22"))
    assert first.id != second.id and first.url != second.url and origin(first.url) == origin(second.url)
    other_csrf = csrf_of(httpx2.get(second.url, timeout=5).text)
    crossed = httpx2.post(first.url, data={"csrf": other_csrf}, headers={"Origin": origin(first.url)}, timeout=10)
    assert crossed.status_code == 403  # one offer's token does not open another
    assert revealed_values(reveal(second).text) == ["ak-second-000", "SK-SECOND-SECRET-111", "Pp-Second-22"]
    assert (pages.status(first.id), pages.status(second.id)) == ("waiting", "shown")
    assert httpx2.get(second.url, timeout=5).status_code == 410
    answer = reveal(first)
    assert revealed_values(answer.text) == [AK, SK, PP] and "SK-SECOND" not in answer.text
    assert pages.status(first.id) == "shown"
    assert pages.status("okx-secret-page-0000000000000000") == "unknown" and pages.status("") == "unknown"


def test_the_server_listens_only_while_an_offer_waits(pages: SecretPages, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secret_page, "STOP_DELAY_SECONDS", 0.1)
    first = pages.offer("en", shown())
    second = pages.offer("en", shown())
    port = port_of(first)
    assert reveal(first).status_code == 200
    time.sleep(0.3)
    assert listens(port)  # the second still waits
    assert reveal(second).status_code == 200
    wait_closed(port)
    third = pages.offer("en", shown())
    assert listens(port_of(third)) and reveal(third).status_code == 200  # a new offer starts it again


def test_the_server_stops_when_the_last_offer_expires() -> None:
    pages = SecretPages(ttl=0.3)
    try:
        offer = pages.offer("en", shown())
        assert listens(port_of(offer))
        wait_closed(port_of(offer))
        assert pages.status(offer.id) == "expired" and pages._by_id[offer.id].shown.secrets == ()
    finally:
        pages.close()


def test_close_drops_every_secret_and_stops_the_server(pages: SecretPages) -> None:
    first, second = pages.offer("en", shown()), pages.offer("zh", shown())
    pages.close()
    assert not listens(port_of(first))
    assert (pages.status(first.id), pages.status(second.id)) == ("expired", "expired")
    assert all(opened.shown.secrets == () for opened in pages._by_id.values())
    pages.close()  # twice is fine


# ----- nothing secret anywhere else -------------------------------------------------------------------------


def test_no_repr_and_no_log_line_carries_a_secret(pages: SecretPages, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    given = shown()
    offer = pages.offer("en", given)
    assert reveal(offer).status_code == 200
    opened = pages._by_id[offer.id]
    # The test's own HTTP client logs the page's URL; every other logger, the server's included, must not.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx2", "httpcore2")))
    assert f"secret page {offer.id} opened" in logged and "were shown" in logged
    token = urlsplit(offer.url).path.rsplit("/", 1)[1]
    for secret in (AK, SK, PP, token, opened.csrf):
        assert secret not in logged and secret not in repr(given) and secret not in repr(offer)
        assert secret not in repr(opened)
    assert "bot-7" in repr(given)


def test_an_offer_needs_a_secret(pages: SecretPages) -> None:
    with pytest.raises(ValueError, match="needs a secret"):
        pages.offer("en", Shown(heading={"en": "nothing"}))
