"""The per-user state directory: client registrations, the pending login, the session, the keys.

Layout (directory 0700, every file 0600); the records are ``core.records``' models::

    registrations.json   {"clients": {issuer: client_id}}   kept after logout (native backend)
    pending.json         the device authorization waiting for the user (native backend)
    session.json         tokens, site, scopes of the OAuth session (native backend)
    okx-cli-login.json   the link and code of a login started through OKX's CLI (okx-cli backend)
    used-tickets.json    the site tickets that started a login, until they expire (each starts one)
    ticket.key           32 random bytes that sign the gate's tickets (rotated by a logout)
    request-state.key    32 random bytes that seal the MCP SDK's request state between elicitation rounds
    device-id            this installation's device id (a random UUID, the TERMID of OAuth API calls)
    state.lock           the cross-process lock; it holds the pid and purpose of its current holder

Every write goes to a temporary file in the same directory, is fsynced, then renamed over the old file
(and the directory fsynced): a crash leaves the old or the new file, never a torn one. So a read needs no
lock. The lock (``filelock``, shared by every process on the same directory: Claude Desktop and an IDE
may both run this server) serialises what must not run twice: a read-modify-write, and the one network
request that rotates or creates a grant (a refresh, a device start, a token poll). A key file is created
without it: written whole, then published only if no other process has published one (``state_files``).
Every read goes through ``state_files.read_file``: a regular file, bounded, this user's.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from filelock import FileLock, Timeout
from pydantic import BaseModel

from okx_auth_mcp.core import bounded_json
from okx_auth_mcp.core.records import Unfit, validated
from okx_auth_mcp.edges.state_files import (
    RECOVER,
    StoreCorrupt,
    StoreError,
    StoreLockTimeout,
    UnsafeDirectory,
    UnsafeFile,
    check_directory,
    create_file,
    delete_file,
    irregular,
    make_directory,
    read_file,
    write_file,
)

__all__ = [
    "DEVICE_ID_FILE",
    "LOCK_FILE",
    "PENDING_FILE",
    "REGISTRATIONS_FILE",
    "SESSION_FILE",
    "STARTED_FILE",
    "USED_TICKETS_FILE",
    "StateStore",
    "StoreCorrupt",
    "StoreError",
    "StoreLockTimeout",
    "UnsafeDirectory",
    "UnsafeFile",
    "default_state_dir",
]

LOCK_TIMEOUT_SECONDS = 30.0
"""How long a process waits for the lock unless told otherwise (the service passes one request's worst case)."""
PENDING_FILE, SESSION_FILE, REGISTRATIONS_FILE = "pending.json", "session.json", "registrations.json"
STARTED_FILE = "okx-cli-login.json"
USED_TICKETS_FILE = "used-tickets.json"
DEVICE_ID_FILE = "device-id"
LOCK_FILE = "state.lock"
_KEY_LIMIT = 64
_HOLDER_LIMIT = 200

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


def _device_id_in(data: bytes) -> str | None:
    """The device id a ``device-id`` file holds: a UUID in its canonical form, else None (replaced)."""
    try:
        text = data.decode("ascii").strip()
        return text if str(uuid.UUID(text)) == text else None
    except ValueError:
        return None


def _key_in(data: bytes) -> bytes | None:
    return data if len(data) == 32 else None


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get("OKX_AUTH_MCP_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("okx-auth-mcp"))


class StateStore:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.directory = directory
        self._lock_timeout = lock_timeout
        self._purpose = ""
        self._lock = FileLock(
            str(directory / LOCK_FILE), timeout=lock_timeout, mode=0o600, on_acquired=self._record_holder
        )

    def ensure(self) -> None:
        """Create the directory 0700; ``UnsafeDirectory`` when it exists and others own or may change it."""
        make_directory(self.directory)

    # ----- the lock ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, purpose: str = "updating its state") -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a process). ``purpose`` is what another process that
        waits too long is told this one was doing."""
        self.ensure()
        lock_path = self.directory / LOCK_FILE
        if irregular(lock_path):
            raise StoreError(f"{lock_path} is not a regular file (a link?); delete it (nothing else is lost)")
        if not self._lock.is_locked:
            self._purpose = purpose
        try:
            with self._lock:
                yield
        except Timeout:
            raise StoreLockTimeout(
                f"{self._holder()} has held the state lock {lock_path} for more than {self._lock_timeout:.0f} s"
            ) from None
        except OSError as exc:
            if exc.filename is None or Path(exc.filename) != lock_path:
                raise
            raise StoreError(f"{lock_path} cannot be used: {exc.strerror}; delete it (nothing else is lost)") from None

    def _record_holder(self, fd: int) -> None:
        """Written into the lock file once it is ours: who holds it, for those who wait. From its second byte:
        on Windows filelock locks the first, which no other process may then read."""
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f" {os.getpid()} {self._purpose}"[:_HOLDER_LIMIT].encode("ascii", "replace"))

    def _holder(self) -> str:
        """``okx-auth-mcp process 1234 (refreshing the session)``, as far as the lock file tells."""
        try:
            with open(self.directory / LOCK_FILE, "rb") as handle:
                handle.seek(1)
                pid, _, purpose = handle.read(_HOLDER_LIMIT).decode("ascii", "replace").partition(" ")
        except OSError:
            pid, purpose = "", ""
        if not pid.isdigit():
            return "another okx-auth-mcp process"
        described = "".join(ch for ch in purpose if ch.isalnum() or ch in " -'") or "working"
        return f"okx-auth-mcp process {pid} ({described})"

    # ----- records -----------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.directory / name

    def _read(self, name: str, limit: int | None = None) -> bytes | None:
        if not check_directory(self.directory):
            return None
        return read_file(self._path(name)) if limit is None else read_file(self._path(name), limit)

    def read_json(self, name: str) -> dict[str, Any] | None:
        raw = self._read(name)
        if raw is None:
            return None
        try:
            data = bounded_json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError, JSONDecodeError, too deep, NaN, a number out of range
            raise StoreCorrupt(f"{self._path(name)} is not valid JSON; {RECOVER}") from None
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

    def corrupt(self, name: str, why: str) -> StoreCorrupt:
        """The error for a file whose record is well-formed but cannot be trusted (``why``)."""
        return StoreCorrupt(f"{self._path(name)} {why}; it was not used. {RECOVER[0].upper()}{RECOVER[1:]}")

    def write_model(self, name: str, record: BaseModel) -> None:
        self.write_json(name, record.model_dump(mode="json"))

    def write_json(self, name: str, data: Mapping[str, Any]) -> None:
        self.ensure()
        write_file(self.directory, name, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    def delete(self, name: str) -> bool:
        if not check_directory(self.directory):
            return False
        return delete_file(self.directory, name)

    # ----- keys --------------------------------------------------------------------------------------

    def rotate_ticket_key(self) -> None:
        """A new key: every ticket signed before is void (a logout ends every site choice made before it)."""
        self.ensure()
        write_file(self.directory, "ticket.key", secrets.token_bytes(32))

    def ticket_key(self) -> bytes:
        """The key that signs tickets (rotated by a logout)."""
        return self._created_once("ticket.key", _key_in, lambda: secrets.token_bytes(32))

    def request_state_key(self) -> bytes:
        """The key that seals the MCP SDK's request state across the rounds of a 2026-07-28 elicitation, so a
        retry may reach another server process on this directory, or a restarted one. Never rotated: it holds
        nothing past a round's ten minutes."""
        return self._created_once("request-state.key", _key_in, lambda: secrets.token_bytes(32))

    def device_id(self) -> str:
        """This installation's device id, for the ``TERMID`` header OKX wants on API calls with an OAuth token
        from a client device: a random UUID, created on first use and kept for good (a logout does not change
        it)."""
        return self._created_once(DEVICE_ID_FILE, _device_id_in, lambda: str(uuid.uuid4()).encode("ascii"))

    def _created_once(self, name: str, parse: Callable[[bytes], _T | None], make: Callable[[], bytes]) -> _T:
        """What ``name`` holds, created on first use without waiting for any lock: two processes that race
        both end up with the file the first one published. A damaged file (wrong size, not a file) holds
        nothing anyone relies on and is replaced; one that is another user's or writable by others is refused."""
        try:
            data = self._read(name, _KEY_LIMIT)
        except UnsafeFile:
            raise
        except StoreCorrupt:
            data = b""
        found = None if data is None else parse(data)
        if found is not None:
            return found
        fresh = make()
        value = parse(fresh)
        assert value is not None
        self.ensure()
        if data is not None:  # there, but damaged: replace it
            write_file(self.directory, name, fresh)
            return value
        if create_file(self.directory, name, fresh):
            return value
        published = self._read(name, _KEY_LIMIT)
        settled = None if published is None else parse(published)
        if settled is None:
            raise StoreCorrupt(f"{self._path(name)} was published damaged by another process; {RECOVER}")
        return settled
