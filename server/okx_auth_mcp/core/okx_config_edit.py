"""Changes to OKX's config file as data: a profile added, replaced or removed in the parsed document, every
other profile, ``default_profile`` and unknown key kept. Pure: ``edges.okx_config_writer`` reads, locks and
writes the file.

A profile is written the way both OKX CLI versions read it: ``api_key``, ``secret_key``, ``passphrase``,
``demo``, ``site`` (1.3 reads it) and, for a site other than Global, ``base_url`` (1.2 reads only that).
Every value is checked before anything is written, as OKX accepts them: printable ASCII, not empty, at most
256 characters, a passphrase of 8 to 32. A refusal names the field, never its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from okx_auth_mcp.core.okx_profiles import ENV_PROFILE, ConfigError
from okx_auth_mcp.core.sites import SITES, SiteId

PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}\Z")
"""A profile name that is a bare TOML key and an ``okx --profile`` argument: letters, digits, ``_`` and ``-``."""
MAX_VALUE_LENGTH = 256
PASSPHRASE_LENGTHS = (8, 32)


FieldName = Literal["name", "api_key", "secret_key", "passphrase"]
"""What a person types for a profile: its name and its three values."""
Problem = Literal["name", "reserved", "characters", "spaces", "passphrase_length"]


class InvalidProfile(ConfigError):
    """A profile that cannot be written: its name or one of its values (named, never shown). ``field_name`` and
    ``problem`` say which and what (:func:`problem_of`), for a caller's own words."""

    def __init__(self, message: str, field_name: FieldName, problem: Problem) -> None:
        super().__init__(message)
        self.field_name: FieldName = field_name
        self.problem: Problem = problem


class ProfileExists(ConfigError):
    """The profile is there already, and replacing it was not asked for."""


class NoSuchProfile(ConfigError):
    """The profile to remove is not in the file."""


class ConfigChanged(ConfigError):
    """The file is no longer what the user saw when they confirmed the change."""


def default_profile_name(demo: bool) -> str:
    """The profile name OKX's own wizard offers: ``okx-demo`` or ``okx-prod``."""
    return "okx-demo" if demo else "okx-prod"


def problem_of(field_name: FieldName, value: str) -> Problem | None:
    """What is wrong with ``value`` for ``field`` (None: nothing), one field at a time, so that a wizard can ask
    again for exactly the field at fault."""
    if field_name == "name":
        if value == ENV_PROFILE:  # OKX's environment variables are read as a profile of this name
            return "reserved"
        return None if PROFILE_NAME_RE.match(value) else "name"
    if not value or len(value) > MAX_VALUE_LENGTH or not (value.isascii() and value.isprintable()):
        return "characters"
    if value != value.strip():
        return "spaces"
    low, high = PASSPHRASE_LENGTHS
    if field_name == "passphrase" and not low <= len(value) <= high:
        return "passphrase_length"
    return None


def problem_message(field_name: FieldName, problem: Problem) -> str:
    """The problem in words, naming the field, never the value."""
    if problem == "name":
        return "the profile name must be 1-80 letters, digits, '_' or '-', starting with a letter or digit"
    if problem == "reserved":
        return f"the profile name {ENV_PROFILE} stands for OKX's environment variables; choose another name"
    if problem == "characters":
        return f"{field_name} must be 1-{MAX_VALUE_LENGTH} printable ASCII characters"
    if problem == "spaces":
        return f"{field_name} must not start or end with a space"
    low, high = PASSPHRASE_LENGTHS
    return f"the passphrase must be {low}-{high} characters, as OKX allows"


@dataclass(frozen=True)
class NewProfile:
    name: str
    site: SiteId
    demo: bool
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)

    def checked(self) -> NewProfile:
        """Itself, or :class:`InvalidProfile` naming what does not fit."""
        fields: tuple[tuple[FieldName, str], ...] = (
            ("name", self.name),
            ("api_key", self.api_key),
            ("secret_key", self.secret_key),
            ("passphrase", self.passphrase),
        )
        for name, value in fields:
            problem = problem_of(name, value)
            if problem is not None:
                raise InvalidProfile(problem_message(name, problem), name, problem)
        return self

    def table(self) -> dict[str, Any]:
        """The profile's block as OKX's CLIs read it."""
        block: dict[str, Any] = {
            "api_key": self.api_key,
            "secret_key": self.secret_key,
            "passphrase": self.passphrase,
            "demo": self.demo,
            "site": self.site,
        }
        if self.site != "global":
            block["base_url"] = SITES[self.site].api_base_url
        return block


def profiles_of(document: dict[str, Any]) -> dict[str, Any]:
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError("config.toml: 'profiles' is not a table; it was not changed")
    return profiles


def with_profile(
    document: dict[str, Any], profile: NewProfile, *, replace: bool, make_default: bool = False
) -> tuple[dict[str, Any], bool]:
    """The document with ``profile`` in it (and, with ``make_default``, named by ``default_profile``, as OKX's
    own wizard does), and whether one of that name was replaced."""
    profiles = profiles_of(document)
    existed = profile.name in profiles
    if existed and not replace:
        raise ProfileExists(f"a profile named {profile.name} exists; replace it, or choose another name")
    changed = {**document, "profiles": {**profiles, profile.name: profile.checked().table()}}
    if make_default:
        changed["default_profile"] = profile.name
    return changed, existed


def without_profile(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The document without the profile ``name`` (and without ``default_profile`` when it named it)."""
    profiles = profiles_of(document)
    if name not in profiles:
        raise NoSuchProfile(f"there is no profile named {name!r} in config.toml")
    changed = {**document, "profiles": {key: value for key, value in profiles.items() if key != name}}
    if changed.get("default_profile") == name:
        del changed["default_profile"]
    return changed
