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

from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.sites import SITES, SiteId

PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
"""A profile name that is a bare TOML key and an ``okx --profile`` argument: letters, digits, ``_`` and ``-``."""
MAX_VALUE_LENGTH = 256
PASSPHRASE_LENGTHS = (8, 32)


class InvalidProfile(ConfigError):
    """A profile that cannot be written: its name or one of its values (named, never shown). ``field`` is the
    one at fault (``profile`` for the name), ``problem`` what is wrong with it, for a caller's own words."""

    def __init__(self, message: str, field: str, problem: Literal["name", "value", "spaces", "length"]) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem


class ProfileExists(ConfigError):
    """The profile is there already, and replacing it was not asked for."""


class NoSuchProfile(ConfigError):
    """The profile to remove is not in the file."""


class ConfigChanged(ConfigError):
    """The file is no longer what the user saw when they confirmed the change."""


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
        if not PROFILE_NAME_RE.match(self.name):
            raise InvalidProfile(
                "the profile name must be 1-64 letters, digits, '_' or '-', starting with a letter or digit",
                "profile",
                "name",
            )
        for name, value in (
            ("api_key", self.api_key),
            ("secret_key", self.secret_key),
            ("passphrase", self.passphrase),
        ):
            if not value or len(value) > MAX_VALUE_LENGTH or not (value.isascii() and value.isprintable()):
                raise InvalidProfile(f"{name} must be 1-{MAX_VALUE_LENGTH} printable ASCII characters", name, "value")
            if value != value.strip():
                raise InvalidProfile(f"{name} must not start or end with a space", name, "spaces")
        low, high = PASSPHRASE_LENGTHS
        if not low <= len(self.passphrase) <= high:
            raise InvalidProfile(
                f"the passphrase must be {low}-{high} characters, as OKX allows", "passphrase", "length"
            )
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
