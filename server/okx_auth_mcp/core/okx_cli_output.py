"""What OKX's official ``okx`` CLI prints, parsed and checked before use. Pure: no I/O.

The commands are those OKX's skill (okx-cex-auth) documents: ``okx --version``, ``okx config show --json``,
``okx auth status --json``, ``okx auth login --manual --site SITE`` (one JSON line: ``{"verificationUri","userCode",
"expiresIn"}``, or ``{"status":"skipped","reason":"api_key_configured","profile":...}``) and ``okx auth
logout``. Their output is held to the same rules as an authorization server's: a shown link must be a plain
URL, a code a short word, scopes plain words; nothing else they print reaches a user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from okx_auth_mcp.core import bounded_json
from okx_auth_mcp.core.oauth_wire import SCOPE_RE, ShownUrl, UserCode
from okx_auth_mcp.core.records import Frozen, Unfit, validated
from okx_auth_mcp.core.sites import SiteId, site_id

MAX_OUTPUT_CHARS = 64 * 1024
_PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")

Version = tuple[int, int, int]
AUTH_SINCE: Version = (1, 3, 0)
"""The first okx with ``okx auth`` (OKX's CLI logs in through its okx-auth binary from 1.3 on)."""
NO_AUTH_COMMAND = "Unknown command: auth"
"""What okx 1.2.x prints on stderr (exit 1) for any ``okx auth ...``, once its config file has loaded (a config it
cannot load fails first, with another message: its version tells in any case)."""
_VERSION_RE = re.compile(r"\s*v?(\d{1,4})\.(\d{1,4})\.(\d{1,4})(?![\w.])")
_NO_API_KEY = ("", "(not set)")
"""``api_key`` values that are not a key: empty, and the placeholder OKX's skill 1.2 documents for a profile
without one."""


class OkxCliError(Exception):
    """The official CLI could not do what was asked; the text says what, never what the CLI printed."""

    code = "okx_cli_error"


class OkxCliMissing(OkxCliError):
    code = "okx_cli_missing"


class OkxAuthMissing(OkxCliError):
    """``Failed to spawn okx-auth``: the CLI's login binary is missing or broken."""

    code = "okx_auth_missing"


class OkxCliFailed(OkxCliError):
    code = "okx_cli_failed"


class OkxCliTimeout(OkxCliError):
    code = "okx_cli_timeout"


class OkxCliBadOutput(OkxCliError):
    code = "okx_cli_bad_output"


class OkxCliTooOld(OkxCliError):
    """An okx without ``okx auth`` (before :data:`AUTH_SINCE`): it cannot run a login."""

    code = "okx_cli_too_old"

    def __init__(self, version: Version | None) -> None:
        self.version = None if version is None else ".".join(map(str, version))
        """As okx printed it (digits and dots only), when it printed one."""
        which = "this okx" if self.version is None else f"okx {self.version}"
        since = ".".join(map(str, AUTH_SINCE[:2]))
        super().__init__(f"{which} has no `okx auth` command (OKX's CLI logs in from {since} on)")


class CliStatus(Frozen):
    """``okx auth status --json``. When ``status`` is not_logged_in, ``site`` is a placeholder the binary
    prints whatever the user chose (OKX's skill says so): :attr:`chosen_site` drops it."""

    status: Literal["logged_in", "pending", "not_logged_in"]
    site: str | None = None
    scopes: list[str] = Field(default_factory=list, max_length=32)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not SCOPE_RE.match(scope):
                raise ValueError("scopes must be plain words")
        return value

    @property
    def chosen_site(self) -> SiteId | None:
        return None if self.status == "not_logged_in" or self.site is None else site_id(self.site)


class CliLoginStarted(Frozen):
    verificationUri: ShownUrl
    userCode: UserCode
    expiresIn: int = Field(gt=0, le=86400)


class CliLoginSkipped(Frozen):
    status: Literal["skipped"]
    reason: Literal["api_key_configured"]
    profile: str = Field(pattern=_PROFILE_NAME_RE.pattern)


@dataclass(frozen=True)
class CliConfig:
    """What the preflight needs from ``okx config show --json``: the API-key profile OKX's client would use,
    and a site some profile names."""

    api_key_profile: str | None
    site: SiteId | None


def _json(text: str, what: str) -> Any:
    if len(text) > MAX_OUTPUT_CHARS:
        raise OkxCliBadOutput(f"{what}: the output is larger than {MAX_OUTPUT_CHARS} characters")
    try:
        return bounded_json.loads(text)
    except ValueError:
        raise OkxCliBadOutput(f"{what}: the output is not JSON") from None


def _last_line(text: str, what: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise OkxCliBadOutput(f"{what}: printed nothing")
    return lines[-1]


def _model(model: type[Frozen], data: Any, what: str) -> Any:
    try:
        return validated(model, data)
    except Unfit as exc:
        fields = sorted(field or "(top)" for field in exc.fields)
        raise OkxCliBadOutput(f"{what}: unexpected output ({', '.join(fields)})") from None


def parse_version(text: str) -> Version | None:
    """``okx --version`` (``1.2.4 (88fac29)``) as numbers; None when it does not start with a version."""
    found = _VERSION_RE.match(text)
    return None if found is None else (int(found[1]), int(found[2]), int(found[3]))


def parse_status(text: str) -> CliStatus:
    result: CliStatus = _model(CliStatus, _json(text, "okx auth status"), "okx auth status")
    if result.status != "not_logged_in" and result.chosen_site is None:
        raise OkxCliBadOutput(f"okx auth status: a {result.status} status without a known site")
    return result


def parse_login(text: str) -> CliLoginStarted | CliLoginSkipped:
    data = _json(_last_line(text, "okx auth login"), "okx auth login")
    if isinstance(data, dict) and data.get("status") == "skipped":
        skipped: CliLoginSkipped = _model(CliLoginSkipped, data, "okx auth login")
        return skipped
    started: CliLoginStarted = _model(CliLoginStarted, data, "okx auth login")
    return started


def parse_config(text: str) -> CliConfig:
    """Profiles as a mapping of name to fields, or a list of objects with a ``name``; an ``api_key`` that is
    present, not empty and not ``(not set)`` (it may be masked) counts as configured, like OKX's skill reads it.
    okx 1.2.4 prints the file as it is, secrets included, and leaves ``api_key`` out of a profile without one:
    nothing but the profile's name and site leaves this function."""
    data = _json(text, "okx config show")
    if not isinstance(data, dict):
        raise OkxCliBadOutput("okx config show: unexpected output (top)")
    raw = data.get("profiles") or {}
    if isinstance(raw, list):
        raw = {str(p.get("name", "")): p for p in raw if isinstance(p, dict)}
    if not isinstance(raw, dict):
        raise OkxCliBadOutput("okx config show: unexpected output (profiles)")
    profiles = {name: fields for name, fields in raw.items() if isinstance(fields, dict)}
    keyed = [name for name, fields in profiles.items() if _is_key(fields.get("api_key"))]
    if not all(_PROFILE_NAME_RE.match(name) for name in keyed):
        raise OkxCliBadOutput("okx config show: a profile name that is not a plain word")
    default = data.get("default_profile")
    chosen = default if default in keyed else (keyed[0] if keyed else None)
    sites = [site_id(str(fields.get("site") or "")) for fields in profiles.values()]
    return CliConfig(api_key_profile=chosen, site=next((s for s in sites if s is not None), None))


def _is_key(value: object) -> bool:
    return isinstance(value, str) and value.strip() not in _NO_API_KEY
