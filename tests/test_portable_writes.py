"""The state directory on a system without the POSIX-only calls, as on Windows with Python 3.11 and 3.12:
no ``os.fchmod`` (3.13+ only), no ``O_DIRECTORY`` (a directory cannot be opened, so it is not fsynced), no
``O_NOFOLLOW``, no ``os.getuid`` (no POSIX owners), and key files published without ``os.link``. The calls are
taken away here, on Linux, from the module that makes them (``edges.state_files``), and a whole login, refresh
and logout still works. (filelock keeps them: its POSIX lock runs here; on Windows it locks with ``msvcrt``.)"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from okx_auth_mcp.edges import state_files
from okx_auth_mcp.edges.state_store import SESSION_FILE, StateStore
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, stored_session

POSIX_ONLY = ("fchmod", "O_DIRECTORY", "O_NOFOLLOW", "getuid", "link")


class WindowsLikeOs(ModuleType):
    """``os`` without :data:`POSIX_ONLY`, recording what ``chmod`` and ``rename`` were called on."""

    def __init__(self) -> None:
        super().__init__("os")
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name in POSIX_ONLY:
            raise AttributeError(name)
        return getattr(os, name)

    def chmod(self, path: str | Path, mode: int) -> None:
        self.calls.append(f"chmod {Path(path).name} {mode:o}")
        os.chmod(path, mode)

    def rename(self, src: str | Path, dst: str | Path) -> None:
        self.calls.append(f"rename {Path(dst).name}")
        os.rename(src, dst)


@pytest.fixture
def without_posix(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The POSIX-only functions taken away from the state files' module; the calls it made instead."""
    windows = WindowsLikeOs()
    monkeypatch.setattr(state_files, "os", windows)
    for name in POSIX_ONLY:
        assert not hasattr(vars(state_files)["os"], name)
    return windows.calls


def test_a_whole_login_refresh_and_logout_without_the_posix_calls(
    without_posix: list[str], service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    first = stored_session(service)
    clock.advance(3600)
    assert service.bearer_token() != (first.access_token if first else None)
    assert service.logout() is True
    assert stored_session(service) is None
    assert any(c.startswith("chmod .session.json.") and c.endswith(" 600") for c in without_posix)
    assert "rename ticket.key" in without_posix  # created once, without os.link


def test_files_are_still_private_and_reads_still_refuse_what_is_not_a_file(
    without_posix: list[str], tmp_path: Path
) -> None:
    store = StateStore(tmp_path / "state")
    store.write_json(SESSION_FILE, {"a": 1})
    assert stat.S_IMODE((tmp_path / "state" / SESSION_FILE).stat().st_mode) == 0o600
    assert store.read_json(SESSION_FILE) == {"a": 1}
    first = store.ticket_key()
    assert store.ticket_key() == first
    (tmp_path / "state" / "elsewhere.json").symlink_to(tmp_path / "state" / SESSION_FILE)
    with pytest.raises(Exception, match="not a regular file"):
        store.read_json("elsewhere.json")


def test_a_sharing_violation_on_windows_is_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a reader that has the file open makes ``os.replace`` fail for a moment: retried there;
    anywhere else a permission error is an error at once."""
    store = StateStore(tmp_path / "state")
    store.write_json(SESSION_FILE, {"v": 1})
    replace = os.replace
    failures = [PermissionError(13, "sharing violation")] * 3

    def busy(src: str, dst: str) -> None:
        if failures:
            raise failures.pop()
        replace(src, dst)

    monkeypatch.setattr(os, "replace", busy)
    with pytest.raises(Exception, match="cannot be written"):
        store.write_json(SESSION_FILE, {"v": 2})
    monkeypatch.setattr(state_files, "SHARING_VIOLATIONS", True)
    store.write_json(SESSION_FILE, {"v": 3})
    assert store.read_json(SESSION_FILE) == {"v": 3} and not failures
    assert sorted(p.name for p in store.directory.iterdir()) == [SESSION_FILE]


def test_a_file_system_without_hard_links_still_creates_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    store = StateStore(tmp_path / "state")
    first = store.ticket_key()
    assert store.ticket_key() == first and len(first) == 32
    assert sorted(p.name for p in store.directory.iterdir()) == ["ticket.key"]
