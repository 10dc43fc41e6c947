"""The MCP Bundle's entry point: ``python server/main.py`` serves okx-auth-mcp over stdio.

Claude Desktop runs it as the bundle's ``manifest.json`` says. The bundle carries its runtime dependencies
in ``server/lib`` (vendored by ``scripts/build_mcpb.py``) and the package itself in ``server/okx_auth_mcp``;
both go on ``sys.path`` here, so the script also works without ``PYTHONPATH`` and from a source checkout.
Any arguments are passed to the CLI (``--version``, ``serve --sandbox``); with none it serves stdio.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_PYTHON = (3, 11)

# An optional user_config value the user left empty reaches the environment as the literal placeholder
# (Claude Desktop substitutes only the values it has). Such a variable means "unset", not a path named
# "${user_config.okx_home}".
_UNSUBSTITUTED = re.compile(r"^\$\{user_config\.[^}]*\}$")


def drop_unsubstituted(environ: MutableMapping[str, str]) -> list[str]:
    """Remove every variable whose value is a bare ``${user_config.*}`` placeholder; return their names."""
    names = [name for name, value in environ.items() if _UNSUBSTITUTED.match(value)]
    for name in names:
        del environ[name]
    return names


def bootstrap() -> None:
    """``server/`` (this package's sources) first, then ``server/lib`` (its vendored dependencies)."""
    for path in (HERE / "lib", HERE):
        if path.is_dir() and str(path) not in sys.path:
            sys.path.insert(0, str(path))


def main() -> int:
    if sys.version_info < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        print(f"okx-auth-mcp needs Python {wanted} or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 1
    bootstrap()
    drop_unsubstituted(os.environ)
    try:
        # pydantic_core is compiled: in a bundle built elsewhere, this is the import that fails. Fail here,
        # with a message saying what to do, rather than later inside the server with a bare ImportError.
        import pydantic_core  # noqa: F401

        from okx_auth_mcp.cli.main import main as cli_main
    except ImportError as exc:
        print(
            f"okx-auth-mcp: cannot import its dependencies ({exc}). A bundle's vendored dependencies "
            f"(server/lib) include compiled code for one platform and Python version; this is Python "
            f"{sys.version_info.major}.{sys.version_info.minor} on {sys.platform}. Rebuild the bundle here "
            "with scripts/build_mcpb.py.",
            file=sys.stderr,
        )
        return 1
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
