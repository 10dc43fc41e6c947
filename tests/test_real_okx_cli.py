"""OKX's real ``okx`` CLI (``@okx_ai/okx-trade-cli``; this registry serves 1.2.4) as the service runs it: an
executable named ``okx`` first on the PATH of the environment the service runs with, HOME under tmp_path.

The CLI is found by ``tests.helpers.real_okx_cli``: ``OKX_AUTH_MCP_REAL_OKX`` (``.ci/run`` installs it into
``.ci/npm`` and sets it), else this clone's ``.ci/npm`` (installed by hand); the tests skip without it, and
fail in CI.

What 1.2.4 does, as these tests found it: it reads ``$HOME/.okx/config.toml`` only (it ignores ``OKX_HOME``, so
the tests point ``OKX_HOME`` at that same directory for this package); ``okx config show --json`` prints the
whole file, secret keys and passphrases included, and leaves ``api_key`` out of a profile without one (``""``
when the file says ``""``); it has no ``okx auth``: ``okx auth status --json`` prints ``Unknown command: auth
status`` on stderr and exits 1, unless the profile fails to load first (a partial key: another message, exit 1);
``okx --version`` prints ``1.2.4 (88fac29)``.

Offline: on every start 1.2.4 asks registry.npmjs.org for a newer version unless ``~/.okx/update-check.json``
says it asked within a day, so each test writes that file first (and, without it, a failed check holds every
command 3 s). A preload given in ``NODE_OPTIONS`` replaces ``fetch``, the CLI's only way out, with one that
records the attempt and fails (loopback, the sandbox, excepted): each test ends by checking that nothing tried.
Only commands that work offline run: ``--version``, ``config show --json``, ``auth status --json``, ``auth
logout`` (unknown in 1.2.4), and against the sandbox, ``account config``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp.types import CallToolResult

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.okx_cli_output import AUTH_SINCE, parse_config
from okx_auth_mcp.core.okx_config_edit import NewProfile
from okx_auth_mcp.core.sites import SITE_IDS, SITES, SiteId
from okx_auth_mcp.edges.okx_cli import OkxCli
from okx_auth_mcp.edges.okx_config_writer import save_profile
from okx_auth_mcp.login.backends import backend_note, open_service
from okx_auth_mcp.login.diagnose import ProbeOptions, diagnose
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.brokers import BROKER_CONFIG, SUB, minted
from tests.helpers import connected, data, error_text, free_port, log_in, one_error_line, real_okx_cli, run_cli

PACKAGE = "@okx_ai/okx-trade-cli"
OFFLINE = """\
const loopback = new Set(["127.0.0.1", "localhost", "[::1]"]);
const realFetch = globalThis.fetch;
globalThis.fetch = async (resource, ...rest) => {
  const url = String(resource?.url ?? resource);
  if (loopback.has(new URL(url).hostname)) return realFetch(resource, ...rest);  // the sandbox
  require("fs").appendFileSync(process.env.OKX_TEST_FETCHED, url + "\\n");
  throw new Error("no network in tests");
};
"""
WITH_OKX_AUTH = """\
#!/bin/sh
# okx with `okx auth` as OKX's skill documents it (1.3 on), over the real okx for every other command.
case "$1 $2" in
  "auth status") echo '{"status": "not_logged_in", "site": "global"}' ;;
  "auth logout") echo "Logged out." ;;
  *) exec "$OKX_TEST_REAL" "$@" ;;
esac
"""


@pytest.fixture
def real_okx() -> Path:
    return Path(real_okx_cli()).absolute()


@dataclass
class Okx:
    """The real okx, first on PATH, with its config directory ``$HOME/.okx`` (this package's OKX_HOME too)."""

    directory: Path
    real: Path
    bin: Path

    def config(self, text: str) -> None:
        (self.directory / "config.toml").write_text(text, encoding="utf-8")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["okx", *args], capture_output=True, text=True, timeout=30, env=dict(os.environ))

    def with_okx_auth(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``okx`` becomes :data:`WITH_OKX_AUTH`: an okx with ``okx auth`` (not on this registry), whose every
        other command is the real one's."""
        wrapper = self.bin / "okx"
        wrapper.unlink()
        wrapper.write_text(WITH_OKX_AUTH, encoding="utf-8")
        wrapper.chmod(0o755)
        monkeypatch.setenv("OKX_TEST_REAL", str(self.real))


@pytest.fixture
def okx(real_okx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Okx]:
    directory = Path(os.environ["HOME"]) / ".okx"
    directory.mkdir(parents=True)
    monkeypatch.setenv("OKX_HOME", str(directory))
    checked = {PACKAGE: {"latestVersion": "0.0.0", "checkedAt": int(time.time() * 1000)}}
    (directory / "update-check.json").write_text(json.dumps(checked), encoding="utf-8")
    fetched = tmp_path / "fetched.txt"
    (tmp_path / "offline.cjs").write_text(OFFLINE, encoding="utf-8")
    monkeypatch.setenv("NODE_OPTIONS", f"--require={tmp_path / 'offline.cjs'}")
    monkeypatch.setenv("OKX_TEST_FETCHED", str(fetched))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "okx").symlink_to(real_okx)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    monkeypatch.setenv("OKX_AUTH_HTTP_TIMEOUT", "20")
    yield Okx(directory, real_okx, bin_dir)
    assert not fetched.exists(), f"the okx CLI tried the network: {fetched.read_text(encoding='utf-8')}"


def service_with(monkeypatch: pytest.MonkeyPatch, backend: str) -> AuthService:
    monkeypatch.setenv("OKX_AUTH_BACKEND", backend)
    return open_service(Settings.from_env())


def installed_version() -> tuple[int, int, int]:
    cli = OkxCli.find(os.environ, 20)
    assert cli is not None
    version = cli.version()
    assert version is not None
    return version


def require_no_okx_auth() -> str:
    """The installed okx's version, for the tests of an okx without ``okx auth`` (1.2.x, as CI installs)."""
    version = installed_version()
    if version >= AUTH_SINCE:
        pytest.skip(f"the okx installed ({version}) has okx auth")
    return ".".join(map(str, version))


def test_it_runs_offline_and_prints_its_version(okx: Okx) -> None:
    started = time.monotonic()
    done = okx.run("--version")
    assert done.returncode == 0 and done.stdout.startswith(".".join(map(str, installed_version())) + " ")
    assert time.monotonic() - started < 2.5  # no update check held it (a failed one takes 3 s)


# ----- the secrets okx config show prints ---------------------------------------------------------------


@pytest.mark.anyio
async def test_nothing_of_ours_passes_on_the_secrets_okx_config_show_prints(
    okx: Okx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = [f"ak-{secrets.token_hex(12)}" for _ in range(2)]
    hidden = [f"{kind}-{secrets.token_hex(12)}" for kind in ("sk", "pp", "sk", "pp")]
    closed = f"http://127.0.0.1:{free_port()}"  # diagnose and verify_credentials go there, and find it closed
    okx.config(
        f'default_profile = "main"\n'
        f'[profiles.main]\napi_key = "{keys[0]}"\nsecret_key = "{hidden[0]}"\npassphrase = "{hidden[1]}"\n'
        f'site = "eea"\nbase_url = "{closed}"\n'
        f'[profiles.spare]\napi_key = "{keys[1]}"\nsecret_key = "{hidden[2]}"\npassphrase = "{hidden[3]}"\n'
        f'site = "us"\nbase_url = "{closed}"\n'
    )
    printed = okx.run("config", "show", "--json")
    assert printed.returncode == 0
    assert all(value in printed.stdout for value in keys + hidden)  # so this test can fail

    shown: list[str] = []

    async def tools(service: AuthService) -> dict[str, CallToolResult]:
        results: dict[str, CallToolResult] = {}
        async with connected(service, "legacy") as client:
            for name, args in (
                ("preflight", {}),
                ("auth_login_manual", {"site": "eea", "lang": "en"}),
                ("auth_status", {"lang": "en"}),
                ("verify_credentials", {"lang": "en"}),
                ("diagnose", {"lang": "en"}),
                ("logout", {}),
            ):
                result = await client.call_tool(name, args)
                shown.append(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
                results[name] = result
        return results

    def commands() -> None:
        for argv in (["status"], ["diagnose", "--timeout", "1"], ["diagnose", "--json"], ["config", "show"]):
            shown.append(repr(run_cli(capsys, *argv)))

    # The okx-cli backend: `okx config show` runs for the API key, `okx auth ...` finds no such command.
    cli_backed = service_with(monkeypatch, "okx-cli")
    assert cli_backed.backend.api_key_and_site() == ("main", "eea")
    results = await tools(cli_backed)
    assert error_text(results["preflight"]).startswith("[okx_cli_too_old]")
    assert data(results["auth_login_manual"])["profile"] == "main"  # from what okx config show printed
    commands()
    # auto: the native backend, which reads the same file itself.
    monkeypatch.setenv("OKX_AUTH_BACKEND", "auto")
    results = await tools(open_service(Settings.from_env()))
    assert data(results["preflight"])["backend_note"]
    commands()
    # An okx with `okx auth`: preflight goes through the real okx config show.
    okx.with_okx_auth(monkeypatch)
    results = await tools(service_with(monkeypatch, "okx-cli"))
    assert (data(results["preflight"])["next"], data(results["preflight"])["profile"]) == ("api_key_configured", "main")
    commands()

    state = Path(os.environ["OKX_AUTH_MCP_STATE_DIR"])
    stored = [path.read_bytes().decode("latin-1") for path in state.rglob("*") if path.is_file()]
    assert stored and len(shown) == 3 * (6 + 4)
    everything = "\n".join([*shown, *stored, caplog.text, *(r.getMessage() for r in caplog.records)])
    for value in keys + hidden:
        assert value not in everything


# ----- "api_key": "(not set)" and other profiles without a key ------------------------------------------


@pytest.mark.anyio
async def test_a_profile_without_an_api_key_does_not_stop_the_login(okx: Okx, monkeypatch: pytest.MonkeyPatch) -> None:
    okx.config('default_profile = "trade"\n[profiles.trade]\nsite = "us"\n[profiles.blank]\napi_key = ""\n')
    printed = okx.run("config", "show", "--json")
    profiles = json.loads(printed.stdout)["profiles"]
    assert "api_key" not in profiles["trade"] and profiles["blank"]["api_key"] == ""  # what 1.2.4 prints
    config = parse_config(printed.stdout)
    assert (config.api_key_profile, config.site) == (None, "us")
    assert service_with(monkeypatch, "okx-cli").backend.api_key_and_site() == (None, "us")
    okx.with_okx_auth(monkeypatch)
    async with connected(service_with(monkeypatch, "okx-cli"), "legacy") as client:
        pre = data(await client.call_tool("preflight", {}))
        assert pre["next"] == "choose_site"
        choice = data(await client.call_tool("choose_site", {"reply": "3", "menu_ticket": pre["menu_ticket"]}))
        assert (choice["site"], choice["next"]) == ("us", "login")


# ----- an okx without okx auth ----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "config",
    [
        "",  # okx says: Unknown command: auth status
        '[profiles.default]\napi_key = "half-a-key"\nbase_url = "{closed}"\n',  # okx: Partial API credentials ...
    ],
)
async def test_okx_cli_on_an_okx_without_okx_auth_is_too_old_and_names_the_upgrade(
    okx: Okx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config: str
) -> None:
    version = require_no_okx_auth()
    closed = f"http://127.0.0.1:{free_port()}"  # what diagnose probes
    okx.config(config.format(closed=closed))
    assert okx.run("auth", "status", "--json").returncode == 1
    monkeypatch.setenv("OKX_OAUTH_ISSUER", closed)
    service = service_with(monkeypatch, "okx-cli")
    async with connected(service, "legacy") as client:
        text = error_text(await client.call_tool("preflight", {}))
    assert text.startswith(f"[okx_cli_too_old] okx {version} has no `okx auth` command"), text
    assert texts.OKX_CLI_UPGRADE in text and "Partial" not in text
    code, out, err = run_cli(capsys, "status")
    one_error_line(err, "okx_cli_too_old")
    assert code != 0 and out == "" and texts.OKX_CLI_UPGRADE in err
    report = diagnose(service, ProbeOptions(timeout=1.0))
    item = next(c for c in report.checks if c.id == "backend.okx_cli")
    assert item.status == "fail" and version in item.finding.en and item.next is not None
    assert texts.OKX_CLI_UPGRADE in item.next.en and texts.OKX_CLI_UPGRADE in item.next.zh


@pytest.mark.anyio
async def test_auto_on_an_okx_without_okx_auth_logs_in_natively_and_says_why(
    okx: Okx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    version = require_no_okx_auth()
    monkeypatch.setenv("OKX_OAUTH_ISSUER", f"http://127.0.0.1:{free_port()}")
    service = service_with(monkeypatch, "auto")
    assert service.backend_name == "native"
    assert backend_note(service) == BackendNote("okx_cli_too_old", version=version)
    async with connected(service, "legacy") as client:
        pre = data(await client.call_tool("preflight", {"lang": "en"}))
        assert (pre["next"], pre["reply"], pre["backend"]) == ("choose_site", texts.SITE_MENU, "native")
        assert f"({version}) has no `okx auth`" in pre["backend_note"] and texts.OKX_CLI_UPGRADE in pre["backend_note"]
        checks = data(await client.call_tool("diagnose", {"lang": "zh"}))["checks"]
    item = next(c for c in checks if c["id"] == "backend.okx_cli")
    assert item["status"] == "warn" and version in item["finding"] and texts.OKX_CLI_UPGRADE in item["next"]
    _, out, err = run_cli(capsys, "diagnose", "--timeout", "1", "--lang", "en")
    assert err == ""
    assert f"[warn] OKX's okx CLI: OKX's okx CLI on PATH ({version}) has no `okx auth` command" in out, out
    assert f"Next: To log in through OKX's CLI instead, upgrade it: {texts.OKX_CLI_UPGRADE}" in out


# ----- OKX's own okx CLI trading on this package's session (OKX_AUTH_BIN) ---------------------------------


def test_okx_reads_the_account_with_our_session(okx: Okx, me: AuthService, live: RunningSandbox) -> None:
    """End to end: the gate's login, then OKX's own CLI, which from 1.3 runs OKX_AUTH_BIN for its token, reads
    the account at the sandbox with our Bearer token. Older CLIs have no ``okx auth`` and never run it."""
    version = installed_version()
    if version < AUTH_SINCE:
        pytest.skip(
            f"okx {'.'.join(map(str, version))} does not read OKX_AUTH_BIN (1.3+ does): "
            "tests/node/okx_kit.mjs (test_okx_auth_bin.py) stands in for OKX's kit"
        )
    log_in(me, live, "global")
    bin_path = Path(sysconfig.get_path("scripts")) / "okx-auth-mcp-bin"
    env = dict(os.environ, OKX_AUTH_BIN=str(bin_path), OKX_API_BASE_URL=live.url)
    done = subprocess.run(
        ["okx", "account", "config", "--json"], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert live.state.count("account") >= 1
    token = me.bearer_token()
    assert token not in done.stdout + done.stderr


# ----- what our config writer writes, as OKX's CLI reads it ---------------------------------------------


@pytest.mark.parametrize("site", SITE_IDS)
def test_okx_reads_the_profile_our_writer_wrote(okx: Okx, site: SiteId) -> None:
    okx.config('[profiles.demo]\nsite = "us"\ndemo = true\n')
    (okx.directory / "config.toml").chmod(0o600)
    secret, passphrase = secrets.token_hex(16), "Pp-" + secrets.token_hex(6)
    new = NewProfile(
        "okx-prod", site, demo=False, api_key="ak-" + secrets.token_hex(8), secret_key=secret, passphrase=passphrase
    )
    save_profile(os.environ, new)
    done = okx.run("config", "show", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["profiles"]
    assert shown["demo"] == {"site": "us", "demo": True}
    ours = shown["okx-prod"]
    assert (ours["api_key"], ours["secret_key"], ours["passphrase"]) == (new.api_key, secret, passphrase)
    assert ours["site"] == site and ours.get("demo") is False
    assert ours.get("base_url") == (None if site == "global" else SITES[site].api_base_url)


@pytest.mark.parametrize("site", ["global", "eea"])
def test_okx_reads_and_signs_with_the_profile_config_init_saved(
    okx: Okx, live: RunningSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], site: SiteId
) -> None:
    """``okx-auth-mcp config init`` (without a terminal: the key from the environment), then OKX's own CLI: it
    reads the profile (``config show``) and signs a request with it that the sandbox checks (``account config``,
    a demo-trading key: ``x-simulated-trading: 1``)."""
    api_key, secret, passphrase = "ak-" + secrets.token_hex(8), secrets.token_hex(16), "Pp-" + secrets.token_hex(6)
    live.state.site = site
    live.state.add_api_key(api_key, secret, passphrase, site=site, demo=True)
    for name, value in (("OKX_API_KEY", api_key), ("OKX_SECRET_KEY", secret), ("OKX_PASSPHRASE", passphrase)):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKX_API_BASE_URL", live.url)
    code, out, err = run_cli(capsys, "config", "init", "--site", site, "--demo", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["verified"] == "ok"
    assert secret not in out and passphrase not in out
    for name in ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE"):
        monkeypatch.delenv(name)
    shown = okx.run("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    assert config["default_profile"] == "okx-demo"
    ours = config["profiles"]["okx-demo"]
    assert (ours["api_key"], ours["secret_key"], ours["passphrase"]) == (api_key, secret, passphrase)
    assert ours["site"] == site and ours["demo"] is True
    before = live.state.count("account")
    signed = okx.run("account", "config", "--json")
    assert signed.returncode == 0, signed.stderr
    assert live.state.count("account") == before + 1


def test_okx_reads_and_signs_with_a_sub_account_key_broker_create_key_saved(
    okx: Okx, broker: RunningSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """``okx-auth-mcp broker create-key`` mints a sub-account key at the sandbox and saves it; OKX's own CLI reads
    the new profile (``config show``) and signs a request with it that the sandbox checks (``account config``)."""
    broker.state.clock = time.time
    okx.config(BROKER_CONFIG)
    (okx.directory / "config.toml").chmod(0o600)
    code, out, err = run_cli(capsys, "broker", "create-key", SUB, "okxcli1", "--perm", "trade", "--yes", "--json")
    assert (code, err) == (0, ""), err
    assert json.loads(out)["profile"] == "sub-panpanBroker2-okxcli1"
    ((api_key, secret, passphrase),) = minted(broker)
    shown = okx.run("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    ours = config["profiles"]["sub-panpanBroker2-okxcli1"]
    assert (ours["api_key"], ours["secret_key"], ours["passphrase"]) == (api_key, secret, passphrase)
    assert config["default_profile"] == "broker"  # unchanged
    before = broker.state.count("account")
    signed = okx.run("--profile", "sub-panpanBroker2-okxcli1", "account", "config", "--json")
    assert signed.returncode == 0, signed.stderr
    assert broker.state.count("account") == before + 1
    assert json.loads(signed.stdout)[0]["uid"] == "289000001696"  # the sub-account's own account
