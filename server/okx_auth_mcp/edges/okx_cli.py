"""Runs OKX's official ``okx`` CLI: one command at a time, no shell, a time limit, bounded output.

What it prints is parsed and checked in ``core.okx_cli_output``; the backend that uses it is
``login.okx_cli_backend``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from okx_auth_mcp.core.okx_cli_output import (
    AUTH_SINCE,
    MAX_OUTPUT_CHARS,
    NO_AUTH_COMMAND,
    OkxAuthMissing,
    OkxCliBadOutput,
    OkxCliError,
    OkxCliFailed,
    OkxCliMissing,
    OkxCliTimeout,
    OkxCliTooOld,
    Version,
    parse_status,
    parse_version,
)


@dataclass(frozen=True)
class OkxCli:
    """Runs one ``okx`` command and returns its standard output, within a time limit."""

    executable: str
    environ: Mapping[str, str]
    timeout: float

    @classmethod
    def find(cls, environ: Mapping[str, str], timeout: float) -> OkxCli | None:
        """``okx`` on the PATH of ``environ`` (the environment its commands then run in), if there is one."""
        found = shutil.which("okx", path=environ.get("PATH", os.defpath))
        return None if found is None else cls(found, environ, timeout)

    def run(self, *args: str, timeout: float | None = None) -> str:
        """Its standard output. The output goes to temporary files and is read up to a cap (memory stays
        bounded whatever it prints); on a timeout the whole process group is killed (``okx`` starts
        ``okx-auth``), and a helper that outlives ``okx`` cannot hold the answer back."""
        limit = timeout or self.timeout
        what = "okx " + (" ".join(a for a in args if not a.startswith("-")) or " ".join(args))
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                process = subprocess.Popen(  # noqa: S603 (a fixed command line; the site is one of three ids)
                    [self.executable, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=dict(self.environ),
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise OkxCliMissing("the okx CLI is no longer where it was found") from None
            try:
                status = process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise OkxCliTimeout(f"{what} did not finish within {limit:g} s") from None
            stdout, stderr = _bounded(out, what), _bounded(err, what)
        if "Failed to spawn okx-auth" in stdout + stderr:
            raise OkxAuthMissing(f"{what}: okx could not start its okx-auth binary")
        if status != 0:
            if args[:1] == ("auth",):
                self._refuse_if_too_old(stderr)
            raise OkxCliFailed(f"{what} exited with status {status}")
        return stdout

    def version(self) -> Version | None:
        """``okx --version`` as numbers; None when it fails or prints no version."""
        try:
            return parse_version(self.run("--version"))
        except OkxCliError:
            return None

    def problem(self) -> OkxCliError | None:
        """Why ``okx auth status --json`` does not work here (how ``auto`` decides), or None when it does."""
        try:
            parse_status(self.run("auth", "status", "--json"))
        except OkxCliError as exc:
            return exc
        return None

    def _refuse_if_too_old(self, stderr: str) -> None:
        """After an ``okx auth`` command failed: :class:`OkxCliTooOld` when this okx has none (it says so, or
        its version does: 1.2.x fails on a config it cannot load before it finds the command unknown)."""
        version = self.version()
        if NO_AUTH_COMMAND in stderr or (version is not None and version < AUTH_SINCE):
            raise OkxCliTooOld(version)


def _bounded(file: IO[bytes], what: str) -> str:
    file.seek(0)
    data = file.read(MAX_OUTPUT_CHARS + 1)
    if len(data) > MAX_OUTPUT_CHARS:
        raise OkxCliBadOutput(f"{what}: the output is larger than {MAX_OUTPUT_CHARS} characters")
    return data.decode("utf-8", errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover (Windows: no process groups here)
            process.kill()
    process.wait()
