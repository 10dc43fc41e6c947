"""Where the native backend keeps its secrets: the OAuth session's tokens and a pending login's device code go
to the OS keyring (``edges.secret_store``) or stay in the 0600 state file, as ``OKX_AUTH_STORAGE`` says.

A record written with the keyring keeps in its file everything but the secrets, ``"storage": "keyring"`` and
``"entry"``: the id of the keyring entry that holds them (random, new at every write). Written to the file,
``"storage": "file"`` and the secrets beside the rest (a file of an earlier version, with no ``storage``, is the
same).

- ``auto`` uses the keyring when a real backend answers, else the file; ``keyring`` without one (or locked) is
  an error before a login starts, and a pending login's device code never falls back to the file; ``file``
  never writes the keyring, and moves a record that was there back out at its next write.
- A write (the caller holds the state lock): the file first gains ``"next_entry"``, the new entry's id; then
  the entry is written; then the file names it as ``entry`` and loses the secrets it had; then the old entry
  goes. Killed anywhere after the entry is written, the next read finds the new secrets through
  ``next_entry``. A write that lands late (a call that timed out, here or in another process) lands under an
  id no file names.
- When the keyring refuses a write after the server answered (a locked collection, the daemon gone, a D-Bus
  timeout), the record goes to the file whole, with a warning, and the next write that succeeds moves it
  back. Nothing is lost either way.
- A read of a record whose secrets are in the keyring never falls back to anything: a keyring that does not
  answer in time, or is locked, is ``[keyring_locked]``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets as random
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
ENTRY_RE = re.compile(r"^[0-9a-f]{32}\Z")
MARKERS = ("storage", "entry", "next_entry")
"""What a state file holds about where its secrets are (never part of the record itself)."""


class TokenStorage:
    """The choice of ``settings.storage``, made on first use (loading the keyring library costs start-up time)."""

    def __init__(self, settings: Settings, store: StateStore) -> None:
        self.settings = settings
        self.store = store
        self.keyring = Keyring(settings.keyring_timeout)
        self._chosen: tuple[Keyring | None, str] | None = None

    def chosen(self) -> tuple[Keyring | None, str]:
        """The keyring when secrets go there (else None), and the words ``status`` shows for it. With
        ``OKX_AUTH_STORAGE=keyring``, one bounded call proves it answers (a locked one is ``[keyring_locked]``)."""
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
        if self.settings.storage == "keyring":
            self.keyring.get("probe", "none", "0" * 32)
        return self.keyring, f"keyring ({name})"

    def describe(self, name: str) -> str:
        """Where the record ``name`` keeps its secrets (or the next one would), in the words ``status`` shows."""
        data = self._raw(name)
        stored = None if data is None else data.get("storage")
        if stored == "keyring":
            return f"keyring ({backend_name()})"
        keyring, words = self.chosen()
        if keyring is None or data is None:
            return words
        if stored == "file":
            return "file (the keyring refused the last write; the next one moves it back)"
        return "file (written by an earlier version; its next write moves it to the keyring)"

    # ----- a record's file data, with its secrets -----------------------------------------------------

    def merged(self, name: str, kind: Kind, data: Mapping[str, Any]) -> dict[str, Any]:
        """The record's data with its secrets, from wherever the file says they are."""
        record = {key: value for key, value in data.items() if key not in MARKERS}
        if data.get("storage") != "keyring":
            return record
        site = data.get("site")
        if site not in SITE_IDS:
            raise self.store.corrupt(name, "names no site, so its secrets cannot be found")
        for marker in ("next_entry", "entry"):
            entry = data.get(marker)
            if entry is None:
                continue
            if not isinstance(entry, str) or not ENTRY_RE.match(entry):
                raise self.store.corrupt(name, f"names a keyring entry ({marker}) okx-auth-mcp did not write")
            raw = self.keyring.get(kind, str(site), entry)
            if raw is not None:
                return {**record, **self._secrets(name, kind, raw)}
        if all(record.get(field) is not None for field in SECRET_FIELDS[kind][:1]):
            return record  # a move to the keyring that did not get as far as the entry: the file's own
        raise self.store.corrupt(name, "says its secrets are in the keyring, which has none for it")

    def _secrets(self, name: str, kind: Kind, raw: str) -> dict[str, Any]:
        try:
            secrets = json.loads(raw)
        except ValueError:
            secrets = None
        if not isinstance(secrets, dict) or not secrets or set(secrets) - set(SECRET_FIELDS[kind]):
            raise self.store.corrupt(name, "has a keyring entry that is not what okx-auth-mcp wrote")
        return secrets

    def write(self, name: str, kind: Kind, data: Mapping[str, Any]) -> Storage:
        """Write the record (the caller holds the lock); where its secrets went."""
        keyring, _ = self.chosen()
        site = str(data["site"])
        old = self._raw(name)
        public = {key: value for key, value in data.items() if key not in SECRET_FIELDS[kind]}
        secrets = {key: data[key] for key in SECRET_FIELDS[kind] if data.get(key) is not None}
        if keyring is None or not secrets:  # OKX_AUTH_STORAGE=file, or nothing secret (a redirect login's record)
            self.store.write_json(name, {**data, "storage": "file"})
            self._forget_entries(kind, old)  # OKX_AUTH_STORAGE=file: the explicit way back out
            return "file"
        entry = random.token_hex(16)
        try:
            if old is not None:  # what a read finds once the entry exists, even if nothing after it happens
                self.store.write_json(name, {**old, "storage": "keyring", "next_entry": entry})
            keyring.set(kind, site, entry, json.dumps(secrets))
        except KeyringError as exc:
            if kind == "pending" and self.settings.storage == "keyring":
                raise  # a device code can be asked for again: nothing to save from loss
            log.warning("the keyring refused the %s's secrets (%s); they are in the 0600 state file for now", kind, exc)
            self.store.write_json(name, {**data, "storage": "file"})
            return "file"
        self.store.write_json(name, {**public, "storage": "keyring", "entry": entry})
        self._forget_entries(kind, old)
        return "keyring"

    def delete(self, name: str, kind: Kind) -> bool:
        """Delete the record's file, then its keyring entries (a logout, an ended grant, a finished login).
        True when there was a file."""
        old = self._raw(name)
        deleted = self.store.delete(name)
        self._forget_entries(kind, old)
        return deleted

    def _raw(self, name: str) -> dict[str, Any] | None:
        """The file as JSON; None when there is none, or when it is damaged (it is then rewritten or removed
        unread: logout is the recovery from damaged state)."""
        try:
            return self.store.read_json(name)
        except StoreCorrupt:
            return None

    def _forget_entries(self, kind: Kind, old: Mapping[str, Any] | None) -> None:
        """The keyring entries ``old`` named, if any. Best effort: one that cannot be removed holds a pair no
        file names (rotated away, or revoked by the logout)."""
        if old is None or old.get("storage") != "keyring" or old.get("site") not in SITE_IDS:
            return
        for marker in ("entry", "next_entry"):
            entry = old.get(marker)
            if isinstance(entry, str) and ENTRY_RE.match(entry):
                try:
                    self.keyring.delete(kind, str(old["site"]), entry)
                except KeyringError as exc:
                    log.warning("could not remove the %s's old keyring entry (%s)", kind, exc)
