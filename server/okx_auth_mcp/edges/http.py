"""Every HTTP request of this package: one client recipe and one bounded send.

A request carries a timeout for each phase (connect, write, each read) and the whole body must arrive
within ``BODY_DEADLINE_FACTOR`` timeouts of its start; at most ``MAX_BODY_BYTES`` of an answer are read.
Redirects are never followed (requests carry credentials). Errors name the host, never the rest of the URL
or any header.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from okx_auth_mcp import __version__
from okx_auth_mcp.core import bounded_json
from okx_auth_mcp.core.oauth_errors import BadResponse, NetworkError

if TYPE_CHECKING:  # httpx2 loads with the first request: a fresh token (okx-auth-mcp-bin token) sends none
    import httpx2

MAX_BODY_BYTES = 64 * 1024
DEFAULT_TIMEOUT_SECONDS = 10.0
BODY_DEADLINE_FACTOR = 2
"""httpx's timeouts bound each phase (connect, write, each read); a server trickling bytes could still
hold a request open for long. The whole body must arrive within this many timeouts of the request's start."""


def request_worst_case(timeout: float) -> float:
    """The longest one request can take: the body deadline, plus one read and the connect that precede it."""
    return (BODY_DEADLINE_FACTOR + 2) * timeout


def make_client(timeout: float, transport: httpx2.BaseTransport | None = None) -> httpx2.Client:
    """The one client recipe: JSON accepted, our User-Agent, no redirects, the environment's proxies."""
    import httpx2

    return httpx2.Client(
        timeout=httpx2.Timeout(timeout),
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": f"okx-auth-mcp/{__version__}"},
        follow_redirects=False,
        trust_env=True,
    )


def decode_json(raw: bytes, status: int, what: str) -> Any:
    """The decoded JSON body (RFC 8259: no ``NaN`` or ``Infinity``; no number beyond a float's range), nested
    at most ``bounded_json.MAX_JSON_DEPTH`` deep; BadResponse otherwise. Every answer from the network is
    decoded here."""
    try:
        return bounded_json.loads(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except bounded_json.TooDeep as exc:
        raise BadResponse(f"{what}: HTTP {status} with {exc}") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, a constant, a number of 4300+ digits
        raise BadResponse(f"{what}: HTTP {status} with a body that is not JSON") from None


def send_bounded(
    client: httpx2.Client, timeout: float, method: str, url: str, what: str, **kwargs: Any
) -> tuple[int, bytes]:
    """One request through ``client``: (status, body). NetworkError when nothing came back (or the body did not
    arrive within ``BODY_DEADLINE_FACTOR * timeout``), BadResponse for a body larger than ``MAX_BODY_BYTES``."""
    import httpx2

    deadline = time.monotonic() + BODY_DEADLINE_FACTOR * timeout
    try:
        with client.stream(method, url, **kwargs) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BadResponse(f"{what}: the response is larger than {MAX_BODY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise NetworkError(f"{what}: {urlsplit(url).netloc} did not finish answering in time")
                chunks.append(chunk)
            status = response.status_code
    except httpx2.TimeoutException as exc:
        raise NetworkError(f"{what}: {urlsplit(url).netloc} did not answer in time ({type(exc).__name__})") from None
    except httpx2.HTTPError as exc:
        raise NetworkError(f"{what}: cannot reach {urlsplit(url).netloc} ({type(exc).__name__})") from None
    return status, b"".join(chunks)
