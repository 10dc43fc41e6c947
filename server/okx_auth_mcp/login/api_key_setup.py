"""An API key saved where OKX's own tools read it, then checked once: the procedure that ``config init`` (a person
at a terminal) and the one-time page of ``setup_api_key`` (a person in a browser) share.

The profile is written by the one writer of OKX's config file (``edges.okx_config_writer``) and named by
``default_profile``, as OKX's own wizard does, so that it is the key OKX's client uses. Then one
``verify_credentials`` request signs with it. A check that cannot run (the network, the clock) does not undo the
write: the result carries why, and the key stays saved. Nothing here returns or logs a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from okx_auth_mcp.core.api_keys import CredentialsError, KeyRejected, Verified
from okx_auth_mcp.core.okx_config_edit import NewProfile
from okx_auth_mcp.core.okx_profiles import ConfigError, Profile, env_profile
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.okx_api import OkxApi
from okx_auth_mcp.edges.okx_config_writer import Written, config_digest, save_profile
from okx_auth_mcp.login.refusals import KNOWN_FAILURES
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.verify import verify_api_key

log = logging.getLogger(__name__)

CHECK_FAILURES: tuple[type[Exception], ...] = (*KNOWN_FAILURES, ConfigError, CredentialsError)
"""What stops the check but not the save: the network, OKX's answer, ``verify_credentials``' own refusals (the
clock, a key from another site's host, a region, a profile that cannot be sent as it is), and another profile
of the file that OKX's reader refuses."""


@dataclass(frozen=True)
class Saved:
    """A profile saved, and what OKX said of its key."""

    profile: str
    site: SiteId
    demo: bool
    written: Written
    outcome: Verified | KeyRejected | None
    """OKX accepted or refused the key; None when the check could not run (:attr:`check_error` says why)."""
    check_error: Exception | None = None
    in_effect: bool = True
    """Whether OKX's client uses this profile: an API key in the environment (``OKX_API_KEY``) comes first."""


def file_profiles(service: AuthService) -> frozenset[str]:
    """The names of the config file's profiles, after the checks a write makes (the file is this user's,
    writable by nobody else, TOML as OKX reads it): a wizard learns that the file cannot be written, and which
    names are taken, before it asks for a secret. ``ConfigError`` when the file cannot be used."""
    config_digest(service.settings.environ)
    config = service.config()
    skip = 1 if env_profile(service.settings.environ) is not None else 0  # load() put the env profile first
    return frozenset(p.name for p in config.profiles[skip:])


def save_and_verify(
    service: AuthService, api: OkxApi, clock: Callable[[], float], profile: NewProfile, *, replace: bool
) -> Saved:
    """Write ``profile`` (``replace``: in the place of one of that name), make it the default, check its key."""
    written = save_profile(service.settings.environ, profile.checked(), replace=replace, make_default=True)
    log.info("API key saved as profile %s in %s", profile.name, written.path)
    # From here on the key is saved, whatever fails: a failure makes the result "unchecked", never "not saved".
    in_effect = True
    try:
        config = service.config()  # read once: what OKX's client now uses, and the saved profile to check
        keyed = config.api_key_profile()
        in_effect = keyed is not None and keyed.name == profile.name
        saved = _file_profile(config.profiles, profile.name)
        outcome = verify_api_key(saved, service.settings.environ, str(config.path), api, clock)
    except CHECK_FAILURES as exc:
        log.info("API key of profile %s saved; the check could not run (%s)", profile.name, type(exc).__name__)
        return Saved(profile.name, profile.site, profile.demo, written, None, exc, in_effect)
    return Saved(profile.name, profile.site, profile.demo, written, outcome, None, in_effect)


def _file_profile(profiles: tuple[Profile, ...], name: str) -> Profile:
    """The file's API-key profile ``name``, which one signed request checks as ``verify_credentials`` sends it."""
    found = [p for p in profiles if p.name == name and p.has_api_key]
    if not found:
        raise ConfigError(f"there is no API-key profile named {name!r} in config.toml")
    return found[-1]  # the file's, after an environment profile of the same name
