"""The per-user state directory: client registrations, the pending login, the session, the keys.

Layout (directory 0700, every file 0600); the records are ``core.records``' models::

    registrations.json   {"clients": {issuer: client_id}}   kept after logout (native backend)
    pending.json         the device authorization waiting for the user (native backend)
    session.json         tokens, site, scopes of the OAuth session (native backend)
    okx-cli-login.json   the link and code of a login started through OKX's CLI (okx-cli backend)
    ticket.key           32 random bytes that sign the gate's tickets (rotated by a logout)
    request-state.key    32 random bytes that seal the MCP SDK's request state between elicitation rounds
    device-id            this installation's device id (a random UUID, the TERMID of OAuth API calls)
    state.lock           the cross-process lock

Every write goes to a temporary file in the same directory, is fsynced, then renamed over the old file
(and the directory fsynced): a crash leaves the old or the new file, never a torn one. Every
read-modify-write runs inside :meth:`StateStore.locked`, a ``filelock`` lock shared by every process that
uses the same directory (Claude Desktop and an IDE may both run this server).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from filelock import FileLock, Timeout
from pydantic import BaseModel

from okx_auth_mcp.core.records import Unfit, validated

LOCK_TIMEOUT_SECONDS = 30.0
"""The least a process waits for the lock; callers that do network I/O under it pass a longer wait."""
RECOVER = "delete the file to start over (logout does that for the session and a pending login)"
"""The advice every corrupt-state error ends with."""


PENDING_FILE, SESSION_FILE, REGISTRATIONS_FILE = "pending.json", "session.json", "registrations.json"
STARTED_FILE = "okx-cli-login.json"
DEVICE_ID_FILE = "device-id"
LOCK_FILE = "state.lock"

_M = TypeVar("_M", bound=BaseModel)


def _device_id_in(data: bytes) -> str | None:
    """The device id a ``device-id`` file holds: a UUID in its canonical form, else None (rewritten)."""
    try:
        text = data.decode("ascii").strip()
        return text if str(uuid.UUID(text)) == text else None
    except ValueError:
        return None


class StoreError(Exception):
    """The state directory cannot be used."""


class StoreCorrupt(StoreError):
    """A state file exists but does not hold what this program wrote."""


class StoreLockTimeout(StoreError):
    """Another process held the state lock for too long."""


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get("OKX_AUTH_MCP_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("okx-auth-mcp"))


class StateStore:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.directory = directory
        self._lock_timeout = max(lock_timeout, LOCK_TIMEOUT_SECONDS)
        self._lock = FileLock(str(directory / LOCK_FILE), timeout=self._lock_timeout, mode=0o600)

    def ensure(self) -> None:
        """Create the directory 0700 (tightening it if it is looser)."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if stat.S_IMODE(self.directory.stat().st_mode) != 0o700:
                self.directory.chmod(0o700)
        except OSError as exc:
            raise StoreError(f"state directory {self.directory} cannot be created: {exc.strerror}") from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a process)."""
        self.ensure()
        try:
            with self._lock:
                yield
        except Timeout as exc:
            raise StoreLockTimeout(
                f"another okx-auth-mcp process held {self._lock.lock_file} for {self._lock_timeout:.0f} s"
            ) from exc

    def _path(self, name: str) -> Path:
        return self.directory / name

    def read_json(self, name: str) -> dict[str, Any] | None:
        try:
            text = self._path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self._path(name)} cannot be read: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreCorrupt(f"{self._path(name)} is not valid JSON; {RECOVER}") from exc
        if not isinstance(data, dict):
            raise StoreCorrupt(f"{self._path(name)} does not hold a JSON object; {RECOVER}")
        return data

    def read_model(self, name: str, model: type[_M]) -> _M | None:
        """The record a file holds, validated (``StoreCorrupt`` when it is not what this program wrote)."""
        data = self.read_json(name)
        return None if data is None else self.as_record(name, model, data)

    def as_record(self, name: str, model: type[_M], data: Mapping[str, Any]) -> _M:
        """``data``, read from the file ``name``, validated as ``model``."""
        try:
            return validated(model, data)
        except Unfit:
            raise StoreCorrupt(f"{self._path(name)} does not hold what okx-auth-mcp wrote; {RECOVER}") from None

    def write_model(self, name: str, record: BaseModel) -> None:
        self.write_json(name, record.model_dump(mode="json"))

    def write_json(self, name: str, data: Mapping[str, Any]) -> None:
        self._write_bytes(name, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    def delete(self, name: str) -> bool:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        self._fsync_dir()
        return True

    def rotate_ticket_key(self) -> None:
        """A new key: every ticket signed before is void (a logout ends every site choice made before it)."""
        with self.locked():
            self._write_bytes("ticket.key", secrets.token_bytes(32))

    def ticket_key(self) -> bytes:
        """The key that signs tickets (rotated by a logout)."""
        return self._key("ticket.key")

    def request_state_key(self) -> bytes:
        """The key that seals the MCP SDK's request state across the rounds of a 2026-07-28 elicitation, so a
        retry may reach another server process on this directory, or a restarted one. Never rotated: it holds
        nothing past a round's ten minutes."""
        return self._key("request-state.key")

    def device_id(self) -> str:
        """This installation's device id, for the ``TERMID`` header OKX wants on API calls with an OAuth token
        from a client device: a random UUID, created on first use (under the lock, so two processes agree) and
        kept for good (a logout does not change it)."""
        path = self._path(DEVICE_ID_FILE)
        with contextlib.suppress(FileNotFoundError):
            found = _device_id_in(path.read_bytes())
            if found is not None:
                return found
        with self.locked():
            with contextlib.suppress(FileNotFoundError):
                found = _device_id_in(path.read_bytes())
                if found is not None:
                    return found
            device = str(uuid.uuid4())
            self._write_bytes(DEVICE_ID_FILE, device.encode("ascii"))
            return device

    def _key(self, name: str) -> bytes:
        """A 32-byte key, created on first use (under the lock, so two processes agree)."""
        path = self._path(name)
        with contextlib.suppress(FileNotFoundError):
            key = path.read_bytes()
            if len(key) == 32:
                return key
        with self.locked():
            with contextlib.suppress(FileNotFoundError):
                key = path.read_bytes()
                if len(key) == 32:
                    return key
            key = secrets.token_bytes(32)
            self._write_bytes(name, key)
            return key

    def _write_bytes(self, name: str, data: bytes) -> None:
        self.ensure()
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path(name))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
