"""Where ``okx-auth-mcp-bin token`` may put an access token: into a pipe on file descriptor 3, and only there.

OKX's kit spawns its ``okx-auth`` binary with stdio ``[ignore, ignore, inherit, pipe]`` and reads the token
from fd 3 to EOF (Node's ``pipe`` is a socket pair on POSIX and a named pipe on Windows, where the CRT hands
fd 3 to the child). So fd 3 must be a pipe or a socket: a terminal would put the token in a scrollback, a
regular file in a log, and a closed fd 3 means no OKX tool is reading.

What the check does not do: it does not know *who* reads the pipe. ``okx-auth-mcp-bin token 3>&1 | cat``
passes it. The optional allow-list (``OKX_AUTH_MCP_TOKEN_CALLERS``: the executable paths the parent process
may have) narrows that to the programs named, as far as the operating system reports the parent truthfully;
for OKX's Node tools that is ``node`` itself, so it admits every Node program of the user. Neither stops
another program of the same user, which can read the state directory anyway.
"""

from __future__ import annotations

import os
import stat
import sysconfig
from collections.abc import Collection, Mapping

TOKEN_FD = 3
CALLERS_VARIABLE = "OKX_AUTH_MCP_TOKEN_CALLERS"


class TokenPipeError(Exception):
    """The token cannot be handed over: nothing was written."""


class NotAPipe(TokenPipeError):
    """fd 3 is closed, a terminal, a file or another thing that is not a pipe."""


class CallerNotAllowed(TokenPipeError):
    """The allow-list is set and the parent process is not on it (or cannot be identified)."""


def check_pipe(fd: int = TOKEN_FD) -> None:
    """``NotAPipe`` unless ``fd`` is an open pipe or socket."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        raise NotAPipe(f"file descriptor {fd} is not open: the token goes only to a program reading fd {fd}") from None
    if os.isatty(fd):
        raise NotAPipe(f"file descriptor {fd} is a terminal: a token must not land in a scrollback")
    if stat.S_ISREG(mode):
        raise NotAPipe(f"file descriptor {fd} is a file: a token must not land in a file or a log")
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        raise NotAPipe(f"file descriptor {fd} is not a pipe")


def allowed_callers(environ: Mapping[str, str]) -> list[str] | None:
    """The allow-list (``os.pathsep``-separated absolute paths), or None when it is not set. A relative
    path is refused: it would match whatever the current directory holds."""
    value = environ.get(CALLERS_VARIABLE, "").strip()
    if not value:
        return None
    paths = [path.strip() for path in value.split(os.pathsep) if path.strip()]
    relative = [path for path in paths if not os.path.isabs(path)]
    if relative:
        raise CallerNotAllowed(f"{CALLERS_VARIABLE} must list absolute paths of executables; not {relative[0]!r}")
    return [_same_file_key(path) for path in paths]


def own_launchers() -> list[str]:
    """pip's console-script launcher of this program, ``okx-auth-mcp-bin.exe`` beside Python's scripts: on
    Windows it runs Python as its child, so the caller is the launcher's parent. (On POSIX the script is a
    text file that Python runs in the same process: never a process's executable.)"""
    schemes = (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))
    return [_same_file_key(os.path.join(sysconfig.get_path("scripts", s), "okx-auth-mcp-bin.exe")) for s in schemes]


def check_caller(allowed: list[str]) -> None:
    """``CallerNotAllowed`` unless the parent process's executable is one of ``allowed``."""
    caller = parent_executable(own_launchers())
    if caller is None:
        raise CallerNotAllowed(f"{CALLERS_VARIABLE} is set, and the calling process cannot be identified")
    if _same_file_key(caller) not in allowed:
        raise CallerNotAllowed(f"{caller} is not in {CALLERS_VARIABLE}")


def parent_executable(launchers: Collection[str] = ()) -> str | None:
    """The executable of the process that started this one (past a parent whose executable is one of
    ``launchers``), or None when it has exited or cannot be read. psutil reads it on every platform
    (``/proc`` on Linux, ``proc_pidpath`` on macOS, ``QueryFullProcessImageNameW`` on Windows); it is imported
    only when an allow-list is set."""
    import psutil

    try:
        me = psutil.Process()
        parent = me.parent()
        if parent is not None and _same_file_key(parent.exe()) in launchers:
            parent = parent.parent()
        # A parent that started after us is a reused pid: ours has exited.
        if parent is None or parent.create_time() > me.create_time():
            return None
        return str(parent.exe()) or None
    except psutil.Error:
        return None


def send_token(token: str, fd: int = TOKEN_FD) -> None:
    """Write the token to ``fd`` and close it (the reader's EOF). ``TokenPipeError`` when the reader is gone."""
    data = token.encode("ascii")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise TokenPipeError(f"the program reading file descriptor {fd} stopped reading ({exc.strerror})") from None
    finally:
        os.close(fd)


def _same_file_key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))
