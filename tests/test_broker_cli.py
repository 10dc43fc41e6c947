"""``okx-auth-mcp broker ...`` against the sandbox: the reads as JSON, create-key confirmed on the terminal (or
by --yes, never for withdraw), the secret only in config.toml, and the exit codes."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest

from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.brokers import SUB, minted
from tests.helpers import run_cli, snapshot


@pytest.fixture
def live_broker(broker: RunningSandbox) -> RunningSandbox:
    broker.state.clock = time.time  # the command runs on real time
    return broker


def test_the_reads_print_json(live_broker: RunningSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "broker", "subaccounts", "--json")
    assert (code, err) == (0, "")
    assert [a["sub_account"] for a in json.loads(out)["sub_accounts"]] == [SUB, "quantDesk7"]
    code, out, _ = run_cli(capsys, "broker", "fee-rates", "--sub-acct", SUB)
    assert code == 0 and len(json.loads(out)["sub_accounts"][0]["fee_rates"]) == 9
    code, out, _ = run_cli(capsys, "broker", "keys", SUB)
    assert code == 0 and json.loads(out) == {"sub_account": SUB, "keys": []}


def test_create_key_with_yes_saves_the_secret_in_the_config_only(
    live_broker: RunningSandbox, okx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "broker", "create-key", SUB, "cli1", "--perm", "trade", "--ip", "10.0.0.5", "--yes"
    )
    ((api_key, secret, passphrase),) = minted(live_broker)
    assert code == 0 and err == ""
    assert 'profile "sub-panpanBroker2-cli1"' in out and "10.0.0.5" in out
    assert secret not in out + err and passphrase not in out + err and api_key not in out
    profile = tomllib.loads((okx_home / "config.toml").read_text())["profiles"]["sub-panpanBroker2-cli1"]
    assert (profile["api_key"], profile["secret_key"], profile["passphrase"]) == (api_key, secret, passphrase)


def test_without_a_terminal_or_yes_nothing_is_created_and_withdraw_is_never_answered_by_yes(
    live_broker: RunningSandbox, okx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(okx_home)
    code, _, err = run_cli(capsys, "broker", "create-key", SUB, "cli2")
    assert code == 1 and "no terminal to ask the question at" in err
    code, _, err = run_cli(capsys, "broker", "create-key", SUB, "cli3", "--perm", "withdraw", "--yes")
    assert code == 1 and err.startswith("okx-auth-mcp: [withdraw_not_confirmed] no terminal to ask the withdraw")
    assert live_broker.state.count("broker_create_key") == 0 and snapshot(okx_home) == before


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["create-key", "abc", "cli4", "--yes"], "subAcct"),
        (["create-key", SUB, "cli-4", "--yes"], "label"),
        (["create-key", SUB, "cli4", "--ip", "10.0.0.0/8", "--yes"], "ip"),
        (["subaccounts", "--limit", "101"], "limit"),
        (["rebates", "--begin", "20261301", "--end", "20261302"], "begin"),
    ],
)
def test_bad_arguments_exit_2_with_nothing_sent(
    live_broker: RunningSandbox, capsys: pytest.CaptureFixture[str], argv: list[str], field: str
) -> None:
    code, out, err = run_cli(capsys, "broker", *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"okx-auth-mcp: [invalid_arguments] {field}: ")
    assert sum(live_broker.state.count(name) for name in ("broker_create_key", "broker_subaccounts")) == 0


def test_no_broker_profile_is_guessed(
    live_broker: RunningSandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OKX_AUTH_BROKER_PROFILE")
    code, _, err = run_cli(capsys, "broker", "subaccounts")
    assert code == 1 and err.startswith("okx-auth-mcp: [broker_not_configured]")
    code, out, _ = run_cli(capsys, "broker", "subaccounts", "--profile", "broker")
    assert code == 0 and json.loads(out)["sub_accounts"]
