"""OKX REST request signing (API key). Pure: no I/O, no clock; the caller passes the time.

``OK-ACCESS-SIGN`` is base64(HMAC-SHA256(secret key, timestamp + METHOD + requestPath + body)): the
timestamp is the ``OK-ACCESS-TIMESTAMP`` header's value (ISO 8601 UTC with milliseconds,
``2020-12-08T09:08:57.715Z``), METHOD is upper case, requestPath is the path with its query string
(``/api/v5/account/balance?ccy=BTC``), body is the request body as sent (empty for a GET).
``x-simulated-trading: 1`` marks a demo-trading request.

The headers this module returns carry the passphrase and a signature: they go to the HTTP client and
nowhere else (never into a log, an error or a result).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

ACCESS_KEY = "OK-ACCESS-KEY"
ACCESS_SIGN = "OK-ACCESS-SIGN"
ACCESS_TIMESTAMP = "OK-ACCESS-TIMESTAMP"
ACCESS_PASSPHRASE = "OK-ACCESS-PASSPHRASE"  # noqa: S105 (a header name, not a password)
SIMULATED_TRADING = "x-simulated-trading"


def iso_timestamp(epoch_seconds: float) -> str:
    """``epoch_seconds`` as OKX writes request times: UTC, milliseconds, ``Z`` (``2020-12-08T09:08:57.715Z``)."""
    millis = round(epoch_seconds * 1000)
    seconds, ms = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def prehash(timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """The string OKX signs: ``timestamp + METHOD + requestPath + body``."""
    if not request_path.startswith("/"):
        raise ValueError("requestPath starts with / (the path after the host, with its query string)")
    return f"{timestamp}{method.upper()}{request_path}{body}"


def signature(secret_key: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """``OK-ACCESS-SIGN``: base64 of HMAC-SHA256 over :func:`prehash`, keyed with the secret key."""
    message = prehash(timestamp, method, request_path, body).encode("utf-8")
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(
    *,
    api_key: str,
    secret_key: str,
    passphrase: str,
    timestamp: str,
    method: str,
    request_path: str,
    body: str = "",
    demo: bool = False,
) -> dict[str, str]:
    """The headers of one signed request (plus ``x-simulated-trading: 1`` for a demo-trading key)."""
    headers = {
        ACCESS_KEY: api_key,
        ACCESS_SIGN: signature(secret_key, timestamp, method, request_path, body),
        ACCESS_TIMESTAMP: timestamp,
        ACCESS_PASSPHRASE: passphrase,
    }
    if demo:
        headers[SIMULATED_TRADING] = "1"
    return headers
