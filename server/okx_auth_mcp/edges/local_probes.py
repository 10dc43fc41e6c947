"""The local I/O behind ``diagnose``: the OKX config file, the proxy variables, the state directory's modes
and its lock, reduced to the facts of :mod:`okx_auth_mcp.core.diagnosis.facts`.

Read-only: it reads the config file and the environment, lists the state directory, and takes the state lock
for an instant (only when the directory exists; like every command, that may create ``state.lock``). Nothing
secret is recorded: the config's keys are reduced to "has a key", proxy URLs lose their credentials. Every
failure becomes a fact, never an exception.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from filelock import FileLock, Timeout

from okx_auth_mcp.core import okx_profiles
from okx_auth_mcp.core.diagnosis.facts import ConfigFacts, ProfileFacts, StateDirFacts, Step
from okx_auth_mcp.core.diagnosis.urls import clean_url, redact_proxy
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.state_files import irregular
from okx_auth_mcp.edges.state_store import LOCK_FILE

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
"""Shown in either case (``https_proxy`` ...), as the HTTP client reads both."""
ENV_CREDENTIALS = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")


def mode_of(path: Path) -> int | None:
    """``path``'s permission bits; None off POSIX."""
    if os.name != "posix":
        return None
    return stat.S_IMODE(path.stat().st_mode)


def config_facts(environ: Mapping[str, str]) -> tuple[ConfigFacts, okx_profiles.Profile | None]:
    """The config file and the environment's credentials, reduced to what may be shown; and the API-key
    profile in effect, unreduced, for the caller to work out where its key goes (``key_target`` and
    ``key_site`` are left unset here)."""
    path = okx_config.config_path(environ)
    exists = path.is_file()
    mode = mode_of(path) if exists else None
    file_only = {k: v for k, v in environ.items() if k not in ENV_CREDENTIALS}
    env_error = None
    try:
        cfg = okx_config.load(environ)
    except okx_profiles.PartialEnvCredentials as exc:
        env_error = str(exc)
        try:
            cfg = okx_config.load(file_only)
        except okx_profiles.ConfigError as file_exc:
            return ConfigFacts(str(path), exists, mode, None, str(file_exc), env_error), None
    except okx_profiles.ConfigError as exc:
        return ConfigFacts(str(path), exists, mode, None, str(exc), env_error), None
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
    facts = ConfigFacts(
        path=str(path),
        exists=exists,
        mode=mode,
        holds_secrets=holds,
        env_error=env_error,
        default_profile=cfg.default_profile,
        profiles=tuple(profiles),
        in_effect=None if keyed is None else keyed.name,
    )
    return facts, keyed


def proxy_env(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The proxy variables that are set (in ``environ``, else this process's environment, which the HTTP
    client reads), URLs redacted (``NO_PROXY`` is a host list, shown as it is)."""
    env = os.environ if environ is None else environ
    found = []
    for upper in PROXY_VARIABLES:
        for name in (upper, upper.lower()):
            value = env.get(name)
            if value:
                found.append((name, value if upper == "NO_PROXY" else redact_proxy(value)))
    return tuple(found)


def state_dir_facts(directory: Path, lock_wait: float) -> StateDirFacts:
    """The state directory's mode, its files' modes, and whether its lock can be taken within ``lock_wait``
    seconds. A missing directory is not created."""
    posix = os.name == "posix"
    if not directory.is_dir():
        exists = os.path.lexists(directory)
        return StateDirFacts(str(directory), exists=exists, posix=posix, is_directory=not exists)
    getuid = getattr(os, "getuid", None)
    owner = directory.stat().st_uid
    if getuid is not None and owner != getuid():
        return StateDirFacts(str(directory), exists=True, posix=posix, foreign_owner=owner)
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
        mode=mode_of(directory),
        files=tuple(files),
        lock=_lock_probe(directory / LOCK_FILE, lock_wait),
    )


def _lock_probe(path: Path, wait: float) -> Step:
    """Take the state lock and release it at once, waiting at most ``wait`` seconds. A lock file that is no
    regular file is refused, as every command refuses it."""
    if irregular(path):
        return Step(error="it is not a regular file (a link?); delete it (nothing else is lost)")
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
