r"""Where ``okx-auth-mcp-bin token`` may put an access token: the channel OKX's kit reads, and nothing else.

OKX's kit reads the token from one of two channels, as its okx-auth binary writes it:

- POSIX: file descriptor 3. The kit spawns the binary with stdio ``[ignore, ignore, inherit, pipe]`` (Node's
  ``pipe`` is a UNIX socket pair) and reads fd 3 to EOF. So fd 3 must be a pipe or a UNIX socket, open for
  writing, and neither stdout nor stderr: a terminal would put the token in a scrollback, a file in a log, a
  TCP or UDP socket on the network, and a closed fd 3 means no OKX tool is reading.
- Windows (no inherited descriptors): the kit listens on a named pipe ``\\.\pipe\okx-auth-<random>`` and
  names it in ``OKX_AUTH_TOKEN_PIPE``; the binary opens it for writing, writes the token and closes it. The
  name must have that prefix. Where the variable is set on POSIX (as the kit's own tests run its Windows path),
  it names a UNIX socket to connect to.

What the check does not do: it does not know *who* reads. ``okx-auth-mcp-bin token 3>&1 | cat`` passes it.
The optional allow-list (``OKX_AUTH_MCP_TOKEN_CALLERS``: the executable paths the parent process may have)
narrows that to the programs named, as far as the operating system reports the parent truthfully; for OKX's
Node tools that is ``node`` itself, so it admits every Node program of the user. Neither stops another program
of the same user, which can ask the user's unlocked keyring (or read the state directory) anyway.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sysconfig
from collections.abc import Collection, Mapping
from dataclasses import dataclass

TOKEN_FD = 3
CALLERS_VARIABLE = "OKX_AUTH_MCP_TOKEN_CALLERS"
PIPE_VARIABLE = "OKX_AUTH_TOKEN_PIPE"
WINDOWS_PIPE_PREFIX = "\\\\.\\pipe\\okx-auth-"
CONNECT_TIMEOUT_SECONDS = 5.0


class TokenPipeError(Exception):
    """The token cannot be handed over: nothing was written."""


class NotAPipe(TokenPipeError):
    """The channel is closed, a terminal, a file, stdout or stderr, or another thing no OKX tool reads."""


class CallerNotAllowed(TokenPipeError):
    """The allow-list is set and the parent process is not on it (or cannot be identified)."""


@dataclass(frozen=True)
class Channel:
    """Where the token goes: ``fd`` (3), or the named pipe (a UNIX socket on POSIX) OKX_AUTH_TOKEN_PIPE names."""

    pipe_name: str | None = None
    fd: int = TOKEN_FD


def channel(environ: Mapping[str, str]) -> Channel:
    """The channel the caller opened, checked (``NotAPipe`` otherwise) before anything is read."""
    name = environ.get(PIPE_VARIABLE)
    if name is None:
        check_fd(TOKEN_FD)
        return Channel()
    if os.name == "nt":
        if not name.startswith(WINDOWS_PIPE_PREFIX) or len(name) == len(WINDOWS_PIPE_PREFIX):
            raise NotAPipe(f"{PIPE_VARIABLE} must name a pipe {WINDOWS_PIPE_PREFIX}...")
    else:
        try:
            mode = os.stat(name).st_mode
        except OSError:
            raise NotAPipe(f"{PIPE_VARIABLE} names nothing that exists") from None
        if not stat.S_ISSOCK(mode):
            raise NotAPipe(f"{PIPE_VARIABLE} must name a socket")
    return Channel(name)


def check_fd(fd: int) -> None:
    """``NotAPipe`` unless ``fd`` is an open pipe or UNIX socket, writable, and not stdout's or stderr's."""
    try:
        status = os.fstat(fd)
    except OSError:
        raise NotAPipe(f"file descriptor {fd} is not open: the token goes only to a program reading fd {fd}") from None
    mode = status.st_mode
    if os.isatty(fd):
        raise NotAPipe(f"file descriptor {fd} is a terminal: a token must not land in a scrollback")
    if stat.S_ISREG(mode):
        raise NotAPipe(f"file descriptor {fd} is a file: a token must not land in a file or a log")
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        raise NotAPipe(f"file descriptor {fd} is not a pipe")
    for std, name in ((1, "stdout"), (2, "stderr")):
        with contextlib.suppress(OSError):  # no stdout: nothing to be confused with
            other = os.fstat(std)
            if (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
                raise NotAPipe(f"file descriptor {fd} is {name}'s pipe: the token would be printed")
    if stat.S_ISSOCK(mode) and _socket_family(fd) != getattr(socket, "AF_UNIX", None):
        raise NotAPipe(f"file descriptor {fd} is a network socket: a token never leaves the machine")
    if not _writable(fd):
        raise NotAPipe(f"file descriptor {fd} is not open for writing")


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


def send_token(token: str, to: Channel) -> None:
    """Write the token and close the channel (the reader's EOF). ``TokenPipeError`` when the reader is gone."""
    data = token.encode("ascii")
    try:
        if to.pipe_name is None:
            _write_all(to.fd, data)
        elif os.name == "nt":  # the kit's named pipe: a client end opened for writing
            with open(to.pipe_name, "wb", buffering=0) as pipe:
                pipe.write(data)
        else:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(CONNECT_TIMEOUT_SECONDS)
                connection.connect(to.pipe_name)
                connection.sendall(data)
                connection.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise TokenPipeError(f"the program reading the token stopped reading ({exc.strerror or exc})") from None


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _socket_family(fd: int) -> int | None:
    """The address family of the socket on ``fd``, without closing it."""
    try:
        probe = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        return int(probe.family)
    finally:
        probe.detach()


def _writable(fd: int) -> bool:
    """Whether ``fd`` was opened for writing (where ``fcntl`` exists; elsewhere the write says so)."""
    try:
        import fcntl
    except ImportError:
        return True
    return (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)


def _same_file_key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))
