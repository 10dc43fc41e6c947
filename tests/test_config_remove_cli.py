"""``okx-auth-mcp config remove NAME``: in this process through ``cli.main``, as a real process (no terminal:
refused unless ``--yes``), and at a real terminal (a pty) where the person answers the tool's question."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import tomllib
from pathlib import Path

import pytest

from okx_auth_mcp.core import profile_removal
from tests.helpers import CLI, one_error_line, read_until, run_cli, snapshot, write_config

CONFIG = """default_profile = "broken"

[profiles.broken]
api_key = "ak-broken-0123456789"
secret_key = "SECRET-broken-9f8e7d6c"
passphrase = "Pass-broken-01"
site = "eea"

[profiles.main]
api_key = "ak-main-0123456789"
secret_key = "SECRET-main-0a1b2c3d"
passphrase = "Pass-main-0001"
site = "global"
"""


@pytest.fixture
def config(isolated_env: dict[str, str]) -> Path:
    return write_config(isolated_env["OKX_HOME"], CONFIG)


def test_yes_removes_the_profile_and_says_what_changed(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "config", "remove", "broken", "--yes", "--lang", "en")
    assert (code, err) == (0, "")
    assert out.startswith(f'Removed the API-key profile "broken" from {config}. default_profile named it')
    assert 'The file still holds the API key of profile "main"' in out
    assert set(tomllib.loads(config.read_text())["profiles"]) == {"main"}
    (backup,) = config.parent.glob("config.toml.bak-*")
    assert backup.read_text() == CONFIG and str(backup) in out


def test_json_is_the_summary_alone(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "config", "remove", "main", "--yes", "--json")
    summary = json.loads(out)
    assert code == 0 and summary.pop("backup").startswith(str(config) + ".bak-")
    assert summary == {
        "status": "removed",
        "profile": "main",
        "path": str(config),
        "default_profile_cleared": False,
        "profile_in_effect": "broken",
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [("nobody", "no_such_profile"), ("broken\t", "invalid_profile_name"), ("x" * 100_000, "invalid_profile_name")],
)
def test_a_bad_name_is_refused_with_exit_2_and_the_file_unchanged(
    config: Path, capsys: pytest.CaptureFixture[str], name: str, code: str
) -> None:
    before = snapshot(config.parent)
    status, out, err = run_cli(capsys, "config", "remove", name, "--yes")
    assert (status, out) == (2, "")
    one_error_line(err, code)
    assert snapshot(config.parent) == before


def test_a_file_that_is_not_toml_and_the_environments_key_are_refused_with_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_API_KEY", "env-key")
    status, _, err = run_cli(capsys, "config", "remove", "env", "--yes")
    assert status == 2
    one_error_line(err, "env_profile")
    assert "unset OKX_API_KEY" in err
    config.write_text('[profiles.broken\napi_key = "k"\n')
    status, _, err = run_cli(capsys, "config", "remove", "broken", "--yes")
    assert status == 2
    one_error_line(err, "config_error")
    assert config.read_text() == '[profiles.broken\napi_key = "k"\n'


def without_a_terminal(*argv: str) -> subprocess.CompletedProcess[str]:
    """The command as a real process whose stdin is no terminal (as a script, or an agent, runs it)."""
    return subprocess.run(
        [*CLI, *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=os.environ
    )


def test_without_a_terminal_or_yes_nothing_is_removed(config: Path) -> None:
    before = snapshot(config.parent)
    done = without_a_terminal("config", "remove", "broken")
    assert (done.returncode, done.stdout) == (1, "")
    one_error_line(done.stderr, "not_confirmed")
    assert "--yes" in done.stderr
    assert snapshot(config.parent) == before


def test_a_script_with_yes_and_json_gets_the_summary_on_stdout(config: Path) -> None:
    done = without_a_terminal("config", "remove", "broken", "--yes", "--json")
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["status"] == "removed"


def at_a_terminal(answer: str | None, *, lang: str = "en") -> tuple[int, str, str]:
    """``config remove broken`` with stdin and stderr on a pty: what the terminal showed up to the question, the
    exit code and stdout after ``answer`` is typed (None: Ctrl-C instead)."""
    terminal, their_end = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, "config", "remove", "broken", "--lang", lang],
        stdin=their_end,
        stdout=subprocess.PIPE,
        stderr=their_end,
        text=True,
        env=os.environ,
    )
    os.close(their_end)
    try:
        shown = read_until(terminal, "\n> ", 30)
        if answer is None:
            proc.send_signal(signal.SIGINT)
        else:
            os.write(terminal, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=30)
        return proc.returncode, shown.replace("\r\n", "\n"), out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(terminal)


def test_at_a_terminal_the_question_is_asked_and_yes_removes(config: Path) -> None:
    code, shown, out = at_a_terminal("是", lang="zh")
    assert profile_removal.question("zh", "broken", str(config), is_default=True) in shown
    assert code == 0 and out.startswith(f"已从 {config} 中删除 API Key 配置“broken”。")
    assert "broken" not in tomllib.loads(config.read_text())["profiles"]


@pytest.mark.parametrize("answer", ["no", "y", None])
def test_at_a_terminal_any_other_answer_or_ctrl_c_removes_nothing(config: Path, answer: str | None) -> None:
    before = snapshot(config.parent)
    code, shown, out = at_a_terminal(answer)
    assert "Reply yes to remove it" in shown
    if answer is None:
        assert (code, out) == (130, "")
    else:
        assert (code, out) == (1, profile_removal.kept("en", "broken", str(config)) + "\n")
    assert snapshot(config.parent) == before
