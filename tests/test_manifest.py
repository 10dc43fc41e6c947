"""The Claude Desktop bundle's manifest.json says what the server is: its version, its tools and prompts, and
an entry point that really serves MCP over stdio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

import okx_auth_mcp
from tests.helpers import write_config

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]
MANIFEST: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
ENTRY_POINT = ROOT / MANIFEST["server"]["entry_point"]


def _names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries]


def test_the_manifest_version_is_the_package_version() -> None:
    assert MANIFEST["manifest_version"] == "0.3"
    assert MANIFEST["name"] == "okx-auth-mcp"
    assert MANIFEST["version"] == okx_auth_mcp.__version__


def test_the_entry_point_is_a_python_script_in_the_bundle() -> None:
    server = MANIFEST["server"]
    assert server["type"] == "python"
    assert server["entry_point"].startswith("server/")
    assert ENTRY_POINT.is_file()
    config = server["mcp_config"]
    assert config["args"][0] == "${__dirname}/" + server["entry_point"]
    assert config["env"]["PYTHONPATH"] == "${__dirname}/server/lib"


def test_every_user_config_reaches_the_server_through_the_environment() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    used = {value.removeprefix("${user_config.").removesuffix("}") for value in env.values() if "user_config" in value}
    assert used == set(MANIFEST.get("user_config", {}))
    assert env["OKX_HOME"] == "${user_config.okx_home}"


async def test_the_manifest_lists_exactly_the_server_tools(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert sorted(_names(MANIFEST["tools"])) == sorted(tool.name for tool in tools)
    assert len(set(_names(MANIFEST["tools"]))) == len(MANIFEST["tools"])
    assert all(entry.get("description") for entry in MANIFEST["tools"])


async def test_the_manifest_lists_exactly_the_server_prompts(client: Client) -> None:
    served = {
        prompt.name: [arg.name for arg in prompt.arguments or []] for prompt in (await client.list_prompts()).prompts
    }
    declared = {entry["name"]: entry.get("arguments", []) for entry in MANIFEST["prompts"]}
    assert declared == served
    for entry in MANIFEST["prompts"]:
        assert entry["text"] and all("${arguments." + arg + "}" in entry["text"] for arg in entry.get("arguments", []))


async def test_the_entry_point_serves_stdio(isolated_env: dict[str, str]) -> None:
    # As Claude Desktop starts it when the optional OKX home was left empty: the placeholder arrives
    # unsubstituted and must mean "the default ~/.okx", where this API-key profile is.
    write_config(
        str(Path(isolated_env["HOME"]) / ".okx"),
        '[profiles.main]\napi_key = "k-123456789"\nsecret_key = "s"\npassphrase = "p"\nsite = "global"\n',
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ENTRY_POINT.parent / "lib"),
        "OKX_HOME": MANIFEST["server"]["mcp_config"]["env"]["OKX_HOME"],
    }
    params = StdioServerParameters(command=sys.executable, args=[str(ENTRY_POINT)], env=env)
    async with Client(params, mode="legacy") as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("okx-auth-mcp", okx_auth_mcp.__version__)
        tools = (await client.list_tools()).tools
        assert sorted(tool.name for tool in tools) == sorted(_names(MANIFEST["tools"]))
        pre = await client.call_tool("preflight", {})
        assert not pre.is_error and isinstance(pre.structured_content, dict)
        assert pre.structured_content["next"] == "api_key_configured"


def test_the_entry_point_passes_arguments_to_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, str(ENTRY_POINT), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"okx-auth-mcp {okx_auth_mcp.__version__}")


def test_the_entry_point_finds_the_vendored_dependencies_alone(tmp_path: Path) -> None:
    # As in a bundle: server/main.py, server/okx_auth_mcp and the dependencies in server/lib, run by a Python
    # that sees nothing else (-I: no PYTHONPATH, no user site; -S: no site-packages).
    staged = tmp_path / "server"
    shutil.copytree(ROOT / "server" / "okx_auth_mcp", staged / "okx_auth_mcp")
    shutil.copy2(ENTRY_POINT, staged / "main.py")
    (staged / "lib").symlink_to(sysconfig.get_paths()["purelib"], target_is_directory=True)
    done = subprocess.run(  # -I also keeps the script's own directory off sys.path: main.py must add it
        [sys.executable, "-I", "-S", str(staged / "main.py"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"okx-auth-mcp {okx_auth_mcp.__version__}"), done.stderr
