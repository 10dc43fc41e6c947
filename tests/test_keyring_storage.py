"""Tokens in the OS keyring, against a real Secret Service: gnome-keyring-daemon in a D-Bus session
(``.ci/keyring-session`` starts one; CI runs every test inside it). Without one these tests skip outside CI,
saying why, and fail in CI. Fault injection (a keyring that refuses or hangs on command) wraps the real
backend: the calls that are not failed reach the daemon."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges import secret_store
from okx_auth_mcp.edges.state_store import PENDING_FILE, SESSION_FILE
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import CLI, FakeClock, connected, data, log_in, one_error_line, start_login, use_storage


@pytest.fixture(autouse=True)
def secret_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs with OKX_AUTH_STORAGE=keyring on a real Secret Service."""
    use_storage("keyring", monkeypatch)


@pytest.fixture
def token_storage() -> str:
    return "keyring"


@pytest.fixture
def keyed(service: AuthService) -> AuthService:
    return service


def native(service: AuthService) -> NativeBackend:
    assert isinstance(service.backend, NativeBackend)
    return service.backend


def every_file(directory: Path) -> str:
    return "".join(path.read_bytes().decode("utf-8", "replace") for path in directory.rglob("*") if path.is_file())


def entry_id(service: AuthService, kind: str) -> str:
    """The keyring entry the state file names for ``kind``."""
    name = SESSION_FILE if kind == "session" else PENDING_FILE
    data = json.loads((service.store.directory / name).read_text())
    assert data["storage"] == "keyring", data
    return str(data["entry"])


def entry(kind: str, site: str, entry: str) -> dict[str, Any] | None:
    raw = keyring.get_password(secret_store.SERVICE, secret_store.Keyring.user(kind, site, entry))
    return None if raw is None else dict(json.loads(raw))


# ----- where the secrets go ---------------------------------------------------------------------------


def test_a_login_and_a_refresh_leave_no_secret_in_the_state_directory(
    keyed: AuthService, sandbox: RunningSandbox, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    login = start_login(keyed, "eea")
    device_codes = list(sandbox.state.devices)
    assert device_codes and device_codes[0] not in every_file(keyed.store.directory)
    pending_entry = entry_id(keyed, "pending")
    assert entry("pending", "eea", pending_entry) == {"device_code": device_codes[0]}
    assert json.loads((keyed.store.directory / PENDING_FILE).read_text())["storage"] == "keyring"
    assert sandbox.state.decide(login.user_code, approve=True)
    assert keyed.status().status == "logged_in"
    first = keyed.bearer_token()
    sandbox.state.config.access_ttl = 30
    clock.advance(3600)
    second = keyed.bearer_token()  # refreshed: the pair rotated
    assert second != first
    secrets = [first, second, *device_codes, *(t for t in sandbox.state.refresh_tokens)]
    files = every_file(keyed.store.directory)
    logs = caplog.text
    for secret in secrets:
        assert secret not in files and secret not in logs
    stored = entry("session", "eea", entry_id(keyed, "session"))
    assert stored is not None and stored["access_token"] == second
    assert stored["refresh_token"] in sandbox.state.refresh_tokens
    assert entry("pending", "eea", pending_entry) is None  # the finished login's device code is gone
    assert sandbox.state.reuse_detected == 0


def test_the_entry_names_the_program_and_the_site_never_a_token(keyed: AuthService, sandbox: RunningSandbox) -> None:
    import secretstorage

    log_in(keyed, sandbox, "tr")
    token = keyed.bearer_token()
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        user = secret_store.Keyring.user("session", "tr", entry_id(keyed, "session"))
        items = list(collection.search_items({"service": "okx-auth-mcp", "username": user}))
        assert len(items) == 1
        label = items[0].get_label()
    finally:
        connection.close()
    assert "okx-auth-mcp" in label and "tr" in label and token not in label


def test_logout_deletes_the_entries_and_the_files(keyed: AuthService, sandbox: RunningSandbox) -> None:
    log_in(keyed, sandbox, "us")
    named = entry_id(keyed, "session")
    assert entry("session", "us", named) is not None
    keyed.logout()
    assert entry("session", "us", named) is None
    assert not (keyed.store.directory / SESSION_FILE).exists()


# ----- choosing the store -----------------------------------------------------------------------------


def cli(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60, env={**os.environ, **env})


def test_no_keyring_with_storage_keyring_is_storage_unavailable_and_writes_nothing(live: RunningSandbox) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    done = cli("login", "--site", "eea", **no_keyring)
    assert done.returncode == 1
    one_error_line(done.stderr, "storage_unavailable")
    state = Path(os.environ["OKX_AUTH_MCP_STATE_DIR"])
    assert not (state / PENDING_FILE).exists()
    auto = cli("status", "--lang", "en", **no_keyring, OKX_AUTH_STORAGE="auto")
    assert "Token storage: file (no keyring available)" in auto.stdout


# ----- migration and the way back out -------------------------------------------------------------------


def logged_in_with_file_storage(
    sandbox: RunningSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, site: SiteId
) -> AuthService:
    """A service that logged in with OKX_AUTH_STORAGE=file (the tokens in session.json)."""
    monkeypatch.setenv("OKX_AUTH_STORAGE", "file")
    service = AuthService(Settings.from_env(), clock=clock)
    log_in(service, sandbox, site)
    return service


def test_a_session_in_the_file_moves_to_the_keyring_on_its_next_write_and_back_out(
    sandbox: RunningSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    old = logged_in_with_file_storage(sandbox, clock, monkeypatch, "global")
    path = old.store.directory / SESSION_FILE
    token = old.bearer_token()
    assert token in path.read_text()
    old.close()

    monkeypatch.setenv("OKX_AUTH_STORAGE", "keyring")
    new = AuthService(Settings.from_env(), clock=clock)
    assert new.bearer_token() == token  # an earlier version's file keeps working
    clock.advance(7200)  # past the access token's hour
    renewed = new.bearer_token()  # the next locked write: the secrets move
    text = path.read_text()
    assert renewed not in text and token not in text and json.loads(text)["storage"] == "keyring"
    moved = entry_id(new, "session")
    assert entry("session", "global", moved) is not None
    new.close()

    monkeypatch.setenv("OKX_AUTH_STORAGE", "file")
    back = AuthService(Settings.from_env(), clock=clock)
    assert back.bearer_token() == renewed  # read from the keyring still
    clock.advance(7200)
    last = back.bearer_token()
    assert last in path.read_text() and json.loads(path.read_text())["storage"] == "file"
    assert entry("session", "global", moved) is None
    assert sandbox.state.reuse_detected == 0
    back.close()


# ----- a keyring that fails: rotation never loses the refresh token --------------------------------------


class Faulty(KeyringBackend):
    """The real backend, failing or hanging on command."""

    priority = 1

    def __init__(self, real: KeyringBackend) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.real = real
        self.fail: set[str] = set()
        self.hang = threading.Event()
        self.hanging: set[str] = set()
        self.locked = False
        """Answer as a locked collection that refuses to unlock does."""
        self.released = threading.Event()
        """Set when a call that hung has finished (its late effect has happened)."""

    def _call(self, name: str, call: Any) -> Any:
        if self.locked:
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")
        if name in self.hanging:
            self.hang.wait(30)
            try:
                return call()
            finally:
                self.released.set()
        if name in self.fail:
            raise keyring.errors.KeyringError(f"{name} refused on command")
        return call()

    def get_password(self, service: str, username: str) -> str | None:
        return self._call("get", lambda: self.real.get_password(service, username))  # type: ignore[no-any-return]

    def set_password(self, service: str, username: str, password: str) -> None:
        self._call("set", lambda: self.real.set_password(service, username, password))

    def delete_password(self, service: str, username: str) -> None:
        self._call("delete", lambda: self.real.delete_password(service, username))


@pytest.fixture
def faulty() -> Iterator[Faulty]:
    real = keyring.get_keyring()
    wrapper = Faulty(real)
    keyring.set_keyring(wrapper)
    yield wrapper
    wrapper.hang.set()
    keyring.set_keyring(real)


def due(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> str:
    """Logged in, with the access token due for a refresh; the token before it."""
    log_in(service, sandbox, "eea")
    token = service.bearer_token()
    clock.advance(7200)  # past the access token's hour
    return token


def test_a_keyring_that_refuses_the_write_after_the_answer_keeps_the_new_pair_in_the_file(
    keyed: AuthService, sandbox: RunningSandbox, clock: FakeClock, faulty: Faulty, caplog: pytest.LogCaptureFixture
) -> None:
    faulty.real.set_password  # noqa: B018 (the wrapper is in place)
    old = due(keyed, sandbox, clock)
    faulty.fail.add("set")
    renewed = keyed.bearer_token()  # the server rotated; the keyring refused the new pair
    assert renewed != old
    record = json.loads((keyed.store.directory / SESSION_FILE).read_text())
    assert record["storage"] == "file" and record["access_token"] == renewed
    assert "the keyring refused" in caplog.text and renewed not in caplog.text
    faulty.fail.clear()
    clock.advance(7200)
    again = keyed.bearer_token()  # the next write that succeeds moves it back
    record = json.loads((keyed.store.directory / SESSION_FILE).read_text())
    assert record["storage"] == "keyring" and again not in json.dumps(record)
    assert sandbox.state.reuse_detected == 0 and keyed.status().status == "logged_in"


def test_a_keyring_that_refuses_the_read_before_the_request_sends_nothing(
    keyed: AuthService, sandbox: RunningSandbox, clock: FakeClock, faulty: Faulty
) -> None:
    due(keyed, sandbox, clock)
    requests = sandbox.state.count("token")
    faulty.fail.add("get")
    with pytest.raises(secret_store.KeyringFailed):
        keyed.bearer_token()
    assert sandbox.state.count("token") == requests
    faulty.fail.clear()
    assert keyed.bearer_token()  # the session is intact
    assert sandbox.state.reuse_detected == 0


def test_a_keyring_write_that_hangs_past_the_timeout_falls_back_and_loses_nothing(
    sandbox: RunningSandbox, clock: FakeClock, faulty: Faulty, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """The hung write finishes late, with the older pair: by then the file holds the newer one, and no keyring
    write started while it hung (which could have finished first and been overwritten)."""
    monkeypatch.setenv("OKX_AUTH_KEYRING_TIMEOUT", "0.5")
    service = AuthService(Settings.from_env(), clock=clock)
    path = service.store.directory / SESSION_FILE
    due(service, sandbox, clock)
    faulty.hanging.add("set")
    first = service.bearer_token()  # the write hangs: the pair goes to the file
    assert json.loads(path.read_text())["access_token"] == first
    clock.advance(7200)
    faulty.hanging.clear()  # the keyring would answer now, but the stuck write has not finished
    second = service.bearer_token()
    assert second != first and json.loads(path.read_text())["access_token"] == second
    faulty.hang.set()
    assert faulty.released.wait(10)  # the stuck write lands now, with the older pair
    assert service.bearer_token() == second  # the file's, not the keyring's stale one
    clock.advance(7200)
    third = service.bearer_token()  # the next write reaches the keyring again
    assert json.loads(path.read_text())["storage"] == "keyring" and service.bearer_token() == third
    assert sandbox.state.reuse_detected == 0
    service.close()


def test_a_locked_keyring_read_is_keyring_locked_within_the_timeout_never_a_fallback(
    sandbox: RunningSandbox, clock: FakeClock, faulty: Faulty, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("OKX_AUTH_KEYRING_TIMEOUT", "0.5")
    service = AuthService(Settings.from_env(), clock=clock)
    log_in(service, sandbox, "eea")
    faulty.hanging.add("get")
    with pytest.raises(secret_store.KeyringLocked):
        service.bearer_token()
    from okx_auth_mcp.login.refusals import error_code, error_text

    try:
        service.bearer_token()
    except secret_store.KeyringLocked as exc:
        assert error_code(exc) == "keyring_locked"
        assert "unlock" in error_text(exc).lower()
    faulty.hanging.clear()
    faulty.hang.set()
    service.close()


@pytest.mark.anyio
async def test_auth_status_diagnose_and_status_say_where_the_tokens_are(
    keyed: AuthService, sandbox: RunningSandbox
) -> None:
    log_in(keyed, sandbox, "eea")
    async with connected(keyed, "legacy") as client:
        status = data(await client.call_tool("auth_status", {"lang": "en"}))
        checks = data(await client.call_tool("diagnose", {"lang": "en"}))["checks"]
    assert status["storage"] == "keyring (SecretService)"
    assert "keyring" not in status["reply"]  # OKX's template, unchanged
    item = next(c for c in checks if c["id"] == "storage")
    assert item["status"] == "ok" and "SecretService" in item["finding"]
    assert keyed.token_storage() == "keyring (SecretService)"
    shown = json.dumps([status, checks])
    session = native(keyed).session()
    assert session is not None and session.refresh_token is not None
    assert session.access_token not in shown and session.refresh_token not in shown


# ----- what the adversarial review found ----------------------------------------------------------------


@pytest.mark.parametrize("before", ["file", "keyring"])
def test_killed_after_the_entry_is_written_the_next_read_finds_the_new_pair(
    sandbox: RunningSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, settings: Settings, before: str
) -> None:
    """The last file write (the one naming the new entry) never happens, as if the process died there: from a
    session in the file (a migration) and from one in the keyring."""
    monkeypatch.setenv("OKX_AUTH_STORAGE", before)
    first = AuthService(Settings.from_env(), clock=clock)
    due(first, sandbox, clock)
    first.close()
    monkeypatch.setenv("OKX_AUTH_STORAGE", "keyring")
    dying = AuthService(Settings.from_env(), clock=clock)
    real_write = dying.store.write_json

    def dies_at_the_last_write(name: str, data: Any) -> None:
        if name == SESSION_FILE and "entry" in data and "next_entry" not in data:  # the one naming the new entry
            raise SystemExit("killed")  # nothing after this line runs
        real_write(name, data)

    monkeypatch.setattr(dying.store, "write_json", dies_at_the_last_write)
    with pytest.raises(SystemExit):
        dying.bearer_token()  # the server rotated the pair; only the entry (and next_entry) made it
    dying.close()
    survivor = AuthService(Settings.from_env(), clock=clock)
    assert survivor.bearer_token()  # the rotated pair, found through next_entry: the old one would be reuse
    assert sandbox.state.reuse_detected == 0
    clock.advance(7200)
    assert survivor.bearer_token() and sandbox.state.reuse_detected == 0
    survivor.close()


def test_a_locked_collection_is_keyring_locked_and_logout_refuses_before_deleting(
    keyed: AuthService, sandbox: RunningSandbox, faulty: Faulty
) -> None:
    log_in(keyed, sandbox, "eea")
    faulty.locked = True
    with pytest.raises(secret_store.KeyringLocked):
        keyed.bearer_token()
    with pytest.raises(secret_store.KeyringLocked):
        keyed.logout()
    assert (keyed.store.directory / SESSION_FILE).exists()  # nothing deleted: the token would be orphaned
    assert sandbox.state.revoked == []
    faulty.locked = False
    keyed.logout()
    assert sandbox.state.revoked == ["refresh_token"] and not (keyed.store.directory / SESSION_FILE).exists()


def test_storage_keyring_on_a_locked_keyring_starts_no_login(
    keyed: AuthService, sandbox: RunningSandbox, faulty: Faulty
) -> None:
    faulty.locked = True
    with pytest.raises(secret_store.KeyringLocked):
        start_login(keyed, "eea")
    assert sandbox.state.count("device") == 0
    assert not (keyed.store.directory / PENDING_FILE).exists()


def test_the_state_directory_through_a_symlink_finds_its_entry(
    keyed: AuthService, sandbox: RunningSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log_in(keyed, sandbox, "eea")
    link = tmp_path / "state-link"
    link.symlink_to(keyed.store.directory)
    monkeypatch.setenv("OKX_AUTH_MCP_STATE_DIR", str(link))
    through = AuthService(Settings.from_env(), clock=clock)
    assert through.bearer_token() == keyed.bearer_token()
    through.close()


def test_a_session_of_an_earlier_version_is_described_as_in_its_file(
    sandbox: RunningSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    old = logged_in_with_file_storage(sandbox, clock, monkeypatch, "eea")
    path = old.store.directory / SESSION_FILE
    record = json.loads(path.read_text())
    del record["storage"]  # as an earlier version wrote it
    path.write_text(json.dumps(record))
    old.close()
    monkeypatch.setenv("OKX_AUTH_STORAGE", "keyring")
    new = AuthService(Settings.from_env(), clock=clock)
    assert (new.token_storage() or "").startswith("file (written by an earlier version")
    new.close()
