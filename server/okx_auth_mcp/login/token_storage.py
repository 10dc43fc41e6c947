"""Where the native backend keeps its secrets: the OAuth session's tokens and a pending login's device code go
to the OS keyring (``edges.secret_store``) or stay in the 0600 state file, as ``OKX_AUTH_STORAGE`` says.

A record written with the keyring keeps in its file everything but the secrets, and ``"storage": "keyring"``;
its secrets are one keyring entry (per state directory, kind and site). Written to the file, ``"storage":
"file"`` and the secrets beside the rest (a file of an earlier version, with no ``storage``, is the same).

- ``auto`` uses the keyring when a real backend answers, else the file; ``keyring`` without one is
  ``[storage_unavailable]``, before anything is written; ``file`` never touches the keyring, but removes an
  entry a record it rewrites came from (the explicit way back out).
- A write goes to the keyring first, then the file: a reader (reads take no lock) that meets the new file
  finds the new secrets. When the keyring write fails (a locked collection, the daemon gone, a D-Bus timeout)
  after the server answered, the record goes to the file whole, with a warning, and the next write that
  succeeds moves it back. Nothing is lost either way.
- A read of a record whose secrets are in the keyring never falls back to anything: a keyring that does not
  answer in time is ``[keyring_locked]``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Literal

from okx_auth_mcp.core.sites import SITE_IDS
from okx_auth_mcp.edges.secret_store import Keyring, KeyringError, KeyringUnavailable, backend_name
from okx_auth_mcp.edges.state_store import StateStore, StoreCorrupt
from okx_auth_mcp.login.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["session", "pending"]
SECRET_FIELDS: dict[Kind, tuple[str, ...]] = {
    "session": ("access_token", "refresh_token"),
    "pending": ("device_code",),
}
Storage = Literal["keyring", "file"]


class TokenStorage:
    """The choice of ``settings.storage``, made on first use (loading the keyring library costs start-up time)."""

    def __init__(self, settings: Settings, store: StateStore) -> None:
        self.settings = settings
        self.store = store
        self._chosen: tuple[Keyring | None, str] | None = None

    @property
    def keyring(self) -> Keyring:
        return Keyring(str(self.settings.state_dir), self.settings.keyring_timeout)

    def chosen(self) -> tuple[Keyring | None, str]:
        """The keyring when secrets go there (else None), and the words ``status`` shows for it."""
        if self._chosen is None:
            self._chosen = self._choose()
        return self._chosen

    def _choose(self) -> tuple[Keyring | None, str]:
        if self.settings.storage == "file":
            return None, "file (OKX_AUTH_STORAGE=file)"
        name = backend_name()
        if name is None:
            if self.settings.storage == "keyring":
                raise KeyringUnavailable(
                    "OKX_AUTH_STORAGE=keyring, but no keyring answers here (on Linux: a Secret Service such as "
                    "gnome-keyring in the desktop session)"
                )
            return None, "file (no keyring available)"
        return self.keyring, f"keyring ({name})"

    def describe(self, name: str) -> str:
        """Where the record ``name`` keeps its secrets, in the words ``status`` shows."""
        stored = self._storage_of(name)
        if stored == "keyring":
            return f"keyring ({backend_name()})"
        keyring, words = self.chosen()
        if keyring is not None and stored == "file":
            return "file (the keyring refused the last write; the next one moves it back)"
        return words

    # ----- a record's file data, with its secrets -----------------------------------------------------

    def merged(self, name: str, kind: Kind, data: Mapping[str, Any]) -> dict[str, Any]:
        """The record's data with its secrets, from wherever ``storage`` says they are."""
        if data.get("storage") != "keyring":
            return dict(data)
        site = data.get("site")
        if site not in SITE_IDS:
            raise self.store.corrupt(name, "names no site, so its secrets cannot be found")
        raw = self.keyring.get(kind, str(site))
        if raw is None:
            raise self.store.corrupt(name, "says its secrets are in the keyring, which has none for it")
        try:
            secrets = json.loads(raw)
        except ValueError:
            secrets = None
        if not isinstance(secrets, dict) or set(secrets) - set(SECRET_FIELDS[kind]):
            raise self.store.corrupt(name, "has keyring secrets that are not what okx-auth-mcp wrote")
        return {**data, **secrets}

    def write(self, name: str, kind: Kind, data: Mapping[str, Any]) -> Storage:
        """Write the record (the caller holds the lock); where its secrets went."""
        keyring, _ = self.chosen()
        site = str(data["site"])
        if keyring is None:
            previous = self._storage_of(name)
            self.store.write_json(name, {**data, "storage": "file"})
            if previous == "keyring":  # OKX_AUTH_STORAGE=file: the explicit way back out
                self._forget(kind, site)
            return "file"
        public = {key: value for key, value in data.items() if key not in SECRET_FIELDS[kind]}
        secrets = {key: data[key] for key in SECRET_FIELDS[kind] if data.get(key) is not None}
        try:
            keyring.set(kind, site, json.dumps(secrets))
        except KeyringError as exc:
            log.warning("the keyring refused the %s's secrets (%s); they are in the 0600 state file for now", kind, exc)
            self.store.write_json(name, {**data, "storage": "file"})
            return "file"
        self.store.write_json(name, {**public, "storage": "keyring"})
        return "keyring"

    def _storage_of(self, name: str) -> object:
        try:
            data = self.store.read_json(name)
        except StoreCorrupt:
            return None
        return None if data is None else data.get("storage")

    def delete(self, name: str, kind: Kind) -> bool:
        """Delete the record's file, then its keyring entry if it had one (a logout, an ended grant). True when
        there was a file."""
        try:
            data = self.store.read_json(name)
        except StoreCorrupt:
            data = None  # removed unread: logout is the recovery from damaged state
        deleted = self.store.delete(name)
        site = None if data is None else data.get("site")
        if data is not None and data.get("storage") == "keyring" and site in SITE_IDS:
            self._forget(kind, str(site))
        return deleted

    def forget_all(self) -> None:
        """Remove every keyring entry of this state directory (logout: also those of records that were damaged),
        unless the secrets never go to the keyring here."""
        if self.settings.storage == "file" or backend_name() is None:
            return
        for kind in SECRET_FIELDS:
            for site in SITE_IDS:
                self._forget(kind, site)

    def _forget(self, kind: Kind, site: str) -> None:
        """Best effort: a keyring that refuses leaves an entry no record points to (and a revoked token in it)."""
        try:
            self.keyring.delete(kind, site)
        except KeyringError as exc:
            log.warning("could not remove the %s's keyring entry for %s (%s)", kind, site, exc)
