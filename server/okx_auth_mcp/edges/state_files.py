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
from pathlib import Path

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


def check_directory(directory: Path) -> bool:
    """True when the state directory exists and is safe to use, False when it does not exist yet; raises
    ``StoreError`` when the path is not a directory, ``UnsafeDirectory`` when others own or may change it."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"state directory {directory} cannot be read: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise StoreError(
            f"the state directory {directory} is not a directory; move that file away, or set "
            "OKX_AUTH_MCP_STATE_DIR to another place"
        )
    if _foreign(info):
        raise UnsafeDirectory(
            f"the state directory {directory} belongs to another user (uid {info.st_uid}); nothing in it is "
            f"used. Run: chown -R $(id -un) {directory}"
        )
    if _writable_by_others(info):
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
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path)
    if _foreign(info):
        raise UnsafeFile(
            f"{path} belongs to another user (uid {info.st_uid}) and was not used; delete it (okx-auth-mcp "
            "logout does that for the session and a pending login)"
        )
    if _writable_by_others(info):
        raise UnsafeFile(
            f"{path} can be changed by other users (mode {stat.S_IMODE(info.st_mode):04o}) and was not used. "
            "Delete it (okx-auth-mcp logout does that for the session and a pending login) and log in again"
        )
    if info.st_size > limit:
        raise StoreCorrupt(f"{path} is larger than any file okx-auth-mcp writes; {RECOVER}")


def read_file(path: Path, limit: int = MAX_STATE_FILE_BYTES) -> bytes | None:
    """The bytes of a state file, None when there is none. ``StoreCorrupt`` for anything but a regular file of
    at most ``limit`` bytes, ``UnsafeFile`` for one that is another user's or writable by others."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}") from None
    _check_file(path, before, limit)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None  # replaced by a rename and gone between the two calls: nothing to read now
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            raise StoreCorrupt(f"{path} changed while it was read; try again")
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
    tmp = _private_temp(directory, name, data)
    try:
        os.replace(tmp, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(directory)


def create_file(directory: Path, name: str, data: bytes) -> bool:
    """Publish ``name`` with ``data`` only if it does not exist, whole or not at all: True when this call
    created it, False when another process had (its file is left as it is). Never waits for a lock."""
    tmp = _private_temp(directory, name, data)
    try:
        link = getattr(os, "link", None)
        if link is not None:
            link(tmp, directory / name)  # fails when the name exists: atomic create-exclusive, whole file
        else:
            os.rename(tmp, directory / name)  # Windows: refuses an existing target
            tmp = ""
    except FileExistsError:
        return False
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    fsync_directory(directory)
    return True


def delete_file(directory: Path, name: str) -> bool:
    """True when the file was there and is gone."""
    path = directory / name
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"{path} cannot be deleted: {exc.strerror}; remove it by hand") from None
    fsync_directory(directory)
    return True


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX; Windows cannot open a directory)."""
    o_directory = getattr(os, "O_DIRECTORY", None)
    if o_directory is None:
        return
    fd = os.open(directory, os.O_RDONLY | o_directory)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
