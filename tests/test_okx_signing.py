"""OKX request signing: OKX's own published vector, OKX's documented timestamp, and an independent
computation (the HMAC written out here) for any input."""

from __future__ import annotations

import base64
import hmac
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_auth_mcp.core import okx_signing

# OKX's published example: the comment of HmacSha256Base64Signer and PreHashString in OKX's open-api-v3-sdk
# (okex-go-sdk-api/utils.go). The v5 API signs exactly the same way.
OKX_SECRET = "E65791902180E9EF4510DB6A77F6EBAE"
OKX_TIMESTAMP = "2018-03-08T10:59:25.789Z"
OKX_PATH = "/orders?before=2&limit=30"
OKX_BODY = '{"product_id":"BTC-USD-0309","order_id":"377454671037440"}'
OKX_PREHASH = (
    '2018-03-08T10:59:25.789ZPOST/orders?before=2&limit=30{"product_id":"BTC-USD-0309","order_id":"377454671037440"}'
)
OKX_SIGNATURE = "TO6uwdqz+31SIPkd4I+9NiZGmVH74dXi+Fd5X0EzzSQ="


def independent_signature(secret: str, message: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), msg=message.encode("utf-8"), digestmod="sha256")
    return base64.standard_b64encode(mac.digest()).decode()


def test_okx_published_example_vector() -> None:
    assert okx_signing.prehash(OKX_TIMESTAMP, "POST", OKX_PATH, OKX_BODY) == OKX_PREHASH
    assert okx_signing.signature(OKX_SECRET, OKX_TIMESTAMP, "POST", OKX_PATH, OKX_BODY) == OKX_SIGNATURE


def test_the_method_is_signed_upper_case() -> None:
    assert okx_signing.signature(OKX_SECRET, OKX_TIMESTAMP, "post", OKX_PATH, OKX_BODY) == OKX_SIGNATURE


def test_a_get_signs_timestamp_method_and_path_with_its_query() -> None:
    # A vector computed once by the independent code above, kept fixed: a change of the signer shows here.
    signed = okx_signing.signature(
        "22582BD0CFF14C41EDBF1AB98506286D", "2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC"
    )
    assert signed == independent_signature(
        "22582BD0CFF14C41EDBF1AB98506286D", "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    )
    assert signed == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


@given(
    secret=st.text(min_size=1, max_size=64),
    timestamp=st.from_regex(r"\A20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z\Z"),
    method=st.sampled_from(["GET", "POST", "get", "delete"]),
    path=st.from_regex(r"\A/api/v5/[a-z/-]{0,30}(\?[a-zA-Z0-9=&]{0,30})?\Z"),
    body=st.text(max_size=200),
)
def test_the_signature_is_hmac_sha256_base64_of_the_concatenation(
    secret: str, timestamp: str, method: str, path: str, body: str
) -> None:
    expected = independent_signature(secret, timestamp + method.upper() + path + body)
    assert okx_signing.signature(secret, timestamp, method, path, body) == expected


def test_a_request_path_must_be_the_path_after_the_host() -> None:
    with pytest.raises(ValueError, match="starts with /"):
        okx_signing.prehash(OKX_TIMESTAMP, "GET", "api/v5/account/config")


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (1607418537.715, "2020-12-08T09:08:57.715Z"),  # OKX's documented example of OK-ACCESS-TIMESTAMP
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1.9996, "1970-01-01T00:00:02.000Z"),
        (1_800_000_000.0, "2027-01-15T08:00:00.000Z"),
        (1_800_000_000.0004, "2027-01-15T08:00:00.000Z"),
        (1_800_000_059.999, "2027-01-15T08:00:59.999Z"),
    ],
)
def test_the_timestamp_is_iso_8601_utc_with_milliseconds(epoch: float, text: str) -> None:
    assert okx_signing.iso_timestamp(epoch) == text


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_every_timestamp_has_okx_form_and_is_the_time_to_the_millisecond(epoch: float) -> None:
    text = okx_signing.iso_timestamp(epoch)
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", text)
    parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert parsed.tzinfo == UTC
    assert abs(parsed.timestamp() - epoch) <= 0.0005 + 1e-6


def test_signed_headers_carry_key_sign_timestamp_and_passphrase() -> None:
    headers = okx_signing.signed_headers(
        api_key="AK-1",
        secret_key=OKX_SECRET,
        passphrase="pass phrase",
        timestamp=OKX_TIMESTAMP,
        method="POST",
        request_path=OKX_PATH,
        body=OKX_BODY,
    )
    assert headers == {
        "OK-ACCESS-KEY": "AK-1",
        "OK-ACCESS-SIGN": OKX_SIGNATURE,
        "OK-ACCESS-TIMESTAMP": OKX_TIMESTAMP,
        "OK-ACCESS-PASSPHRASE": "pass phrase",
    }


def test_a_demo_key_adds_the_simulated_trading_header() -> None:
    def headers(demo: bool) -> dict[str, str]:
        return okx_signing.signed_headers(
            api_key="AK-1",
            secret_key="s",
            passphrase="p",
            timestamp=OKX_TIMESTAMP,
            method="GET",
            request_path="/api/v5/account/config",
            demo=demo,
        )

    demo, live = headers(True), headers(False)
    assert demo.pop("x-simulated-trading") == "1"
    assert demo == live and "x-simulated-trading" not in live
    assert live["OK-ACCESS-SIGN"] == independent_signature("s", OKX_TIMESTAMP + "GET/api/v5/account/config")
