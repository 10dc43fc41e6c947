"""What OKX's own CLI configuration holds, checked the way OKX's client reads it. Pure: the bytes of the file
and the environment's values come in (``edges.okx_config`` reads them).

``$OKX_HOME/config.toml`` (default ``~/.okx/config.toml``)::

    default_profile = "main"
    [profiles.main]
    api_key = "..."     secret_key = "..."     passphrase = "..."
    site = "global"     demo = false           base_url = "..."   timeout_ms = 10000   proxy_url = "..."

``OKX_API_KEY``, ``OKX_SECRET_KEY`` and ``OKX_PASSPHRASE`` set together count as an API-key profile named
``env``; a partial set is an error. ``secret_key`` and ``passphrase``
are held in the profile but excluded from its ``repr`` and from :meth:`Profile.public`; an ``api_key`` is
shown only masked, a ``base_url`` only without its credentials. An error names the field and the profile,
never the value that failed (a secret pasted into the wrong field must not be quoted back).

Errors: ``ConfigError`` ⊃ ``ConfigParseError`` (the file is not TOML), ``ConfigInvalid`` (TOML, but not a
valid OKX config), ``PartialEnvCredentials``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from okx_auth_mcp.core.diagnosis.urls import clean_url
from okx_auth_mcp.core.sites import SITE_LIST, SiteId, site_id

ENV_PROFILE = "env"
_ENV_KEYS = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")


class ConfigError(Exception):
    """The OKX configuration cannot be used."""


class ConfigParseError(ConfigError):
    """config.toml is not valid TOML."""


class ConfigInvalid(ConfigError):
    """config.toml is TOML but a value has the wrong shape."""


class PartialEnvCredentials(ConfigError):
    """Some but not all of OKX_API_KEY / OKX_SECRET_KEY / OKX_PASSPHRASE are set."""


def mask(secret: str) -> str:
    """``abcd****wxyz`` for long values, ``****`` for short ones: enough to recognise, not to use."""
    if len(secret) <= 8:
        return "****"
    return f"{secret[:4]}****{secret[-4:]}"


@dataclass(frozen=True)
class Profile:
    name: str
    api_key: str = ""
    secret_key: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    site: SiteId | None = None
    demo: bool = False
    base_url: str | None = None
    timeout_ms: int | None = None
    proxy_url: str | None = None

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)

    def public(self) -> dict[str, Any]:
        """What may be shown: no secret key, no passphrase, the api_key masked, the base_url without
        credentials, query or fragment (one that is not a URL is not shown)."""
        return {
            "name": self.name,
            "api_key": mask(self.api_key) if self.api_key else None,
            "site": self.site,
            "demo": self.demo,
            "base_url": None if self.base_url is None else clean_url(self.base_url)[0],
        }


@dataclass(frozen=True)
class OkxConfig:
    path: Path
    default_profile: str | None
    profiles: tuple[Profile, ...]
    """The env profile first (when set), then the file's profiles in file order."""

    def api_key_profile(self) -> Profile | None:
        """The profile OKX's client would sign with: env first, then ``default_profile``, then any other."""
        keyed = [p for p in self.profiles if p.has_api_key]
        for profile in keyed:
            if profile.name in (ENV_PROFILE, self.default_profile):
                return profile
        return keyed[0] if keyed else None

    def any_site(self) -> SiteId | None:
        return next((p.site for p in self.profiles if p.site), None)


_QUOTING_HINT = (
    'Values must be quoted TOML strings, e.g. passphrase = "p@ss#word"; inside double quotes write \\" and '
    "\\\\, or use single quotes for a literal string: passphrase = 'p@ss\"word'."
)
_LINE_RE = re.compile(r"at line (\d+)")


def _parse_error(path: Path, exc: tomllib.TOMLDecodeError) -> ConfigParseError:
    match = _LINE_RE.search(str(exc))
    where = f"line {match.group(1)}" if match else "an unknown line"
    return ConfigParseError(
        f"{path} is not valid TOML ({where}: {str(exc).split(' (at ')[0]}). {_QUOTING_HINT} The file was not changed."
    )


def _profile(path: Path, name: str, raw: Any) -> Profile:
    if not isinstance(raw, dict):
        raise ConfigInvalid(f"{path}: [profiles.{name}] must be a table")

    def text(key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigInvalid(f"{path}: profiles.{name}.{key} must be a string")
        return value

    site_text = text("site")
    site = site_id(site_text) if site_text else None
    if site_text and site is None:
        raise ConfigInvalid(f"{path}: profiles.{name}.site must be {SITE_LIST}")
    demo = raw.get("demo", False)
    if not isinstance(demo, bool):
        raise ConfigInvalid(f"{path}: profiles.{name}.demo must be true or false")
    timeout_ms = raw.get("timeout_ms")
    if timeout_ms is not None and (isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int)):
        raise ConfigInvalid(f"{path}: profiles.{name}.timeout_ms must be an integer")
    return Profile(
        name=name,
        api_key=text("api_key") or "",
        secret_key=text("secret_key") or "",
        passphrase=text("passphrase") or "",
        site=site,
        demo=demo,
        base_url=text("base_url"),
        timeout_ms=timeout_ms,
        proxy_url=text("proxy_url"),
    )


def env_profile(environ: Mapping[str, str]) -> Profile | None:
    present = [k for k in _ENV_KEYS if environ.get(k)]
    if not present:
        return None
    if len(present) != len(_ENV_KEYS):
        missing = ", ".join(k for k in _ENV_KEYS if k not in present)
        raise PartialEnvCredentials(
            f"{', '.join(present)} set but {missing} not: set all three to use an API key from the "
            "environment, or unset them."
        )
    site_text = environ.get("OKX_SITE", "")
    return Profile(
        name=ENV_PROFILE,
        api_key=environ["OKX_API_KEY"],
        secret_key=environ["OKX_SECRET_KEY"],
        passphrase=environ["OKX_PASSPHRASE"],
        site=site_id(site_text),
    )


def parse_config(path: Path, raw: bytes | None, environ: Mapping[str, str]) -> OkxConfig:
    """The config ``path`` holds (``raw``: its bytes, None when there is no file), with the profile of
    ``environ``'s ``OKX_*`` credentials first. ``ConfigParseError`` / ``ConfigInvalid`` name the file and the
    line or key, never a value."""
    data: dict[str, Any] = {}
    if raw is not None:
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigParseError(f"{path} is not UTF-8 text. The file was not changed.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise _parse_error(path, exc) from exc
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigInvalid(f"{path}: default_profile must be a string")
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigInvalid(f"{path}: profiles must be a table of [profiles.NAME] tables")
    profiles = [_profile(path, name, table) for name, table in raw_profiles.items()]
    from_env = env_profile(environ)
    if from_env is not None:
        profiles.insert(0, from_env)
    return OkxConfig(path=path, default_profile=default, profiles=tuple(profiles))
