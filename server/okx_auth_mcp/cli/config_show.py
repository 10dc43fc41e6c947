"""``config show``: OKX's configuration as this program reads it, with no secret in it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from okx_auth_mcp.cli.common import EXIT_OK, guarded
from okx_auth_mcp.core.diagnosis.urls import clean_url
from okx_auth_mcp.core.okx_profiles import OkxConfig
from okx_auth_mcp.core.sites import SITES
from okx_auth_mcp.login.settings import Settings, load_okx_config

NAMES_NO_PROFILE = "(names no profile)"
"""``default_profile`` as shown when it names no profile in the file."""


def config_view(cfg: OkxConfig, settings: Settings, file_exists: bool) -> dict[str, Any]:
    """What ``config show`` shows: no secret key, no passphrase, no proxy URL (it may hold credentials), the
    API keys masked, every URL without credentials, query or fragment (and no value that is not a URL), no
    ``default_profile`` that names no profile. Pure."""
    keyed = cfg.api_key_profile()
    from_env = bool(settings.environ.get("OKX_API_KEY"))  # load() put the env profile first
    profiles = []
    for index, profile in enumerate(cfg.profiles):
        site = None if profile.site is None else SITES[profile.site]
        profiles.append(
            {
                **profile.public(),
                "source": "environment" if from_env and index == 0 else "file",
                "default": profile.name == cfg.default_profile and not (from_env and index == 0),
                "in_effect": profile is keyed,
                "api_base_url": _shown(profile.base_url) or (None if site is None else site.api_base_url),
            }
        )
    return {
        "config_file": str(cfg.path),
        "config_file_exists": file_exists,
        "default_profile": _default_shown(cfg, from_env),
        "profile_in_effect": None if keyed is None else keyed.name,
        "profiles": profiles,
        "sites": [
            {"id": s.id, "label": s.label, "web_host": s.web_host, "api_base_url": s.api_base_url}
            for s in SITES.values()
        ],
        "oauth": {
            "issuer": _shown(settings.issuer_override),
            "scope": settings.scope,
            "state_dir": str(settings.state_dir),
        },
    }


def _default_shown(cfg: OkxConfig, from_env: bool) -> str | None:
    """``default_profile`` when it names a profile in the file; what it says otherwise, never its value (a
    secret typed there must not be shown back)."""
    in_file = {p.name for index, p in enumerate(cfg.profiles) if not (from_env and index == 0)}
    if cfg.default_profile is None or cfg.default_profile in in_file:
        return cfg.default_profile
    return NAMES_NO_PROFILE


def _shown(url: str | None) -> str | None:
    """A URL as it may be shown (``urls.clean_url``): never its credentials, query or fragment."""
    return None if url is None else clean_url(url)[0]


def render_config(view: Mapping[str, Any]) -> str:
    """The text form of :func:`config_view`."""
    exists = "" if view["config_file_exists"] else " (not found)"
    in_effect = view["profile_in_effect"] or "none (OAuth login applies)"
    lines = [
        f"OKX config: {view['config_file']}{exists}",
        f"default_profile: {view['default_profile'] or '-'}",
        f"API-key profile in effect: {in_effect}",
        "profiles:" if view["profiles"] else "profiles: none",
    ]
    for p in view["profiles"]:
        marks = [m for m, on in (("environment", p["source"] == "environment"), ("default", p["default"])) if on]
        if p["in_effect"]:
            marks.append("in effect")
        label = f"{p['name']} ({', '.join(marks)})" if marks else p["name"]
        lines.append(
            f"  {label}: api_key {p['api_key'] or '-'}, site {p['site'] or '-'}, demo {str(p['demo']).lower()}, "
            f"base_url {p['api_base_url'] or '-'}"
        )
    lines.append("sites:")
    lines.extend(f"  {s['id']}: {s['label']} ({s['web_host']}), API {s['api_base_url']}" for s in view["sites"])
    oauth = view["oauth"]
    lines.append(f"OAuth issuer: {oauth['issuer'] or 'the chosen site API base URL'}")
    lines.append(f"OAuth scope: {oauth['scope']}")
    lines.append(f"state directory: {oauth['state_dir']}")
    return "\n".join(lines)


@guarded
def _config_show(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    cfg = load_okx_config(settings)
    view = config_view(cfg, settings, cfg.path.is_file())
    print(json.dumps(view, ensure_ascii=False, indent=1) if args.json else render_config(view))
    return EXIT_OK


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add ``config`` with ``show``; returns ``config``'s own commands, to which the other modules add theirs."""
    config = commands.add_parser("config", help="OKX's configuration: show it, add or remove an API-key profile")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="profiles, sites and base URLs, secrets masked")
    show.add_argument("--json", action="store_true", help="as one JSON object")
    show.set_defaults(run=_config_show)
    return config_commands
