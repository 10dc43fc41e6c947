"""Removing one API-key profile from OKX's config file, confirmed by the user: Step 0.2.a's option 2 (remove the
rejected key's profile, then log in with OAuth), shared by the ``remove_api_key_profile`` tool and ``okx-auth-mcp
config remove``.

1. :meth:`ProfileRemoval.ask` checks the name, refuses the environment's profile (``env``: only the user can unset
   OKX_API_KEY and the rest), reads the file and checks the profile is in it, and returns the :class:`Question`:
   its text names the profile and the file, and its ticket (``core.profile_removal``) is bound to both and to the
   file's digest.
2. :meth:`ProfileRemoval.confirm` takes the ticket back with the user's own reply. A reply that is not ``yes``/
   ``是`` removes nothing (:class:`Kept`); ``yes`` removes the block with ``edges.okx_config_writer.remove_profile``
   bound to the digest, so a file changed since the question (by anyone, this removal included) is refused
   (``ConfigChanged``) unchanged. :class:`Removed` says what changed.

The procedure raises ``core.profile_removal``'s and the config writer's errors; ``login.refusals`` words them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from okx_auth_mcp.core import profile_removal
from okx_auth_mcp.core.okx_config_edit import ConfigChanged, without_profile
from okx_auth_mcp.core.okx_profiles import ENV_PROFILE, ConfigError, PartialEnvCredentials, env_profile
from okx_auth_mcp.core.profile_removal import ConfirmationUsed, EnvProfile, check_profile_name, confirms
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.okx_config_writer import read_config, remove_profile
from okx_auth_mcp.login.service import AuthService

Clock = Callable[[], float]


@dataclass(frozen=True)
class Question:
    """What the user must answer before ``profile`` is removed, and the ticket that carries the question."""

    profile: str
    path: Path
    """The config file, as named (``$OKX_HOME/config.toml``)."""
    is_default: bool
    ticket: str
    digest: str
    """The file's digest when the question was asked: the ticket holds it."""

    def text(self, lang: Lang) -> str:
        return profile_removal.question(lang, self.profile, str(self.path), is_default=self.is_default)


@dataclass(frozen=True)
class Removed:
    profile: str
    path: Path
    backup: Path | None
    default_profile_cleared: bool
    profile_in_effect: str | None
    """The API-key profile OKX's client uses now (another one of the file, or ``env``); None when there is none."""

    status: Literal["removed"] = "removed"

    def text(self, lang: Lang) -> str:
        return profile_removal.removed(
            lang,
            self.profile,
            str(self.path),
            None if self.backup is None else str(self.backup),
            default_cleared=self.default_profile_cleared,
            in_effect=self.profile_in_effect,
        )

    def summary(self) -> dict[str, Any]:
        """What changed, as JSON values (a tool's result, ``config remove --json``)."""
        return {
            "status": self.status,
            "profile": self.profile,
            "path": str(self.path),
            "backup": None if self.backup is None else str(self.backup),
            "default_profile_cleared": self.default_profile_cleared,
            "profile_in_effect": self.profile_in_effect,
        }


@dataclass(frozen=True)
class Kept:
    """The user did not confirm: nothing was removed."""

    profile: str
    path: Path
    status: Literal["kept"] = "kept"

    def text(self, lang: Lang) -> str:
        return profile_removal.kept(lang, self.profile, str(self.path))

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "profile": self.profile, "path": str(self.path)}


class ProfileRemoval:
    """The removal procedure on the config file ``environ`` names. ``key`` gives the key confirmations are signed
    with (the state directory's ticket key; a command asking at a terminal may use a key of its own)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        key: Callable[[], bytes],
        clock: Clock = time.time,
        spend: Callable[[str, int], bool] | None = None,
    ) -> None:
        self._environ = environ
        self._key = key
        self._clock = clock
        self._spend = spend or _spent_in(set())

    @classmethod
    def of(cls, service: AuthService, clock: Clock | None = None) -> ProfileRemoval:
        """On ``service``'s configuration, its confirmations signed with its state directory's ticket key, dated
        by its clock (unless ``clock``), and spent in its state directory (every process on it knows an
        answered one)."""
        return cls(service.settings.environ, service.store.ticket_key, clock or service.now, service.spend_once)

    @property
    def path(self) -> Path:
        return okx_config.config_path(self._environ)

    def ask(self, profile: str) -> Question:
        name = check_profile_name(profile)
        self._refuse_environment_profile(name)
        snapshot = read_config(self._environ)
        without_profile(snapshot.document, name)  # NoSuchProfile, before anyone is asked
        ticket = profile_removal.issue(
            self._key(), name, str(self.path), snapshot.digest, self._clock(), nonce=secrets.token_urlsafe(8)
        )
        is_default = snapshot.document.get("default_profile") == name
        return Question(name, self.path, is_default, ticket, snapshot.digest)

    def confirm(self, profile: str, ticket: str, reply: str) -> Removed | Kept:
        """The user's ``reply`` to the question ``ticket`` carries: removed on ``yes``/``是``, kept otherwise."""
        name = check_profile_name(profile)
        key = self._key()
        held = profile_removal.verify(key, ticket, self._clock(), profile=name, path=str(self.path))
        if not self._spend(held.id, held.expires_at):
            raise ConfirmationUsed("this confirmation was answered already; nothing was removed")
        if not confirms(reply):
            return Kept(name, self.path)
        snapshot = read_config(self._environ)
        if not held.of_file(key, snapshot.digest):
            raise ConfigChanged(f"{self.path} changed after the user was asked; nothing was removed")
        written = remove_profile(self._environ, name, expected_digest=snapshot.digest)
        cleared = snapshot.document.get("default_profile") == name  # the document the removal was made on
        return Removed(name, self.path, written.backup, cleared, self._profile_in_effect())

    def remove_now(self, profile: str) -> Removed:
        """Remove ``profile`` without a question: the person who typed ``config remove NAME --yes`` confirmed it.
        Bound to no digest (no one saw the file): the writer's lock and re-read keep another program's change."""
        name = check_profile_name(profile)
        self._refuse_environment_profile(name)
        document = read_config(self._environ).document
        written = remove_profile(self._environ, name)
        cleared = document.get("default_profile") == name
        return Removed(name, self.path, written.backup, cleared, self._profile_in_effect())

    def _refuse_environment_profile(self, name: str) -> None:
        if name != ENV_PROFILE:
            return
        try:
            from_environment = env_profile(self._environ) is not None
        except PartialEnvCredentials:
            from_environment = True
        if from_environment:
            raise EnvProfile(
                "the profile env is the API key in the environment variables OKX_API_KEY, OKX_SECRET_KEY and "
                "OKX_PASSPHRASE, not a block of config.toml; nothing was removed"
            )

    def _profile_in_effect(self) -> str | None:
        try:
            keyed = okx_config.load(self._environ).api_key_profile()
        except ConfigError:  # the removal is done; what the rest of the file holds, preflight reports
            return None
        return None if keyed is None else keyed.name


def _spent_in(spent: set[str]) -> Callable[[str, int], bool]:
    """Spending in this process only (a command that asks at its terminal and answers once)."""

    def spend(ticket_id: str, expires_at: int) -> bool:
        if ticket_id in spent:
            return False
        spent.add(ticket_id)
        return True

    return spend
