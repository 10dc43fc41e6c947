"""The layout holds: core is pure (importing it loads no I/O library), no module grows past the size a reader
can hold, every __init__ is empty but the command line's. The import rules themselves are import-linter's
contracts in pyproject.toml, which the README's test command runs (lint-imports)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import okx_auth_mcp
from okx_auth_mcp.core import gate as gate_module
from okx_auth_mcp.core.gate import Event, GateRefused, State
from okx_auth_mcp.login.refusals import error_text
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import stored_session

PACKAGE = Path(okx_auth_mcp.__file__).parent
IO_LIBRARIES = ("httpx2", "filelock", "platformdirs", "subprocess", "mcp", "starlette", "uvicorn", "socket")
LINE_LIMIT = 400


def core_modules() -> list[str]:
    found = pkgutil.walk_packages([str(PACKAGE / "core")], prefix="okx_auth_mcp.core.")
    return ["okx_auth_mcp.core", *sorted(info.name for info in found)]


def test_importing_every_core_module_loads_no_io_library() -> None:
    modules = core_modules()
    assert len(modules) > 15
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True).stdout)
    leaked = [m for m in loaded if m.split(".")[0] in IO_LIBRARIES]
    assert leaked == []
    assert not [m for m in loaded if m.startswith("okx_auth_mcp.") and not m.startswith("okx_auth_mcp.core")]


CORE_MAY_IMPORT = {
    "__future__",
    "typing",
    "dataclasses",
    "collections",
    "enum",
    "re",
    "json",
    "html",
    "math",
    "base64",
    "binascii",
    "hashlib",
    "hmac",
    "ipaddress",
    "unicodedata",
    "tomllib",
    "datetime",
    "urllib.parse",
    "pathlib",
    "pydantic",
    "okx_auth_mcp",
}
"""What core's modules may import: an allow-list, stricter than import-linter's forbidden list (which cannot
name ``urllib.request`` apart from ``urllib.parse``). ``pathlib`` is there for the type of a config's path."""
CORE_MAY_NOT_CALL = {
    "open",
    "now",
    "today",
    "time",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "home",
    "cwd",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "iterdir",
    "mkdir",
    "unlink",
    "getenv",
}
"""Calls that would read the clock, the environment or the file system."""


def _core_trees() -> list[tuple[str, ast.Module]]:
    return [
        (str(p.relative_to(PACKAGE)), ast.parse(p.read_text(encoding="utf-8")))
        for p in (PACKAGE / "core").rglob("*.py")
    ]


def test_core_imports_only_what_is_pure() -> None:
    for name, tree in _core_trees():
        for node in ast.walk(tree):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                allowed = any(module == ok or module.startswith(ok + ".") for ok in CORE_MAY_IMPORT)
                assert allowed or module in CORE_MAY_IMPORT, (name, module)
                assert not module.startswith("okx_auth_mcp.") or module.startswith("okx_auth_mcp.core"), (name, module)


def test_core_reads_no_clock_environment_or_file() -> None:
    for name, tree in _core_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                assert called not in CORE_MAY_NOT_CALL, (name, node.lineno, called)
            if isinstance(node, ast.Attribute):
                assert node.attr != "environ", (name, node.lineno)


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LINE_LIMIT
    }
    assert long == {}


def test_every_init_is_empty_but_the_packages_own() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        code = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
        relative = str(init.relative_to(PACKAGE))
        if relative == "__init__.py":
            continue  # the version
        assert code == [], relative


def test_a_refused_gate_event_has_its_code() -> None:
    text = error_text(GateRefused(State.IDLE, Event.AUTHORIZED))
    assert text.startswith("[gate_refused] event 'authorized' is not allowed in state 'idle'.")
    assert "preflight" in text


def test_the_gate_table_decides_whether_a_poll_may_log_in(
    service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The native backend moves a pending login only through the table: without the row, no session."""
    choice = service.choose_site("1", service.preflight().menu_ticket or "")
    login = service.login(choice.site, choice.site_ticket)
    assert sandbox.state.decide(getattr(login, "user_code", ""), approve=True)
    row = {e: s for e, s in gate_module.TRANSITIONS[State.PENDING].items() if e is not Event.AUTHORIZED}
    monkeypatch.setitem(gate_module.TRANSITIONS, State.PENDING, row)
    with pytest.raises(GateRefused):
        service.status()
    assert stored_session(service) is None
    assert sandbox.state.count("token") == 0  # refused before the request: the device code is not spent
    monkeypatch.undo()
    assert service.status().status == "logged_in"
