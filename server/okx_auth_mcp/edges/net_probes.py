"""The network I/O behind ``diagnose``: DNS, the TCP/TLS connection, OKX's server time and the token endpoint,
for the hosts :func:`okx_auth_mcp.core.diagnosis.facts.plan` picks; and the options of the whole diagnosis.

For each host it resolves the name, connects, asks for OKX's server time (``GET /api/v5/public/time``, twice
on one connection: the shorter round trip gives the clock offset), and it sends the token endpoint a refresh
request that carries no token. It never logs in, refreshes or polls a pending login.

Every step has a timeout (``ProbeOptions.timeout``, 5 s), the hosts are probed in parallel, and every
failure becomes a fact, never an exception: a closed port is a refused connection in milliseconds. DNS goes
through ``ProbeOptions.resolver`` (the system's by default; tests inject their own). The HTTP requests go the
way this program's own requests go (``OAuthHttp``: environment proxies, no redirects, a size cap, a body
deadline). Proxy URLs are recorded without their credentials.

Errors: ``_Unresolved`` (the resolver did not answer in time) stays inside this module.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2

from okx_auth_mcp.core.clock_offset import okx_time
from okx_auth_mcp.core.diagnosis.facts import (
    LocalFacts,
    NetworkFacts,
    Plan,
    Sample,
    Step,
    Target,
    TargetFacts,
    TokenProbe,
)
from okx_auth_mcp.core.diagnosis.urls import display, host_port, redact_proxy
from okx_auth_mcp.core.oauth_errors import BadResponse, NetworkError, OAuthError, TokenError
from okx_auth_mcp.core.oauth_wire import error_from_body, okx_code, well_known_urls
from okx_auth_mcp.edges.http import decode_json
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.okx_api import TIME_PATH

DEFAULT_TIMEOUT_SECONDS = 5.0
LOCK_WAIT_SECONDS = 2.0
"""How long the lock probe waits: a healthy lock is free or freed within milliseconds."""
TIME_SAMPLES = 2

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) → IP addresses; raises ``OSError`` (``socket.gaierror``) when the name does not resolve."""


class _Unresolved(Exception):
    """The host name did not resolve in time; its text is safe to show."""


def system_resolver(host: str, port: int) -> list[str]:
    found: list[str] = []
    for *_, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if str(address[0]) not in found:
            found.append(str(address[0]))
    return found


@dataclass(frozen=True)
class ProbeOptions:
    """The options of a whole diagnosis (``login.diagnose``), the local probes' included."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    """Each step's limit: the lookup, the connection, each phase of each HTTP request."""
    lock_wait: float = LOCK_WAIT_SECONDS
    """How long the state-lock probe waits (``edges.local_probes``)."""
    samples: int = TIME_SAMPLES
    resolver: Resolver = system_resolver
    wall: Callable[[], float] = field(default=time.time)
    """The wall clock the offset is measured against (and a refresh judged due by)."""


def proxy_for(url: str) -> str | None:
    """The proxy the HTTP client uses for ``url`` (from the environment, as ``httpx2`` decides it), unredacted:
    this module connects to it."""
    # httpx2's private helpers, on purpose and only here: the proxy reported must be exactly the one
    # ``httpx2.Client(trust_env=True)`` picks, and httpx2 (checked against 2.16.2) has no public way to ask.
    # The client keeps its proxy transports in the private ``Client._mounts``, chooses one with the private
    # ``Client._transport_for_url``, and the transport keeps its proxy in the private ``_pool``; neither
    # ``get_environment_proxies`` nor ``URLPattern`` is exported. Rebuilding the choice on the public
    # ``urllib.request.getproxies`` / ``proxy_bypass`` would be a second copy of httpx2's rules that reads
    # ``NO_PROXY`` differently (a ``*.example.com`` entry, for one) and ranks ``all://`` against per-scheme
    # proxies by hand, so it could name a proxy the client does not use. Re-check on an httpx2 upgrade
    # (tests/test_diagnose.py covers a proxy and NO_PROXY).
    from httpx2._utils import URLPattern, get_environment_proxies

    mounts = get_environment_proxies()
    patterns = sorted(((URLPattern(key), proxy) for key, proxy in mounts.items()), key=lambda item: item[0])
    target = httpx2.URL(url)
    for pattern, proxy in patterns:
        if pattern.matches(target):
            return proxy
    return None


def _run_with_timeout(work: Callable[[], Any], seconds: float) -> Any:
    """``work()`` in a daemon thread, waiting at most ``seconds`` (the system resolver has no timeout of its
    own; a thread left behind cannot keep the process alive)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="okx-diagnose-dns", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _Unresolved(f"no answer from the resolver within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def resolve(host: str, port: int, options: ProbeOptions) -> tuple[Step, list[str]]:
    try:
        return Step(seconds=0.0, detail=host), [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    started = time.perf_counter()
    try:
        found = list(_run_with_timeout(lambda: options.resolver(host, port), options.timeout))
    except _Unresolved as exc:
        return Step(error=str(exc)), []
    except OSError as exc:
        return Step(error=exc.strerror or str(exc) or type(exc).__name__), []
    if not found:
        return Step(error="no address"), []
    took = time.perf_counter() - started
    return Step(seconds=took, detail=", ".join(found[:3])), found


def connect(addresses: Sequence[str], port: int, tls_host: str | None, timeout: float) -> Step:
    """A TCP connection to the first address that takes one, then a TLS handshake with ``tls_host`` (the
    client's own trust store and checks) when given; all within ``timeout``."""
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    last = "no address"
    for address in addresses[:3]:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.create_connection((address, port), timeout=left) as sock:
                if tls_host is None:
                    return Step(seconds=time.perf_counter() - started)
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                context = httpx2.create_ssl_context()
                with context.wrap_socket(sock, server_hostname=tls_host) as tls:
                    return Step(seconds=time.perf_counter() - started, detail=tls.version() or "TLS")
        except ssl.SSLCertVerificationError as exc:
            return Step(error=f"TLS: certificate not trusted ({exc.verify_message})")
        except ssl.SSLError as exc:
            return Step(error=f"TLS: handshake failed ({exc.reason or type(exc).__name__})")
        except TimeoutError:
            last = f"no answer within {timeout:g} s"
        except OSError as exc:
            last = exc.strerror or type(exc).__name__
    return Step(error=last)


def server_time(status: int, body: Any) -> float:
    """Seconds since the epoch from OKX's ``{"code":"0","data":[{"ts":"<ms>"}]}``; ``BadResponse`` otherwise."""
    if status != 200:
        raise BadResponse(f"HTTP {status}")
    code = okx_code(body)
    if code is not None and code != "0":
        raise BadResponse(f"OKX code {code}")
    if code is None:
        raise BadResponse("not OKX's server time")
    return okx_time(body.get("data"))


class ProbeHttp(OAuthHttp):
    """This program's own HTTP client (``OAuthHttp``: timeouts, size cap, body deadline, no redirects,
    environment proxies), with timed requests for the probes."""

    def timed_get(self, url: str, wall: Callable[[], float]) -> tuple[float, float, int, Any]:
        """(wall clock at send, round trip, status, decoded JSON or None)."""
        sent_at = wall()
        started = time.perf_counter()
        status, raw = self.send("GET", url, "time")
        rtt = time.perf_counter() - started
        try:
            body = decode_json(raw, status, "time")
        except BadResponse:
            body = None
        return sent_at, rtt, status, body

    def token_probe(self, token_endpoint: str, client_id: str) -> TokenProbe:
        """A refresh request without a refresh token: any OAuth or OKX error proves the endpoint is there;
        ``invalid_client`` says it no longer knows this installation. Nothing is refreshed or consumed."""
        host = display(token_endpoint)
        form = {"grant_type": "refresh_token", "client_id": client_id}
        try:
            status, body = self.send_json("POST", token_endpoint, "token endpoint", data=form)
        except NetworkError as exc:
            return TokenProbe(host, "unreachable", _short(exc))
        except BadResponse as exc:
            return TokenProbe(host, "server_error", _short(exc))
        if status == 200:
            return TokenProbe(host, "answers", "HTTP 200")
        error = error_from_body(status, body, "token endpoint")
        if isinstance(error, TokenError) and error.error == "invalid_client":
            return TokenProbe(host, "unknown_client", f"HTTP {status} invalid_client")
        if isinstance(error, BadResponse):
            return TokenProbe(host, "server_error", _short(error))
        return TokenProbe(host, "answers", f"HTTP {status}")


def _short(exc: Exception) -> str:
    """An error's text without the "what:" prefix OAuthHttp puts before it."""
    text = str(exc).rstrip(".")
    return text.split(": ", 1)[1] if ": " in text else text


def probe_target(target: Target, options: ProbeOptions) -> TargetFacts:
    """DNS, then TCP (+TLS), then the server's time, each only when the step before it worked."""
    proxy = proxy_for(target.base)
    shown_proxy = None if proxy is None else redact_proxy(proxy)
    try:
        host, port = host_port(proxy or target.base)
    except ValueError:
        return TargetFacts(target, shown_proxy, Step(error="the proxy URL has no valid port"))
    tls_host = host if proxy is None and target.scheme == "https" else None
    dns, addresses = resolve(host, port, options)
    if dns.error is not None:
        return TargetFacts(target, shown_proxy, dns)
    connected = connect(addresses, port, tls_host, options.timeout)
    if connected.error is not None:
        return TargetFacts(target, shown_proxy, dns, connected)
    url = target.base + TIME_PATH if "api" in target.roles else well_known_urls(target.base)[0]
    samples: list[Sample] = []
    time_error: str | None = None
    http = ProbeHttp(timeout=options.timeout)
    try:
        for _ in range(max(1, options.samples)):
            sent_at, rtt, status, body = http.timed_get(url, options.wall)
            try:
                seconds: float | None = server_time(status, body) if "api" in target.roles else None
            except BadResponse as exc:
                seconds, time_error = None, _short(exc)
            samples.append(Sample(sent_at, rtt, seconds))
    except OAuthError as exc:
        if not samples:
            return TargetFacts(target, shown_proxy, dns, connected, http_error=_short(exc))
    finally:
        http.close()
    return TargetFacts(target, shown_proxy, dns, connected, tuple(samples), time_error=time_error)


def network_facts(local: LocalFacts, chosen: Plan, options: ProbeOptions) -> NetworkFacts:
    with ThreadPoolExecutor(max_workers=max(1, len(chosen.targets)), thread_name_prefix="okx-diagnose") as pool:
        targets = tuple(pool.map(lambda t: probe_target(t, options), chosen.targets))
    token = None
    endpoint = local.oauth.token_endpoint
    if local.oauth.status in ("logged_in", "pending") and endpoint:
        host = display(endpoint)
        failed = next(
            (t for t in targets if t.target.display == host and (t.connect is None or t.connect.error or t.http_error)),
            None,
        )
        client_id = local.oauth.client_id
        if failed is not None:
            token = TokenProbe(host, "not_probed", f"{host} could not be reached above")
        elif client_id is None:
            token = TokenProbe(host, "not_probed", "no client id in the state")
        else:
            http = ProbeHttp(timeout=options.timeout)
            try:
                token = http.token_probe(endpoint, client_id)
            finally:
                http.close()
    return NetworkFacts(targets, token)
