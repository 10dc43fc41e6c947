"""The state directory's files, one at a time: checked reads, atomic writes, create-once publishing.

Nothing here trusts what it finds. A read takes a regular file only (never a link, a pipe or a device; a
FIFO would hang a read, ``/dev/zero`` would never end one), at most ``MAX_STATE_FILE_BYTES`` of it, owned by
this user and not writable by others. The directory must be this user's and not writable by others too, as
OpenSSH's StrictModes asks of ``~/.ssh``: a looser one is refused with the ``chmod``/``chown`` to run, never
silently tightened (someone loosened it, and the user should know). This program creates the directory 0700
and every file 0600; ``diagnose`` flags any that others can read.

Portable: ``os.fchmod`` (Windows has it only from Python 3.13), ``O_NOFOLLOW``, ``O_DIRECTORY``, ``os.link``
and ``os.getuid`` are used where they exist; without them a file is chmodded by path, a link is refused by
``lstat`` alone, the directory is not fsynced (Windows cannot open one), a key file is published with
``os.rename`` (which on Windows refuses an existing target) and ownership is not checked (Windows has no
POSIX modes: its ACLs keep a profile's files to its user).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

MAX_STATE_FILE_BYTES = 64 * 1024
"""Far above anything this program writes (a session is about 2 KB)."""
RECOVER = "delete the file to start over (okx-auth-mcp logout does that for the session and a pending login)"
"""The advice every damaged-file error ends with."""


class StoreError(Exception):
    """The state directory cannot be used."""


class StoreCorrupt(StoreError):
    """A state file exists but does not hold what this program wrote (or is not a file at all)."""


class UnsafeFile(StoreCorrupt):
    """A state file another user owns or may change: not used (logout deletes it unread)."""


class UnsafeDirectory(StoreError):
    """The state directory is another user's, or others may change it: nothing in it is used."""


class StoreLockTimeout(StoreError):
    """Another process held the state lock for too long."""


def _posix_owner() -> int | None:
    getuid = getattr(os, "getuid", None)
    return None if getuid is None else int(getuid())


def _foreign(info: os.stat_result) -> bool:
    uid = _posix_owner()
    return uid is not None and info.st_uid != uid


def _writable_by_others(info: os.stat_result) -> bool:
    return _posix_owner() is not None and bool(stat.S_IMODE(info.st_mode) & 0o022)


Unfit = Literal["kind", "foreign", "writable_by_others", "too_large"]
"""Why a path may not hold secrets: not what it must be (a directory, a regular file), another user's, open to
others' changes, or larger than its contents can be."""


def unfit(info: os.stat_result, *, directory: bool, limit: int | None = None) -> Unfit | None:
    """The one check of a path that holds secrets, in the order a refusal names them; each caller words it (the
    state directory, a state file, OKX's config file and its directory)."""
    if not (stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)):
        return "kind"
    if _foreign(info):
        return "foreign"
    if _writable_by_others(info):
        return "writable_by_others"
    if limit is not None and info.st_size > limit:
        return "too_large"
    return None


def check_directory(directory: Path) -> bool:
    """True when the state directory exists and is safe to use, False when it does not exist yet; raises
    ``StoreError`` when the path is not a directory, ``UnsafeDirectory`` when others own or may change it."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"state directory {directory} cannot be read: {exc.strerror}") from None
    problem = unfit(info, directory=True)
    if problem == "kind":
        raise StoreError(
            f"the state directory {directory} is not a directory; move that file away, or set "
            "OKX_AUTH_MCP_STATE_DIR to another place"
        )
    if problem == "foreign":
        raise UnsafeDirectory(
            f"the state directory {directory} belongs to another user (uid {info.st_uid}); nothing in it is "
            f"used. Run: chown -R $(id -un) {directory}"
        )
    if problem == "writable_by_others":
        raise UnsafeDirectory(
            f"the state directory {directory} can be changed by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"nothing in it is used. Run: chmod 700 {directory}"
        )
    return True


def make_directory(directory: Path) -> None:
    """Create the state directory 0700 if it does not exist; check it if it does."""
    if check_directory(directory):
        return
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"state directory {directory} cannot be created: {exc.strerror}") from None
    check_directory(directory)


def _not_regular(path: Path) -> StoreCorrupt:
    return StoreCorrupt(f"{path} is not a regular file (a link, a pipe or a device); {RECOVER}")


def _check_file(path: Path, info: os.stat_result, limit: int) -> None:
    problem = unfit(info, directory=False, limit=limit)
    if problem == "kind":
        raise _not_regular(path)
    if problem == "foreign":
        raise UnsafeFile(
            f"{path} belongs to another user (uid {info.st_uid}) and was not used; delete it (okx-auth-mcp "
            "logout does that for the session and a pending login)"
        )
    if problem == "writable_by_others":
        raise UnsafeFile(
            f"{path} can be changed by other users (mode {stat.S_IMODE(info.st_mode):04o}) and was not used. "
            "Delete it (okx-auth-mcp logout does that for the session and a pending login) and log in again"
        )
    if problem == "too_large":
        raise StoreCorrupt(f"{path} is larger than any file okx-auth-mcp writes; {RECOVER}")


def irregular(path: Path) -> bool:
    """Whether something other than a regular file (a link, a FIFO, a directory) is at ``path``: a lock file
    that is one is refused, as filelock (``O_NOFOLLOW``) cannot use a link and a FIFO locks nothing shared."""
    return path.is_symlink() or (path.exists() and not path.is_file())


def read_file(path: Path, limit: int = MAX_STATE_FILE_BYTES) -> bytes | None:
    """The bytes of a state file, None when there is none. ``StoreCorrupt`` for anything but a regular file of
    at most ``limit`` bytes, ``UnsafeFile`` for one that is another user's or writable by others. A file
    replaced by another process between the check and the read is read again (files are replaced whole)."""
    for _ in range(_READ_ATTEMPTS):
        try:
            return _read_once(path, limit)
        except _Replaced:
            continue
    raise StoreError(f"{path} kept changing while it was read; try again")


class _Replaced(Exception):
    """The name pointed to another file when it was opened than when it was checked."""


_READ_ATTEMPTS = 5


def _read_once(path: Path, limit: int) -> bytes | None:
    try:
        before = _sharing(lambda: os.lstat(path))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}") from None
    _check_file(path, before, limit)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = _sharing(lambda: os.open(path, flags))
    except FileNotFoundError:
        return None  # deleted between the two calls: nothing to read now
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            raise _Replaced
        _check_file(path, info, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise StoreCorrupt(f"{path} is larger than any file okx-auth-mcp writes; {RECOVER}")
    return b"".join(chunks)


_T = TypeVar("_T")
SHARING_VIOLATIONS = os.name == "nt"
"""Windows refuses to replace, delete or open a file while another process has it open without sharing (a
reader for a few microseconds): such a call is retried for up to ``_SHARING_WAIT`` seconds there."""
_SHARING_WAIT = 1.0


def _sharing(call: Callable[[], _T]) -> _T:
    """``call()``, retried on Windows while it fails on a sharing violation (``PermissionError``)."""
    deadline = time.monotonic() + _SHARING_WAIT
    while True:
        try:
            return call()
        except PermissionError:
            if not SHARING_VIOLATIONS or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _unwritable(path: Path, exc: OSError) -> StoreError:
    return StoreError(
        f"{path} cannot be written: {exc.strerror or type(exc).__name__}; if it is a directory or "
        "not a file, remove it (the disk may also be full or read-only)"
    )


def _private_temp(directory: Path, name: str, data: bytes) -> str:
    """A fully written, fsynced 0600 temporary file next to ``name``: its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        fchmod = getattr(os, "fchmod", None)
        if fchmod is not None:
            fchmod(fd, 0o600)
        else:
            os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_file(directory: Path, name: str, data: bytes) -> None:
    """Replace ``name`` atomically: the old file or the new one, never a torn one, whatever happens."""
    try:
        tmp = _private_temp(directory, name, data)
    except OSError as exc:
        raise _unwritable(directory / name, exc) from None
    try:
        _sharing(lambda: os.replace(tmp, directory / name))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _unwritable(directory / name, exc) from None
        raise
    fsync_directory(directory)


def create_file(directory: Path, name: str, data: bytes) -> bool:
    """Publish ``name`` with ``data`` only if it does not exist, whole or not at all: True when this call
    created it, False when another process had (its file is left as it is). Never waits for a lock.

    A hard link publishes it (it fails when the name exists). Where there is none (``os.link`` missing, or a
    file system without hard links: FAT, some network shares), ``os.rename``, which on Windows refuses an
    existing target too; elsewhere it replaces, so two processes racing on such a file system may each keep
    its own key once (a ticket of the one is then refused by the other, and the menu is shown again)."""
    target = directory / name
    try:
        tmp = _private_temp(directory, name, data)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        created = _publish(tmp, target)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # after a rename it is gone already
    if created:
        fsync_directory(directory)
    return created


def _publish(tmp: str, target: Path) -> bool:
    """``tmp`` under the name ``target`` unless that exists (False)."""
    link = getattr(os, "link", None)
    if link is not None:
        try:
            link(tmp, target)
            return True
        except FileExistsError:
            return False
        except OSError:
            pass  # no hard links on this file system
    try:
        os.rename(tmp, target)
    except FileExistsError:
        return False
    return True


def delete_file(directory: Path, name: str) -> bool:
    """True when the file was there and is gone."""
    path = directory / name
    try:
        _sharing(path.unlink)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"{path} cannot be deleted: {exc.strerror}; remove it by hand") from None
    fsync_directory(directory)
    return True


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX; Windows cannot open a directory). Best effort:
    the change is made already, and a directory that cannot be opened (mode 0300) or synced (some network and
    FUSE file systems) is no reason to call it failed."""
    o_directory = getattr(os, "O_DIRECTORY", None)
    if o_directory is None:
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | o_directory)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
