"""The operating system's keyring, for the secrets of the state directory: the OAuth session's tokens and a
pending login's device code. Through the ``keyring`` library's public API only (``get_keyring``,
``get_password``, ``set_password``, ``delete_password``): the macOS Keychain, the Windows Credential Locker, the
freedesktop Secret Service on Linux.

An entry per record and write: service ``okx-auth-mcp``, user name ``<kind>:<site>:<entry id>`` (``session`` or
``pending``; the id is random, new at every write, and the state file names it), so the label the Secret
Service shows (``Password for 'session:eea:3f9c...' on 'okx-auth-mcp'``) names the program and the site, never a
token, and a write that lands late (from a call that timed out, in any process) lands where nothing reads. The
value is a small JSON object of the secrets.

Every call has a bounded wait (``timeout``): a locked collection makes the Secret Service prompt or hang, and a
tool call must not. Past it, :class:`KeyringLocked`; any other failure of the backend, :class:`KeyringFailed`.
The call that timed out is left to finish in a daemon thread (the library has no way to cancel it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from okx_auth_mcp.edges.state_files import StoreError

SERVICE = "okx-auth-mcp"
LOCKED_ERRORS = frozenset({"KeyringLocked", "LockedException"})
"""What keyring (``keyring.errors.KeyringLocked``) and secretstorage (``LockedException``) raise for a locked
collection that refused to unlock, by name: the backends differ by platform, and none is imported here."""
DEFAULT_TIMEOUT_SECONDS = 10.0

_T = TypeVar("_T")


class KeyringError(StoreError):
    """The keyring could not be used (a state-store failure: what holds the secrets cannot be used)."""


class KeyringUnavailable(KeyringError):
    """No real keyring backend answers here (none installed, only keyring's fail or null backends, or a
    plaintext keyrings.alt one)."""


class KeyringLocked(KeyringError):
    """The keyring did not answer within the bounded wait: locked (waiting on an unlock prompt) or hung."""


class KeyringFailed(KeyringError):
    """The keyring answered with an error (a locked collection that refused, the daemon gone, D-Bus)."""


def backend_name() -> str | None:
    """The name of the real backend ``keyring`` would use here (``SecretService``, ``macOS``, ``Windows``...), or
    None when there is none. Loading the library's backends costs a few tens of milliseconds: done on first use."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        real = [b for b in backend.backends if not isinstance(b, (fail.Keyring, null.Keyring))]
        backend = real[0] if real else backend
    if isinstance(backend, (fail.Keyring, null.Keyring, chainer.ChainerBackend)):
        return None
    if type(backend).__module__.startswith("keyrings.alt"):  # plaintext or weakly encrypted files
        return None
    return type(backend).__module__.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Keyring:
    """The keyring's entries of okx-auth-mcp; ``timeout`` bounds each call."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @staticmethod
    def user(kind: str, site: str, entry: str) -> str:
        return f"{kind}:{site}:{entry}"

    def get(self, kind: str, site: str, entry: str) -> str | None:
        import keyring

        return self._bounded(lambda: keyring.get_password(SERVICE, self.user(kind, site, entry)))

    def set(self, kind: str, site: str, entry: str, value: str) -> None:
        import keyring

        self._bounded(lambda: keyring.set_password(SERVICE, self.user(kind, site, entry), value))

    def delete(self, kind: str, site: str, entry: str) -> bool:
        """True when there was an entry to delete."""
        import keyring
        from keyring.errors import PasswordDeleteError

        def delete() -> bool:
            try:
                keyring.delete_password(SERVICE, self.user(kind, site, entry))
            except PasswordDeleteError:
                return False
            return True

        return self._bounded(delete)

    def _bounded(self, call: Callable[[], _T]) -> _T:
        """``call`` in a worker thread, waited for at most ``timeout``. While a call that timed out is still
        running, no other starts: the stuck one may be a write, and one started after it could finish first,
        leaving the older secrets in the keyring when it completes."""
        with _stuck_lock:
            if any(worker.is_alive() for worker in _stuck):
                raise KeyringLocked("an earlier keyring call has not finished (the keyring is locked or hung)")
            _stuck.clear()
        outcome: list[_T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(call())
            except Exception as exc:  # the backend's errors vary by platform: all of them are a failed call
                failure.append(exc)

        worker = threading.Thread(target=run, name="okx-auth-mcp keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            with _stuck_lock:
                _stuck.append(worker)
            raise KeyringLocked(
                f"the keyring did not answer within {self.timeout:g} s (a locked keyring waits for its unlock prompt)"
            )
        if failure:
            name = type(failure[0]).__name__
            if name in LOCKED_ERRORS:
                raise KeyringLocked(f"the keyring is locked ({name})") from None
            raise KeyringFailed(f"the keyring refused ({name})") from None
        return outcome[0]


_stuck: list[threading.Thread] = []
"""Keyring calls of this process that timed out and still run (the library cannot cancel them)."""
_stuck_lock = threading.Lock()
