"""The one writer of OKX's config file, ``$OKX_HOME/config.toml`` (default ``~/.okx``): read with ``tomllib``,
changed as data (``core.okx_config_edit``), written with ``tomli-w``.

- Under a lock of its own next to the file (``config.toml.lock``, a bounded wait), so two writers never
  lose each other's change; the file is read again just before it is replaced, and a change made meanwhile
  (by OKX's own wizard, an editor) is met by doing the edit once more, then refused.
- Atomic (a private temporary file, fsync, rename) and 0600; a directory it creates is 0700. A symlinked
  ``config.toml`` has its target written (with the same owner and mode checks); the link stays a link.
- A file it cannot parse is never overwritten: ``[config_error]`` with the line. Before a rewrite that would
  lose more than the change (comments, layout: tomli-w keeps none), before a save that may replace a profile,
  and before every removal, a 0600 copy of the file as it was is kept, never over an earlier one
  (``config.toml.bak``, then ``config.toml.bak-<UTC time>[-n]``). The result says which.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import filelock
import tomli_w

from okx_auth_mcp.core.okx_config_edit import (
    ConfigChanged,
    NewProfile,
    with_profile,
    without_profile,
)
from okx_auth_mcp.core.okx_profiles import ConfigError, ConfigParseError
from okx_auth_mcp.edges.okx_config import config_path
from okx_auth_mcp.edges.state_files import (
    StoreError,
    Unfit,
    create_file,
    make_directory,
    read_file,
    unfit,
    write_file,
)

BackupRule = Literal["removal", "replace", "if_lossy"]
LOCK_TIMEOUT_SECONDS = 5.0
MAX_CONFIG_BYTES = 1024 * 1024
MAX_BACKUPS_PER_SECOND = 100


@dataclass(frozen=True)
class Written:
    path: Path
    """The file written (a symlink's target)."""
    backup: Path | None = None
    """The copy of the file as it was, when one was kept."""
    replaced: bool = False
    """Whether a profile of that name was replaced (``save_profile``)."""


def save_profile(
    environ: Mapping[str, str], profile: NewProfile, *, replace: bool = False, make_default: bool = False
) -> Written:
    """Add ``profile`` (or, with ``replace``, put it in the place of the one of that name); with
    ``make_default``, ``default_profile`` names it (as OKX's own wizard does)."""
    replaced: list[bool] = []

    def change(document: dict[str, Any]) -> dict[str, Any]:
        changed, existed = with_profile(document, profile.checked(), replace=replace, make_default=make_default)
        replaced[:] = [existed]
        return changed

    written = _edit(environ, change, backup="replace" if replace else "if_lossy")  # a replaced key is kept too
    return Written(written.path, written.backup, replaced[0])


def remove_profile(environ: Mapping[str, str], name: str, *, expected_digest: str | None = None) -> Written:
    """Remove the profile ``name`` (and ``default_profile`` when it named it); a timestamped copy is kept.
    With ``expected_digest`` (:func:`config_digest` when the user was asked), a file changed since is refused
    (:class:`ConfigChanged`), unchanged."""
    return _edit(
        environ,
        lambda document: without_profile(document, name),
        backup="removal",
        expected_digest=expected_digest,
    )


def config_digest(environ: Mapping[str, str]) -> str:
    """A digest of the config file's bytes as they are now (of "no file" when there is none), after the same
    checks as a write (the directory's too): what a confirmation is bound to, so that any change to the file
    voids it; and what a wizard runs before it asks for a secret."""
    path = _target(config_path(environ))
    _check_home(path.parent)
    return _digest(_read(path))


@dataclass(frozen=True)
class Snapshot:
    """The config file as it is now."""

    path: Path
    """The file (a symlink's target)."""
    digest: str
    """:func:`config_digest`'s, of the bytes parsed."""
    document: dict[str, Any]


def read_config(environ: Mapping[str, str]) -> Snapshot:
    """The config file parsed (empty when there is none) with the digest of the bytes read, after the same checks
    as a write; a file it cannot parse is :class:`ConfigParseError`. What a question about a change is asked on."""
    path = _target(config_path(environ))
    _check_home(path.parent)
    raw = _read(path)
    return Snapshot(path, _digest(raw), _parse(path, raw))


def _digest(raw: bytes | None) -> str:
    return "none" if raw is None else hashlib.sha256(raw).hexdigest()


def _edit(
    environ: Mapping[str, str],
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    backup: BackupRule,
    expected_digest: str | None = None,
) -> Written:
    path = _target(config_path(environ))
    with _locked(path):
        for _ in range(2):
            before = _read(path)
            if expected_digest is not None and _digest(before) != expected_digest:
                raise ConfigChanged(f"{path} changed after the user confirmed; it was not changed. Ask the user again")
            document = _parse(path, before)
            data = tomli_w.dumps(change(document)).encode("utf-8")
            if _read(path) != before:
                continue  # changed while we worked: once more, on what it is now
            kept = _backup(path, before, document, backup)
            _write(path, data)
            return Written(path, kept)
    raise ConfigError(f"{path} kept changing while it was being written; it was not changed. Try again")


def _target(path: Path) -> Path:
    """The file to write: a symlink's target (the link itself is never replaced)."""
    try:
        return path.resolve(strict=False) if path.is_symlink() else path
    except (OSError, RuntimeError) as exc:  # a loop of links: RuntimeError before Python 3.13, OSError after
        raise ConfigError(f"{path} is a symbolic link that cannot be followed ({exc}); it was not changed") from None


def _check_home(directory: Path) -> None:
    """The config file's directory, in its own words (the state directory's checks name the state directory):
    a directory, this user's, writable by nobody else, and by this user. One that does not exist yet is made
    0700 when the file is written."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"{directory} cannot be read: {exc.strerror}") from None
    problem = unfit(info, directory=True)
    if problem is not None:
        kind = f"{directory}, where OKX keeps config.toml, is not a directory; nothing was changed"
        raise _refusal(directory, info, problem, kind, "nothing was changed", "chmod 700")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"{directory} is read-only for you; nothing was changed")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    _check_home(path.parent)
    try:
        make_directory(path.parent)
        lock = filelock.FileLock(str(path.with_name(path.name + ".lock")), timeout=LOCK_TIMEOUT_SECONDS, mode=0o600)
        with lock:
            yield
    except filelock.Timeout:
        raise ConfigError(f"another program is writing {path}; try again in a moment") from None
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path.parent} cannot be written: {exc.strerror}") from None


def _read(path: Path) -> bytes | None:
    """The file's bytes (None when there is none), after the checks a file holding secrets must pass: this
    user's, and writable by nobody else (the state files' reader adds: a regular file, a bounded size)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    # Said here in the config file's own words: the state files' reader would advise deleting the file.
    problem = unfit(info, directory=False, limit=MAX_CONFIG_BYTES)
    if problem is not None:
        kind = f"{path} is not a regular file (a directory, a pipe, a device?); it was not changed"
        raise _refusal(path, info, problem, kind, "it was not changed", "chmod 600")
    try:
        return read_file(path, MAX_CONFIG_BYTES)
    except StoreError as exc:
        raise ConfigError(str(exc)) from None


def _refusal(path: Path, info: os.stat_result, problem: Unfit, kind: str, unchanged: str, chmod: str) -> ConfigError:
    """``state_files.unfit``'s finding about OKX's config file or its directory, in their own words."""
    if problem == "kind":
        return ConfigError(kind)
    if problem == "foreign":
        return ConfigError(f"{path} belongs to another user; {unchanged} (chown it back to your user)")
    if problem == "writable_by_others":
        mode = oct(stat.S_IMODE(info.st_mode))[2:]
        return ConfigError(f"{path} can be changed by other users (mode {mode}); {unchanged}: {chmod} {path}")
    return ConfigError(f"{path} is larger than an OKX config file can be ({MAX_CONFIG_BYTES} bytes); {unchanged}")


def _parse(path: Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigParseError(f"{path} is not UTF-8 text; it was not changed") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigParseError(f"{path} is not valid TOML ({exc}); it was not changed") from None


def _backup(path: Path, before: bytes | None, document: dict[str, Any], rule: BackupRule) -> Path | None:
    """A 0600 copy of the file as it was: always before a removal or a save that may replace a profile; before
    another save, when the rewrite would lose anything but the change (comments, layout: the file is not as
    tomli-w writes what it holds). The copy never replaces an earlier one (an exclusive create): for a save
    ``config.toml.bak`` first, then (and for a removal) ``config.toml.bak-<UTC time>``, ``...-2`` and so on."""
    lossy = before is not None and tomli_w.dumps(document).encode("utf-8") != before
    if before is None or (rule == "if_lossy" and not lossy):
        return None
    timestamped = rule == "removal"
    stamp = f"{path.name}.bak-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    names = ([] if timestamped else [f"{path.name}.bak"]) + [stamp]
    names += (f"{stamp}-{count}" for count in range(2, MAX_BACKUPS_PER_SECOND + 1))
    for name in names:
        try:
            if create_file(path.parent, name, before):
                return path.with_name(name)
        except StoreError as exc:
            raise ConfigError(str(exc)) from None
    raise ConfigError(f"{path} has {MAX_BACKUPS_PER_SECOND} backups of this second already; it was not changed")


def _write(path: Path, data: bytes) -> None:
    try:
        write_file(path.parent, path.name, data)
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
