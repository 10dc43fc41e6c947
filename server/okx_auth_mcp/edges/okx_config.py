"""OKX's own CLI configuration, read from disk and the environment the way OKX's client reads them: the file
``$OKX_HOME/config.toml`` (default ``~/.okx/config.toml``) and the ``OKX_*`` credentials. What it holds and
how it is checked is ``core.okx_profiles``'. This module never writes the file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from okx_auth_mcp.core.okx_profiles import ConfigError, OkxConfig, parse_config


def okx_home(environ: Mapping[str, str]) -> Path:
    home = environ.get("OKX_HOME")
    return Path(home) if home else Path.home() / ".okx"


def config_path(environ: Mapping[str, str]) -> Path:
    return okx_home(environ) / "config.toml"


def load(environ: Mapping[str, str] | None = None) -> OkxConfig:
    """Read the config file (a missing file is an empty config) and the environment's credentials."""
    env = os.environ if environ is None else environ
    path = config_path(env)
    try:
        raw: bytes | None = path.read_bytes()
    except FileNotFoundError:
        raw = None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from exc
    return parse_config(path, raw, env)
