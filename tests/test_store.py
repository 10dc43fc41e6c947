from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from okx_auth_mcp.edges.state_store import StateStore, StoreCorrupt, StoreError, UnsafeDirectory


def test_the_directory_is_0700_and_files_0600(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    store.write_json("session.json", {"a": 1})
    store.ticket_key()
    with store.locked():
        pass
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    for name in ("session.json", "ticket.key", "state.lock"):
        assert stat.S_IMODE((tmp_path / "state" / name).stat().st_mode) == 0o600


def test_a_loose_existing_directory_is_refused_not_tightened(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state").chmod(0o775)
    with pytest.raises(UnsafeDirectory, match=r"mode 0775.*chmod 700 "):
        StateStore(tmp_path / "state").ensure()
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o775


def test_a_crash_during_a_write_leaves_the_old_file_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(tmp_path / "state")
    store.write_json("session.json", {"version": "old"})

    def crash(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match=r"session\.json cannot be written"):
        store.write_json("session.json", {"version": "new"})
    assert store.read_json("session.json") == {"version": "old"}
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["session.json"]


def test_a_torn_or_foreign_file_is_reported_not_trusted(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    store.ensure()
    (tmp_path / "state" / "session.json").write_text('{"access_tok')
    with pytest.raises(StoreCorrupt, match="not valid JSON"):
        store.read_json("session.json")
    (tmp_path / "state" / "session.json").write_text("[1, 2]")
    with pytest.raises(StoreCorrupt, match="JSON object"):
        store.read_json("session.json")


def test_the_ticket_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = StateStore(tmp_path / "state").ticket_key()
    assert StateStore(tmp_path / "state").ticket_key() == first and len(first) == 32


_INCREMENT = """
import sys
from pathlib import Path
from okx_auth_mcp.edges.state_store import StateStore
store = StateStore(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    with store.locked():
        data = store.read_json("counter.json") or {"n": 0}
        store.write_json("counter.json", {"n": data["n"] + 1})
"""


def test_read_modify_write_under_the_lock_loses_nothing_across_processes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    workers = [subprocess.Popen([sys.executable, "-c", _INCREMENT, str(state), "40"]) for _ in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    assert StateStore(state).read_json("counter.json") == {"n": 120}


def test_a_directory_that_cannot_be_synced_does_not_fail_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory this user may write but not open (mode 0300), or a file system without directory fsync:
    the rename is made already, so the write stands."""
    store = StateStore(tmp_path / "state")
    store.ensure()
    real_open = os.open

    def no_directories(path: object, flags: int, *args: object) -> int:
        if flags & getattr(os, "O_DIRECTORY", 0):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", no_directories)
    store.write_json("session.json", {"v": 1})
    assert store.delete("session.json") is True
    store.ticket_key()
