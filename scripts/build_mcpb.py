#!/usr/bin/env python3
"""Build the Claude Desktop bundle: ``dist/okx-auth-mcp-<version>.mcpb``.

    python scripts/build_mcpb.py

Stages ``manifest.json``, ``server/main.py``, ``server/okx_auth_mcp/`` and the README under ``build/mcpb/``,
vendors the runtime dependencies into ``build/mcpb/server/lib`` with this interpreter's pip, byte-compiles
both, checks that the staged server imports with nothing but the bundle on ``sys.path``, and packs the
directory with ``npx -y @anthropic-ai/mcpb@2.1.2 pack`` (Node.js required; the npm registry must be reachable
the first time).

The bundle ships its ``.pyc`` files: where ``PYTHONDONTWRITEBYTECODE`` is set, or the unpacked directory is
not writable, nothing else writes them, and every start compiles the MCP SDK, pydantic and the rest from
source (about twice the cold start of the pip-installed package, which pip byte-compiles at install). They
are ``unchecked-hash`` pycs (PEP 552): ``mcpb pack`` stamps every entry with the time of packing, so the
unpacked sources never have the mtimes a timestamp-based pyc records and such pycs would be stale on
arrival; an unchecked-hash pyc is used whatever the source's mtime, without reading the source. The bundle's
files are not meant to be edited in place; after an edit, rebuild.

A bundle is per platform and per Python minor version: pydantic-core (like cryptography, cffi and rpds-py,
which the MCP SDK pulls in) is a compiled (binary) wheel, and pip vendors the one for the interpreter running
this script. The staged manifest's ``compatibility`` is narrowed
to this platform and Python version accordingly; build on each platform you want to ship for.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import py_compile
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAGING = ROOT / "build" / "mcpb"
DIST = ROOT / "dist"
PACKAGE = "okx_auth_mcp"
MCPB = "@anthropic-ai/mcpb@2.1.2"  # pinned: the manifest format and the packer must not move under us
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
# With nothing but the bundle on sys.path (-I -S: no site-packages, no PYTHONPATH), the server and all its
# dependencies import, and the entry point's bootstrap is the one that makes it so.
_SMOKE = (
    "import runpy, sys; runpy.run_path(sys.argv[1])['bootstrap'](); "
    "import okx_auth_mcp.mcp.server, okx_auth_mcp.sandbox.runner, pydantic_core; print(okx_auth_mcp.__version__)"
)


class BuildError(Exception):
    """The bundle cannot be built; the message says why."""


def package_version() -> str:
    text = (ROOT / "server" / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if match is None:
        raise BuildError(f"no __version__ in server/{PACKAGE}/__init__.py")
    return match.group(1)


def staged_manifest(version: str) -> dict[str, Any]:
    """manifest.json, checked against the package version, with compatibility narrowed to this build."""
    manifest: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("version") != version:
        raise BuildError(f"manifest.json has version {manifest.get('version')!r}, the package {version!r}")
    major, minor = sys.version_info[:2]
    compatibility = manifest.setdefault("compatibility", {})
    compatibility["platforms"] = [sys.platform]
    compatibility.setdefault("runtimes", {})["python"] = f">={major}.{minor} <{major}.{minor + 1}"
    return manifest


def run(command: Sequence[str], *, capture: bool = False) -> str:
    print("+", " ".join(command), flush=True)
    done = subprocess.run(list(command), cwd=ROOT, check=False, text=True, capture_output=capture)  # noqa: S603
    if done.returncode != 0:
        detail = f"\n{done.stdout}{done.stderr}" if capture else ""
        raise BuildError(f"{command[0]} exited with {done.returncode}{detail}")
    return done.stdout if capture else ""


def stage(version: str) -> Path:
    if STAGING.exists():
        shutil.rmtree(STAGING)
    server = STAGING / "server"
    server.mkdir(parents=True)
    manifest = staged_manifest(version)
    (STAGING / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    shutil.copy2(ROOT / "server" / "main.py", server / "main.py")
    shutil.copytree(ROOT / "server" / PACKAGE, server / PACKAGE, ignore=_IGNORED)
    for name in ("README.md", "LICENSE", "LICENSE.md", "LICENSE.txt"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, STAGING / name)
    return server


def vendor(server: Path) -> None:
    """The project and its dependencies into server/lib, then the project's own copy out again (its
    sources are server/okx_auth_mcp; the dist-info stays, for importlib.metadata)."""
    lib = server / "lib"
    # pydantic-core is a binary wheel: what pip picks here runs only on this platform and Python minor version.
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib), str(ROOT)])
    shutil.rmtree(lib / PACKAGE)
    shutil.rmtree(lib / "bin", ignore_errors=True)  # console scripts whose shebang is this build's interpreter
    for cache in list(lib.rglob("__pycache__")):
        shutil.rmtree(cache)


def compile_bytecode(server: Path) -> int:
    """Byte-compile the staged package and server/lib for this interpreter (the bundle is per Python minor
    version anyway): unchecked-hash pycs, valid whatever mtimes the unpacked files get (module docstring).
    Returns how many ``.py`` files have a pyc; raises if one does not compile."""
    for directory in (server / PACKAGE, server / "lib"):
        ok = compileall.compile_dir(
            directory,
            ddir=directory.relative_to(STAGING),  # no build path in the pycs; the import system puts in the real one
            quiet=1,
            workers=0,
            optimize=0,  # what a plain ``python3 server/main.py`` looks for: no -O
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise BuildError(f"byte-compiling {directory.relative_to(STAGING)} failed (see the errors above)")
    sources = [path for directory in (server / PACKAGE, server / "lib") for path in directory.rglob("*.py")]
    missing = [path for path in sources if not Path(importlib.util.cache_from_source(str(path))).is_file()]
    if missing:
        raise BuildError(f"no .pyc for {len(missing)} sources, e.g. {missing[0].relative_to(STAGING)}")
    return len(sources)


def smoke(server: Path, version: str) -> None:
    out = run([sys.executable, "-B", "-I", "-S", "-c", _SMOKE, str(server / "main.py")], capture=True)
    if out.strip() != version:
        raise BuildError(f"the staged server reports version {out.strip()!r}, not {version!r}")
    out = run([sys.executable, "-B", "-I", "-S", str(server / "main.py"), "--version"], capture=True)
    if out.strip() != f"okx-auth-mcp {version}":
        raise BuildError(f"server/main.py --version printed {out.strip()!r}")


def pack(version: str) -> Path:
    npx = shutil.which("npx")
    if npx is None:
        raise BuildError("npx not found: install Node.js (npm) to pack the bundle")
    DIST.mkdir(exist_ok=True)
    output = DIST / f"okx-auth-mcp-{version}.mcpb"
    output.unlink(missing_ok=True)
    run([npx, "-y", MCPB, "pack", str(STAGING), str(output)])
    if not output.is_file():
        raise BuildError(f"mcpb pack did not write {output}")
    return output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/okx-auth-mcp-<version>.mcpb for Claude Desktop.")
    parser.add_argument("--no-pack", action="store_true", help="stage and vendor into build/mcpb only")
    args = parser.parse_args(argv)
    try:
        version = package_version()
        server = stage(version)
        vendor(server)
        print(f"byte-compiled {compile_bytecode(server)} modules", flush=True)
        smoke(server, version)
        if args.no_pack:
            print(f"staged {STAGING}")
            return 0
        output = pack(version)
    except BuildError as exc:
        print(f"build_mcpb: {exc}", file=sys.stderr)
        return 1
    size = output.stat().st_size
    target = f"{sys.platform}, Python {sys.version_info[0]}.{sys.version_info[1]}"
    print(f"built {output.relative_to(ROOT)} ({size / 1_000_000:.1f} MB) for {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
