"""``diagnose`` end to end: the probes against the sandbox over loopback (skew, latency), against a closed port,
a server that never answers, a TLS server, a failing resolver and a proxy; real config files and state
directories; the command line (in this process and as a real one) and the MCP tool through the SDK's client.

No test resolves a name through the system resolver: ``no_system_dns`` makes any such attempt fail the test,
and the probes get an injected resolver where a name must fail."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver.exceptions import ToolError

from okx_auth_mcp.cli.main import main
from okx_auth_mcp.core.diagnosis.checklist import Check, Report
from okx_auth_mcp.edges import net_probes
from okx_auth_mcp.login import diagnose as login_diagnose
from okx_auth_mcp.login.diagnose import ProbeOptions
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp import diagnose_tool
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    CLI,
    CLIENT_KINDS,
    FakeClock,
    connected,
    data,
    free_port,
    log_in,
    run_cli,
    snapshot,
    start_login,
    write_config,
)


def refuse_names(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def diagnose(service: AuthService, clock: FakeClock | None = None, **options: Any) -> Report:
    options.setdefault("timeout", 1.0)
    options.setdefault("resolver", refuse_names)
    if clock is not None:
        options["wall"] = clock
    return login_diagnose.diagnose(service, ProbeOptions(**options))


def check(report: Report, check_id: str, target: str | None = None) -> Check:
    found = [c for c in report.checks if c.id == check_id and (target is None or c.target == target)]
    assert len(found) == 1, [(c.id, c.target) for c in report.checks]
    return found[0]


def statuses(report: Report) -> dict[str, str]:
    return {c.id if c.target is None else f"{c.id} {c.target}": c.status for c in report.checks}


def host_of(url: str) -> str:
    return url.removeprefix("http://")


def test_the_guard_stops_a_lookup_through_the_system_resolver() -> None:
    with pytest.raises(AssertionError, match="system resolver"):
        net_probes.system_resolver("okx-diagnose.invalid", 443)


# ----- the clock and the round trip against the sandbox ---------------------------------------------------


@pytest.mark.parametrize(("skew", "status"), [(0.0, "ok"), (45.0, "warn"), (120.0, "fail"), (-120.0, "fail")])
def test_the_clock_against_the_sandbox(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, skew: float, status: str
) -> None:
    sandbox.state.skew = skew
    report = diagnose(service, clock)
    offset = check(report, "clock.offset")
    assert offset.status == status
    if status != "ok":
        side = "behind" if skew > 0 else "ahead of"
        assert f"{abs(skew):.0f}." in offset.finding.en and side in offset.finding.en
        assert host_of(sandbox.url) in offset.finding.en
    assert report.failed == (status == "fail")
    assert check(report, "network.latency").status == "ok"


def test_a_slow_answer_is_flagged(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    sandbox.state.latency = 0.4
    report = diagnose(service, clock)
    latency = check(report, "network.latency", host_of(sandbox.url))
    assert latency.status == "warn" and "above 300 ms" in latency.finding.en
    assert check(report, "clock.offset").status == "ok"  # the midpoint absorbs the delay
    assert not report.failed


def test_everything_is_ok_or_explained_on_a_fresh_machine(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    report = diagnose(service, clock)
    assert statuses(report) == {
        "config.file": "ok",
        "config.env": "ok",
        "config.permissions": "skip",
        "config.site_host": "ok",
        "config.profiles": "ok",
        "network.proxy": "ok",
        f"network.dns {host_of(sandbox.url)}": "ok",
        f"network.connect {host_of(sandbox.url)}": "ok",
        f"network.latency {host_of(sandbox.url)}": "ok",
        "clock.offset": "ok",
        "oauth.session": "warn",
        "oauth.refresh": "skip",
        "state.permissions": "ok",
        "state.lock": "skip",
        "storage": "warn",  # the tests pin OKX_AUTH_STORAGE=file: the tokens would be in a file
    }
    assert (report.plan.source, [t.base for t in report.plan.targets]) == ("issuer", [sandbox.url])
    assert not service.store.directory.exists()  # nothing was created


# ----- unreachable hosts ----------------------------------------------------------------------------------


def service_for(issuer: str, monkeypatch: pytest.MonkeyPatch) -> AuthService:
    monkeypatch.setenv("OKX_OAUTH_ISSUER", issuer)
    return AuthService(Settings.from_env())


def test_a_closed_port_fails_fast_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    service = service_for(f"http://127.0.0.1:{port}", monkeypatch)
    started = time.monotonic()
    report = diagnose(service, timeout=5.0)
    assert time.monotonic() - started < 2
    connect = check(report, "network.connect", f"127.0.0.1:{port}")
    assert connect.status == "fail" and "Connection refused" in connect.finding.en
    assert check(report, "network.latency").status == "skip"
    assert check(report, "clock.offset").finding.en == "Not measured: no OKX API host answered."
    service.close()


def test_a_server_that_never_answers_is_cut_off_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever answers
        port = silent.getsockname()[1]
        service = service_for(f"http://127.0.0.1:{port}", monkeypatch)
        started = time.monotonic()
        report = diagnose(service, timeout=0.5)
        took = time.monotonic() - started
    assert took < 3
    assert check(report, "network.connect").status == "ok"
    latency = check(report, "network.latency")
    assert latency.status == "fail" and "did not answer in time" in latency.finding.en
    service.close()


def keyed_profile(okx_home: str, base_url: str, **extra: str) -> Path:
    lines = [f'{k} = "{v}"' for k, v in {"api_key": "ak-0123456789", "base_url": base_url, **extra}.items()]
    return write_config(okx_home, "[profiles.main]\n" + "\n".join(lines) + "\n")


def test_a_name_that_does_not_resolve_fails_at_dns_and_probes_nothing_more(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], "https://api.okx-diagnose.test")
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return refuse_names(host, port)

    report = diagnose(service, resolver=resolver)
    assert asked == [("api.okx-diagnose.test", 443)]
    dns = check(report, "network.dns", "api.okx-diagnose.test:443")
    assert dns.status == "fail" and dns.finding.en == (
        "Cannot resolve api.okx-diagnose.test: Name or service not known."
    )
    assert [check(report, i).status for i in ("network.connect", "network.latency", "clock.offset")] == ["skip"] * 3
    assert sandbox.state.requests == {}


def test_a_resolver_that_hangs_is_given_up_on(
    service: AuthService, isolated_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], "https://api.okx-diagnose.test")
    release = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.1"]

    started = time.monotonic()
    try:
        report = diagnose(service, resolver=stuck, timeout=0.3)
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert check(report, "network.dns").finding.en == (
        "Cannot resolve api.okx-diagnose.test: no answer from the resolver within 0.3 s."
    )


def test_a_proxy_in_the_way_is_shown_without_credentials(
    service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTP_PROXY", f"http://proxyuser:PROXY-PASS-42@127.0.0.1:{port}/x?token=T0KEN")
    report = diagnose(service)
    shown = f"http://127.0.0.1:{port}"
    proxy = check(report, "network.proxy")
    assert f"HTTP_PROXY={shown}" in proxy.finding.en and f"{host_of(sandbox.url)} via {shown}" in proxy.finding.en
    connect = check(report, "network.connect")
    assert (
        connect.status == "fail" and connect.finding.en == f"Cannot connect to the proxy {shown}: Connection refused."
    )
    text = report.render("en") + report.render("zh") + json.dumps(report.view("en"))
    for secret in ("proxyuser", "PROXY-PASS-42", "T0KEN"):
        assert secret not in text
    assert sandbox.state.requests == {}  # nothing reached the host around the proxy

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    report = diagnose(service)
    assert f"{host_of(sandbox.url)} direct" in check(report, "network.proxy").finding.en
    assert check(report, "network.latency").status == "ok"


# ----- TLS ------------------------------------------------------------------------------------------------


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "okx-diagnose-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _TimeHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"code": "0", "msg": "", "data": [{"ts": str(int(time.time() * 1000))}]}).encode()
        self.send_response(200 if self.path == "/api/v5/public/time" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An OKX-like time endpoint over TLS on 127.0.0.1, with a certificate no trust store knows."""
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TimeHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_tls_is_checked_with_the_clients_own_trust_store(
    service: AuthService,
    sandbox: RunningSandbox,
    isolated_env: dict[str, str],
    https_server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, cert = https_server
    keyed_profile(isolated_env["OKX_HOME"], url)
    untrusted = diagnose(service, timeout=2.0)
    connect = check(untrusted, "network.connect")
    assert connect.status == "fail" and connect.finding.en.startswith(
        f"Cannot connect to {host_of(url.removeprefix('https://'))}: TLS: certificate not trusted"
    )
    assert connect.next is not None and "intercepting TLS" in connect.next.en

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # as a user behind a corporate TLS proxy would
    trusted = diagnose(service, timeout=2.0)
    assert check(trusted, "network.connect").finding.en.startswith("TCP and TLS (TLSv1.")
    assert (check(trusted, "network.latency").status, check(trusted, "clock.offset").status) == ("ok", "ok")


# ----- the config file ------------------------------------------------------------------------------------


def test_a_config_file_that_is_not_toml_fails_and_says_where(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], "[profiles.main]\npassphrase = a#b\n")
    found = check(diagnose(service), "config.file")
    assert found.status == "fail" and "line 2" in found.finding.en and found.next is not None


def test_partial_credentials_in_the_environment_fail_and_the_file_is_still_read(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], sandbox.url)
    monkeypatch.setenv("OKX_API_KEY", "env-key-0123456789")
    service = AuthService(Settings.from_env())
    report = diagnose(service)
    env = check(report, "config.env")
    assert env.status == "fail" and "OKX_SECRET_KEY, OKX_PASSPHRASE not" in env.finding.en
    assert "env-key-0123456789" not in report.render("en")
    assert check(report, "config.profiles").finding.en.startswith("main is the only profile with an API key")
    service.close()


def test_a_file_profile_with_a_key_but_no_secret_fails(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    keyed_profile(isolated_env["OKX_HOME"], sandbox.url, passphrase="P4ss")
    found = check(diagnose(service), "config.partial")
    assert found.status == "fail" and found.finding.en.startswith("The profile main has an api_key but no secret_key:")
    assert found.next is not None and "P4ss" not in found.finding.en + found.next.en
    keyed_profile(isolated_env["OKX_HOME"], sandbox.url, secret_key="S", passphrase="P4ss")
    assert all(c.id != "config.partial" for c in diagnose(service).checks)


def test_a_config_file_with_keys_readable_by_others_is_flagged_with_the_chmod(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    path = keyed_profile(isolated_env["OKX_HOME"], sandbox.url, secret_key="S", passphrase="P")
    path.chmod(0o644)
    found = check(diagnose(service), "config.permissions")
    assert found.status == "warn" and "mode 0644" in found.finding.en
    assert found.next is not None and found.next.en == f"Run: chmod 600 {path}"
    path.chmod(0o600)
    assert check(diagnose(service), "config.permissions").status == "ok"
    write_config(isolated_env["OKX_HOME"], '[profiles.demo]\nsite = "eea"\n').chmod(0o644)
    assert check(diagnose(service), "config.permissions").finding.en == "Mode 0644; the file holds no keys."


def test_a_site_that_disagrees_with_its_base_url_fails(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], '[profiles.eu]\nsite = "eea"\nbase_url = "https://www.okx.com"\n')
    found = check(diagnose(service), "config.site_host")
    assert found.status == "fail" and "Global's host" in found.finding.en
    assert found.next is not None and "https://eea.okx.com" in found.next.en


def test_two_keys_say_which_one_is_used(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    write_config(
        isolated_env["OKX_HOME"],
        f'[profiles.first]\napi_key = "k1-0123456789"\nbase_url = "{sandbox.url}"\n'
        f'[profiles.second]\napi_key = "k2-0123456789"\nbase_url = "{sandbox.url}"\n',
    )
    report = diagnose(service)
    found = check(report, "config.profiles")
    assert found.status == "warn" and "first is used because it comes first" in found.finding.en
    assert (report.plan.source, report.plan.profile) == ("api_key", "first")


# ----- the OAuth state and the state directory ------------------------------------------------------------


def test_a_pending_login_is_reported_and_not_polled(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    start_login(service)
    polls = sandbox.state.count("token")
    report = diagnose(service, clock)
    session = check(report, "oauth.session")
    assert session.status == "ok" and session.finding.en.startswith("A login for eea is pending")
    assert check(report, "oauth.refresh").status == "ok"
    assert sandbox.state.count("token") == polls + 1  # the probe, which carries no device code
    assert all(device.last_poll is None for device in sandbox.state.devices.values())
    assert report.plan.source == "pending"


def test_a_due_refresh_is_reported_and_nothing_is_refreshed_or_written(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    report = diagnose(service, clock)
    assert check(report, "oauth.session").finding.en == "Logged in to eea (scopes: read_only, trade)."
    refresh = check(report, "oauth.refresh")
    assert refresh.status == "ok" and refresh.finding.en.startswith("No refresh is due yet; the token endpoint")

    clock.advance(3600)
    before, tokens = snapshot(service.store.directory), set(sandbox.state.refresh_tokens)
    report = diagnose(service, clock)
    refresh = check(report, "oauth.refresh")
    assert refresh.status == "ok" and refresh.finding.en.startswith("A refresh is due")
    assert snapshot(service.store.directory) == before
    assert set(sandbox.state.refresh_tokens) == tokens and sandbox.state.reuse_detected == 0
    assert report.plan.source == "session"


def test_each_host_in_effect_is_probed_and_a_dead_one_skips_the_token_endpoint(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, isolated_env: dict[str, str]
) -> None:
    log_in(service, sandbox)
    closed = f"127.0.0.1:{free_port()}"
    keyed_profile(isolated_env["OKX_HOME"], f"http://{closed}")
    report = diagnose(service, clock)
    assert (report.plan.source, report.hosts()) == ("api_key", f"{closed} (API), {host_of(sandbox.url)} (OAuth)")
    assert check(report, "network.connect", closed).status == "fail"
    assert check(report, "network.latency", host_of(sandbox.url)).status == "ok"
    assert check(report, "clock.offset").status == "skip"  # only an API host tells OKX's time
    assert check(report, "oauth.refresh").status == "ok"

    sandbox.stop()
    refresh = check(diagnose(service, clock), "oauth.refresh")
    assert refresh.status == "warn" and refresh.finding.en == (
        f"No refresh is due yet; but the token endpoint was not tried: {host_of(sandbox.url)} could not be "
        "reached above."
    )


def test_a_token_endpoint_that_forgot_this_client_fails(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    sandbox.state.clients.clear()
    refresh = check(diagnose(service, clock), "oauth.refresh")
    registrations = service.store.directory / "registrations.json"
    assert refresh.status == "fail" and "client registration" in refresh.finding.en
    assert refresh.next is not None and refresh.next.en.startswith(f"Delete {registrations} (logout keeps it)")
    registrations.unlink()  # the advice, followed
    service.logout()
    log_in(service, sandbox)
    assert check(diagnose(service, clock), "oauth.refresh").status == "ok"


def test_a_failing_token_endpoint_is_flagged(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    log_in(service, sandbox)
    sandbox.state.faults["token"] = "http_500"
    refresh = check(diagnose(service, clock), "oauth.refresh")
    assert refresh.status == "warn" and "HTTP 500" in refresh.finding.en


def test_a_corrupt_session_file_fails_with_what_to_do(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    service.store.ensure()
    (service.store.directory / "session.json").write_text("{not json", encoding="utf-8")
    session = check(diagnose(service, clock), "oauth.session")
    assert session.status == "fail" and "session.json" in session.finding.en
    assert session.next is not None and "logout" in session.next.en


def test_state_files_readable_by_others_fail(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    log_in(service, sandbox)
    (service.store.directory / "session.json").chmod(0o644)
    found = check(diagnose(service, clock), "state.permissions")
    assert found.status == "fail" and "session.json (0644)" in found.finding.en
    (service.store.directory / "session.json").chmod(0o600)
    service.store.directory.chmod(0o755)
    found = check(diagnose(service, clock), "state.permissions")
    assert found.status == "warn" and "is mode 0755 (should be 0700)" in found.finding.en
    service.store.directory.chmod(0o775)
    found = check(diagnose(service, clock), "state.permissions")
    assert found.status == "fail" and "mode 0775, so other users can change it: every command" in found.finding.en
    assert found.next is not None and f"chmod 700 {service.store.directory}" in found.next.en
    assert service.store.directory.stat().st_mode & 0o777 == 0o775  # diagnose changes nothing


def test_a_lock_held_by_another_process_fails_quickly(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    lock_file = service.store.directory / "state.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock\n"
            f"with filelock.FileLock({str(lock_file)!r}):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        started = time.monotonic()
        report = diagnose(service, clock, lock_wait=0.3)
        assert time.monotonic() - started < 3
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
        assert holder.stdout is not None
        holder.stdout.close()
    lock = check(report, "state.lock")
    assert lock.status == "fail" and "more than 0.3 s" in lock.finding.en
    assert lock.next is not None and f"lsof {lock_file}" in lock.next.en
    assert check(report, "oauth.session").status == "ok"  # the files are read without the lock
    assert check(diagnose(service, clock), "state.lock").status == "ok"  # released: healthy again


# ----- nothing secret -------------------------------------------------------------------------------------

SECRETS = ("AK-diag-0123456789abcdef", "SK-diag-SECRET-777", "PP-diag-PHRASE-888", "proxy-user-x", "PROXY-PW-999")


def secret_setup(
    service: AuthService, sandbox: RunningSandbox, okx_home: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """A logged-in session, then a config file full of secrets, and proxy credentials in the environment."""
    log_in(service, sandbox)
    write_config(
        okx_home,
        f'default_profile = "main"\n[profiles.main]\napi_key = "{SECRETS[0]}"\nsecret_key = "{SECRETS[1]}"\n'
        f'passphrase = "{SECRETS[2]}"\nbase_url = "{sandbox.url}"\n'
        f'proxy_url = "http://{SECRETS[3]}:{SECRETS[4]}@127.0.0.1:3128"\n'
        f'[profiles.spare]\napi_key = "{SECRETS[0]}-2"\nsecret_key = "{SECRETS[1]}-2"\n',
    ).chmod(0o644)
    monkeypatch.setenv("HTTPS_PROXY", f"http://{SECRETS[3]}:{SECRETS[4]}@127.0.0.1:3128")
    session = service.store.read_json("session.json")
    assert session is not None
    return [*SECRETS, session["access_token"], session["refresh_token"], *sandbox.state.devices]


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text
    for word in ("expires_at", "expiresAt", "ttl", "access_token", "refresh_token"):
        assert word not in text


def test_no_secret_reaches_the_checklist(
    service: AuthService,
    sandbox: RunningSandbox,
    clock: FakeClock,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = secret_setup(service, sandbox, isolated_env["OKX_HOME"], monkeypatch)
    report = diagnose(service, clock)
    assert check(report, "config.permissions").status == "warn"  # the secrets were there to be leaked
    text = "\n".join([report.render("en"), report.render("zh"), json.dumps(report.view("en"), ensure_ascii=False)])
    assert_no_secret(text, secrets)
    assert "http://127.0.0.1:3128" in text  # the proxy is shown, without its credentials


# ----- the command line -----------------------------------------------------------------------------------


def test_diagnose_exits_zero_with_warnings_and_one_when_a_check_fails(
    capsys: pytest.CaptureFixture[str], live: RunningSandbox
) -> None:
    code, out, err = run_cli(capsys, "diagnose", "--lang", "en")
    assert (code, err) == (0, "")
    assert out.startswith("OKX login diagnosis\nBackend: native\n") and "[warn] OAuth login: Not logged in" in out
    live.state.skew = -120
    code, out, err = run_cli(capsys, "diagnose", "--lang", "zh")
    assert (code, err) == (1, "")
    assert out.startswith("OKX 登录诊断\n后端：native\n") and "[失败] 系统时钟：本机时钟比 OKX 服务器时间快 120." in out


def test_diagnose_json(capsys: pytest.CaptureFixture[str], live: RunningSandbox) -> None:
    live.state.skew = 45
    code, out, _ = run_cli(capsys, "diagnose", "--json", "--lang", "en")
    view = json.loads(out)
    assert code == 0 and view["ok"] is True and view["backend"] == "native"
    assert view["hosts"] == [host_of(live.url)] and view["site_source"] == "issuer"
    clock = next(c for c in view["checks"] if c["id"] == "clock.offset")
    assert clock["status"] == "warn" and clock["title"] == "Clock" and "next" in clock


def test_diagnose_timeout_bounds_each_step(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        monkeypatch.setenv("OKX_OAUTH_ISSUER", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        code, out, err = run_cli(capsys, "diagnose", "--timeout", "0.3", "--lang", "en")
        assert time.monotonic() - started < 3
    assert (code, err) == (1, "")
    assert "[FAIL] Round trip 127.0.0.1:" in out and "did not answer in time" in out


def test_diagnose_refuses_a_timeout_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diagnose", "--timeout", "0"])
    assert exited.value.code == 2 and "--timeout" in capsys.readouterr().err


def test_diagnose_shows_no_secret_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
    service: AuthService,
    sandbox: RunningSandbox,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = secret_setup(service, sandbox, isolated_env["OKX_HOME"], monkeypatch)
    sandbox.state.clock = time.time
    _, text, err = run_cli(capsys, "diagnose", "--lang", "en")
    _, shown, _ = run_cli(capsys, "diagnose", "--json", "--lang", "zh")
    assert "profile main sets proxy_url http://127.0.0.1:3128" in text
    assert_no_secret(text + shown + err, secrets)


def test_diagnose_as_a_process_against_a_closed_port_is_prompt_and_has_no_traceback() -> None:
    env = {**os.environ, "OKX_OAUTH_ISSUER": f"http://127.0.0.1:{free_port()}"}
    started = time.monotonic()
    done = subprocess.run([*CLI, "diagnose", "--lang", "en"], capture_output=True, text=True, timeout=60, env=env)
    assert time.monotonic() - started < 15
    assert (done.returncode, done.stderr) == (1, "")
    assert "[FAIL] Connection 127.0.0.1:" in done.stdout and "Connection refused" in done.stdout
    assert "Traceback" not in done.stdout


# ----- the MCP tool ---------------------------------------------------------------------------------------


@pytest.fixture(params=CLIENT_KINDS)
async def client(request: pytest.FixtureRequest, service: AuthService, clock: FakeClock) -> AsyncIterator[Client]:
    """The server with diagnose registered on the tests' clock and a resolver that refuses every name."""
    server = build_server(service)
    with contextlib.suppress(ToolError):  # once build_server registers it with the default options
        server.remove_tool("diagnose")
    diagnose_tool.register(server, service, ProbeOptions(timeout=1.0, wall=clock, resolver=refuse_names))
    async with connected(service, str(request.param), server=server) as joined:
        yield joined


@pytest.mark.anyio
async def test_the_tool_is_described_as_read_only(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"preflight", "diagnose"} <= set(tools)
    tool = tools["diagnose"]
    assert tool.title == "Diagnose OKX login problems" and tool.description and len(tool.description) > 200
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tool.annotations.destructive_hint is False and tool.annotations.open_world_hint is True
    assert tool.output_schema is not None and {"reply", "ok", "checks"} <= set(tool.output_schema["properties"])
    assert tool.input_schema["properties"]["lang"]["description"]


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_tool_returns_the_checklist(client: Client, sandbox: RunningSandbox, lang: str) -> None:
    sandbox.state.skew = 120
    result = data(await client.call_tool("diagnose", {"lang": lang}))
    assert result["ok"] is False and result["backend"] == "native" and result["hosts"] == [host_of(sandbox.url)]
    clock = next(c for c in result["checks"] if c["id"] == "clock.offset")
    assert clock["status"] == "fail"
    header = "OKX login diagnosis\n" if lang == "en" else "OKX 登录诊断\n"
    assert result["reply"].startswith(header) and clock["finding"] in result["reply"]
    assert {c["id"] for c in result["checks"]} >= {"config.file", "network.dns", "oauth.session", "state.lock"}


@pytest.mark.anyio
async def test_the_tool_shows_no_secret(
    client: Client,
    service: AuthService,
    sandbox: RunningSandbox,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = secret_setup(service, sandbox, isolated_env["OKX_HOME"], monkeypatch)
    for lang in ("en", "zh"):
        result = await client.call_tool("diagnose", {"lang": lang})
        assert data(result)["checks"]
        assert_no_secret(json.dumps(result.model_dump(mode="json"), ensure_ascii=False), secrets)


def test_the_key_is_probed_where_verify_credentials_sends_it(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The profile says EEA, but OKX_API_BASE_URL sends the key elsewhere: that host is the one probed.
    keyed_profile(isolated_env["OKX_HOME"], "https://eea.okx.com", site="eea", secret_key="S", passphrase="P")
    monkeypatch.setenv("OKX_API_BASE_URL", sandbox.url)
    report = diagnose(AuthService(Settings.from_env()))
    assert {t.base for t in report.plan.targets} == {sandbox.url}
    assert report.plan.site == "eea"
