"""The I/O behind ``diagnose``: it gathers the facts :mod:`okx_auth_mcp.core.diagnosis.report` turns into a checklist.

Read-only: it reads the OKX config file, the environment and the state directory, takes the state lock for
an instant (only when the directory exists), resolves and connects to the hosts ``report.plan`` picks,
asks them for OKX's server time (``GET /api/v5/public/time``, twice on one connection: the shorter round
trip gives the clock offset), and sends the token endpoint a refresh request that carries no token. It never
logs in, refreshes, polls a pending login, or writes a state file. (Like every command, taking the lock may
create ``state.lock``, and reading the OAuth state sets a directory looser than 0700 to 0700.)

Every step has a timeout (``ProbeOptions.timeout``, 5 s), the hosts are probed in parallel, and every
failure becomes a fact, never an exception: a closed port is a refused connection in milliseconds. DNS goes
through ``ProbeOptions.resolver`` (the system's by default; tests inject their own). The HTTP requests go the
way this program's own requests go (``OAuthHttp``: environment proxies, no redirects, a size cap, a body
deadline). Nothing secret is recorded: proxy URLs lose their credentials here, and the config's keys are
reduced to "has a key".

Errors: ``ProbeError`` ⊃ ``Unresolved`` (the resolver did not answer in time); it stays inside this module.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import ssl
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2
from filelock import FileLock, Timeout
from httpx2._utils import URLPattern, get_environment_proxies
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from okx_auth_mcp.core.diagnosis import report
from okx_auth_mcp.core.diagnosis.checklist import Report
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
    clean_url,
    display,
    host_port,
    redact_proxy,
)
from okx_auth_mcp.core.oauth_errors import BadResponse, NetworkError, OAuthError, TokenError
from okx_auth_mcp.core.oauth_wire import error_from_body, okx_code, well_known_urls
from okx_auth_mcp.core.records import Session
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.state_store import SESSION_FILE, StoreError
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.verify import ProfileUnusable, api_key_target

DEFAULT_TIMEOUT_SECONDS = 5.0
LOCK_WAIT_SECONDS = 2.0
"""How long the lock probe waits: a healthy lock is free or freed within milliseconds."""
TIME_SAMPLES = 2
TIME_PATH = "/api/v5/public/time"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
"""Shown in either case (``https_proxy`` ...), as the HTTP client reads both."""
ENV_CREDENTIALS = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")
LOCK_FILE = "state.lock"

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) → IP addresses; raises ``OSError`` (``socket.gaierror``) when the name does not resolve."""


class ProbeError(Exception):
    """A probe step failed; its text is safe to show."""


class Unresolved(ProbeError):
    """The host name did not resolve in time."""


def system_resolver(host: str, port: int) -> list[str]:
    found: list[str] = []
    for *_, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if str(address[0]) not in found:
            found.append(str(address[0]))
    return found


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    """Each step's limit: the lookup, the connection, each phase of each HTTP request."""
    lock_wait: float = LOCK_WAIT_SECONDS
    samples: int = TIME_SAMPLES
    resolver: Resolver = system_resolver
    wall: Callable[[], float] = field(default=time.time)
    """The wall clock the offset is measured against (and a refresh judged due by)."""


# ----- local facts ----------------------------------------------------------------------------------------


def _mode(path: Path) -> int | None:
    if os.name != "posix":
        return None
    return stat.S_IMODE(path.stat().st_mode)


def config_facts(environ: Mapping[str, str]) -> ConfigFacts:
    """The config file and the environment's credentials, reduced to what may be shown."""
    path = okx_config.config_path(environ)
    exists = path.is_file()
    mode = _mode(path) if exists else None
    file_only = {k: v for k, v in environ.items() if k not in ENV_CREDENTIALS}
    env_error = None
    try:
        cfg = okx_config.load(environ)
    except okx_config.PartialEnvCredentials as exc:
        env_error = str(exc)
        try:
            cfg = okx_config.load(file_only)
        except okx_config.ConfigError as file_exc:
            return ConfigFacts(str(path), exists, mode, None, str(file_exc), env_error)
    except okx_config.ConfigError as exc:
        return ConfigFacts(str(path), exists, mode, None, str(exc), env_error)
    from_env = bool(environ.get("OKX_API_KEY")) and env_error is None
    profiles = []
    for index, p in enumerate(cfg.profiles):
        base, base_ok = clean_url(p.base_url) if p.base_url else (None, True)
        profiles.append(
            ProfileFacts(
                name=p.name,
                from_env=from_env and index == 0,
                has_key=p.has_api_key,
                site=p.site,
                base_url=base,
                base_url_ok=base_ok,
                proxy_url=redact_proxy(p.proxy_url) if p.proxy_url else None,
                missing=tuple(
                    name for name, value in (("secret_key", p.secret_key), ("passphrase", p.passphrase)) if not value
                )
                if p.api_key
                else (),
            )
        )
    file_profiles = cfg.profiles[1:] if from_env else cfg.profiles
    holds = any(p.api_key or p.secret_key or p.passphrase for p in file_profiles)
    keyed = cfg.api_key_profile()
    target = None
    if keyed is not None:
        with contextlib.suppress(ProfileUnusable):  # no site: the plan says so, and probes Global's host
            target = api_key_target(keyed, environ, str(path))
    return ConfigFacts(
        path=str(path),
        exists=exists,
        mode=mode,
        holds_secrets=holds,
        env_error=env_error,
        default_profile=cfg.default_profile,
        profiles=tuple(profiles),
        in_effect=None if keyed is None else keyed.name,
        key_target=None if target is None else target.base_url,
        key_site=None if target is None else target.site,
    )


def proxy_env(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The proxy variables that are set, URLs redacted (``NO_PROXY`` is a host list, shown as it is)."""
    found = []
    for upper in PROXY_VARIABLES:
        for name in (upper, upper.lower()):
            value = environ.get(name)
            if value:
                found.append((name, value if upper == "NO_PROXY" else redact_proxy(value)))
    return tuple(found)


def state_dir_facts(service: AuthService, lock_wait: float) -> StateDirFacts:
    directory = service.store.directory
    posix = os.name == "posix"
    if not directory.is_dir():
        return StateDirFacts(str(directory), exists=False, posix=posix)
    files = []
    try:
        for entry in sorted(directory.iterdir()):
            info = entry.lstat()
            if stat.S_ISREG(info.st_mode):
                files.append((entry.name, stat.S_IMODE(info.st_mode)))
    except OSError as exc:
        return StateDirFacts(str(directory), exists=True, posix=posix, error=exc.strerror or type(exc).__name__)
    return StateDirFacts(
        path=str(directory),
        exists=True,
        posix=posix,
        mode=_mode(directory),
        files=tuple(files),
        lock=_lock_probe(directory / LOCK_FILE, lock_wait),
    )


def _lock_probe(path: Path, wait: float) -> Step:
    """Take the state lock and release it at once, waiting at most ``wait`` seconds."""
    lock = FileLock(str(path), timeout=wait, mode=0o600)
    started = time.perf_counter()
    try:
        with lock:
            pass
    except Timeout:
        return Step(error=f"another process has held it for more than {wait:g} s")
    except OSError as exc:
        return Step(error=exc.strerror or type(exc).__name__)
    return Step(seconds=time.perf_counter() - started)


def oauth_facts(service: AuthService, state: StateDirFacts, now: float) -> OAuthFacts:
    """The OAuth state: the native backend's from the files alone (no request), not read when the lock is
    held (reading waits for it) nor when there is no state directory (reading would create it). The okx-cli
    backend's from ``okx auth status``, which keeps its own state wherever this directory is."""
    if not state.exists and service.backend_name == "native":
        return OAuthFacts("not_logged_in")
    if state.lock is not None and state.lock.error is not None:
        return OAuthFacts(None)
    try:
        current = service.auth_state(now)
        if current.status == "pending" and current.pending is not None:
            e = current.pending.endpoints
            return OAuthFacts(
                "pending", site=current.site, issuer=e.issuer, token_endpoint=e.token_endpoint, client_id=e.client_id
            )
        if current.status != "logged_in":
            return OAuthFacts(current.status, reason=current.reason)
        data = service.store.read_json(SESSION_FILE)
        session = None if data is None else Session.model_validate(data)
    except (StoreError, OAuthError) as exc:
        return OAuthFacts(None, error=str(exc).rstrip("."))
    except Exception as exc:  # another backend's failure: its name only, its text may carry anything
        return OAuthFacts(None, error=type(exc).__name__)
    if session is None:  # another backend keeps its tokens elsewhere (or a logout came between the reads)
        return OAuthFacts("logged_in", site=current.site, scopes=tuple(current.scopes))
    return OAuthFacts(
        "logged_in",
        site=session.site,
        scopes=tuple(session.scopes),
        issuer=session.endpoints.issuer,
        token_endpoint=session.endpoints.token_endpoint,
        client_id=session.endpoints.client_id,
        access_expires_at=session.access_expires_at,
        has_refresh_token=session.refresh_token is not None,
    )


def local_facts(service: AuthService, options: ProbeOptions) -> LocalFacts:
    now = options.wall()
    state = state_dir_facts(service, options.lock_wait)
    oauth = oauth_facts(service, state, now)
    if state.mode is not None and state.mode & 0o077:  # reading the state takes the lock, which tightens it
        state = replace(state, tightened=_mode(service.store.directory) == 0o700)
    return LocalFacts(
        backend=service.backend_name,
        now=now,
        config=config_facts(service.settings.environ),
        oauth=oauth,
        state=state,
        proxy_env=proxy_env(os.environ),
        issuer_override=service.settings.issuer_override,
    )


# ----- the network ----------------------------------------------------------------------------------------


def proxy_for(url: str) -> str | None:
    """The proxy the HTTP client uses for ``url`` (from the environment, as ``httpx2`` decides it), unredacted:
    this module connects to it."""
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
        raise Unresolved(f"no answer from the resolver within {seconds:g} s")
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
    except Unresolved as exc:
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


class _TimeEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    ts: str = Field(pattern=r"^[0-9]{10,16}$")


class _TimeAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    code: str
    data: list[_TimeEntry] = Field(min_length=1, max_length=8)


_EARLIEST, _LATEST = 946_684_800.0, 7_258_118_400.0  # 2000-01-01 and 2200-01-01: anything else is not a time


def server_time(status: int, body: Any) -> float:
    """Seconds since the epoch from OKX's ``{"code":"0","data":[{"ts":"<ms>"}]}``; ``BadResponse`` otherwise."""
    if status != 200:
        raise BadResponse(f"HTTP {status}")
    code = okx_code(body)
    if code is not None and code != "0":
        raise BadResponse(f"OKX code {code}")
    try:
        answer = _TimeAnswer.model_validate(body)
    except ValidationError:
        raise BadResponse("not OKX's server time") from None
    seconds = int(answer.data[0].ts) / 1000
    if answer.code != "0" or not _EARLIEST <= seconds <= _LATEST:
        raise BadResponse("not OKX's server time")
    return seconds


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
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
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


def diagnose(service: AuthService, options: ProbeOptions | None = None) -> Report:
    """Gather every fact and make the checklist."""
    options = options or ProbeOptions()
    local = local_facts(service, options)
    chosen = report.plan(local)
    return report.report(local, chosen, network_facts(local, chosen, options))
