"""A DMA broker on the sandbox, its broker profile in config.toml, and the broker tools turned on: what the
broker tests share (``conftest`` makes the fixtures every test's)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import write_config

SUB = "panpanBroker2"
CREATE = "broker_create_subaccount_api_key"
BROKER_KEY = "b0b0b0b0-1111-2222-3333-444455556666"
BROKER_SECRET = "BROKERSECRET0123456789ABCDEF0000"
BROKER_PASSPHRASE = "Broker#Pass1"
BROKER_CONFIG = f"""default_profile = "broker"

[profiles.broker]
api_key = "{BROKER_KEY}"
secret_key = "{BROKER_SECRET}"
passphrase = "{BROKER_PASSPHRASE}"
site = "global"
demo = false
"""


@pytest.fixture
def okx_home(isolated_env: dict[str, str]) -> Path:
    return Path(isolated_env["OKX_HOME"])


@pytest.fixture
def broker(sandbox: RunningSandbox, okx_home: Path, monkeypatch: pytest.MonkeyPatch) -> RunningSandbox:
    """A DMA broker with two sub-accounts, and another broker with one; the broker profile in config.toml."""
    state = sandbox.state
    state.add_api_key(BROKER_KEY, BROKER_SECRET, BROKER_PASSPHRASE, broker="dma", uid="11112222333344")
    state.add_subaccount(BROKER_KEY, SUB, uid="289000001696", label="desk1")
    state.add_subaccount(BROKER_KEY, "quantDesk7", uid="289000007777", acct_lv="2", frozen_func=("withdrawal",))
    state.add_api_key("other-broker-key", "OTHERSECRET", "Other#Pass1", broker="dma", uid="99990000111122")
    state.add_subaccount("other-broker-key", "notMine001", uid="355500001111")
    write_config(str(okx_home), BROKER_CONFIG).chmod(0o600)
    for name, value in (
        ("OKX_OAUTH_ISSUER", sandbox.url),
        ("OKX_API_BASE_URL", sandbox.url),
        ("OKX_AUTH_HTTP_TIMEOUT", "2"),
        ("OKX_AUTH_BROKER_TOOLS", "1"),
        ("OKX_AUTH_BROKER_PROFILE", "broker"),
    ):
        monkeypatch.setenv(name, value)
    return sandbox


def config_of(okx_home: Path) -> dict[str, Any]:
    return tomllib.loads((okx_home / "config.toml").read_text(encoding="utf-8"))


def minted(sandbox: RunningSandbox) -> list[tuple[str, str, str]]:
    """The keys the sandbox created for a sub-account: (api key, secret key, passphrase)."""
    keys = [key for account in sandbox.state.subaccounts.values() for key in account.keys]
    return [
        (k.api_key, sandbox.state.api_keys[k.api_key].secret_key, sandbox.state.api_keys[k.api_key].passphrase)
        for k in keys
    ]
