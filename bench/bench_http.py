"""The HTTP rows of the bench: round trips of one tool over Streamable HTTP with 1, 10 and 50 concurrent clients,
in both protocol generations.

Each server runs as its own process on 127.0.0.1 (ours: ``okx-auth-mcp serve --http --port 0``; the floor:
``floor_server.py --http``), with the same isolated environment as the stdio rows. Each client is the SDK's own
(``mcp.client.Client`` on a URL: its Streamable HTTP transport, one session and its own connection pool) and
calls the tool in a loop, one call at a time, for a fixed time. The two generations use the connection
differently: with ``mode="legacy"`` (2025-11-25) each call's answer is an SSE stream that the client drops once
it has the result, so each call opens a new connection; with ``mode="auto"`` (2026-07-28 with this SDK) the
answer is plain JSON and the connection is kept open from call to call, which is where a server without
``TCP_NODELAY`` stalls (Nagle's algorithm waits for the client's delayed ACK). A round trip is what the client
sees; requests per second are all clients' calls over the wall time of the run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, get_default_environment

CLIENT_COUNTS = (1, 10, 50)
MODES = ("legacy", "auto")
"""The SDK client's modes: the initialize handshake (2025-11-25), and the newest protocol both speak."""
ANNOUNCED = re.compile(r" at (http://\S+/mcp)")
"""What both servers print on stderr once they listen."""


@dataclass(frozen=True)
class Target:
    """A server to spawn with HTTP on, and the tool to time on it."""

    name: str
    params: Callable[[Path], StdioServerParameters]
    """The same command, environment and directory as over stdio, for a scratch root."""
    http_args: list[str]
    tool: str
    arguments: dict[str, Any]
    expect: tuple[str, str] | None = None
    """A key of the tool's structured result and its value in the state measured."""


@dataclass
class Level:
    mode: str
    protocol: str
    clients: int
    calls: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float


@dataclass
class HttpRun:
    tools: dict[str, str]
    """Server name → the tool timed on it."""
    levels: dict[str, list[Level]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            name: {"tool": self.tools[name], "levels": [asdict(level) for level in levels]}
            for name, levels in self.levels.items()
        }


@contextmanager
def _spawned(target: Target, root: Path, errlog: TextIO) -> Iterator[str]:
    """The server running with HTTP on, its stderr to ``errlog``; yields the endpoint it announces."""
    params = target.params(root)
    env = {**get_default_environment(), **(params.env or {})}
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        [params.command, *params.args, *target.http_args],
        env=env,
        cwd=params.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=errlog,
    )
    try:
        yield _endpoint(target.name, process, errlog.name)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _endpoint(name: str, process: subprocess.Popen[bytes], log: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
        found = ANNOUNCED.search(text)
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}) before it listened; its stderr:\n{text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not announce its HTTP endpoint within 60 s")


async def _call(client: Client, target: Target) -> float:
    started = time.perf_counter()
    result = await client.call_tool(target.tool, target.arguments)
    elapsed = time.perf_counter() - started
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{target.name}: {target.tool} failed over HTTP: {text}")
    if target.expect is not None:
        key, expected = target.expect
        got = (result.structured_content or {}).get(key)
        if got != expected:
            raise RuntimeError(f"{target.tool}: expected {key}={expected!r}, got {got!r}")
    return elapsed


def _percentile(samples: list[float], pct: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


async def _level(url: str, target: Target, mode: str, clients: int, seconds: float, warmup: int) -> Level:
    """``clients`` sessions at once, each calling for ``seconds`` after ``warmup`` untimed calls."""
    samples: list[float] = []
    async with AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(Client(url, mode=mode)) for _ in range(clients)]

        async def warm(client: Client) -> None:
            for _ in range(warmup):
                await _call(client, target)

        async def loop(client: Client, deadline: float) -> None:
            while time.perf_counter() < deadline:
                samples.append(await _call(client, target))

        async with anyio.create_task_group() as group:
            for client in sessions:
                group.start_soon(warm, client)
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for client in sessions:
                group.start_soon(loop, client, started + seconds)
        wall = time.perf_counter() - started
        protocol = sessions[0].protocol_version
    ms = [s * 1000 for s in samples]
    p50, p99 = _percentile(ms, 50), _percentile(ms, 99)
    return Level(mode, protocol, clients, len(ms), wall, len(ms) / wall, p50, p99, statistics.fmean(ms))


async def run(
    targets: Sequence[Target],
    *,
    modes: Sequence[str],
    clients: Sequence[int],
    seconds: float,
    warmup: int,
    scratch: Callable[[str], AbstractContextManager[tuple[Path, TextIO]]],
    progress: Callable[[str], None],
) -> HttpRun:
    """All servers up at once; at each mode and client count each is measured in turn (the order alternating),
    so drift on a busy machine lands on all of them alike. ``scratch(prefix)`` gives a fresh root and a file
    for the server's stderr."""
    result = HttpRun(tools={t.name: t.tool for t in targets}, levels={t.name: [] for t in targets})
    with ExitStack() as stack:
        servers = []
        for target in targets:
            root, errlog = stack.enter_context(scratch(f"bench-http-{target.name}-"))
            servers.append((target, stack.enter_context(_spawned(target, root, errlog))))
        runs = [(mode, count) for mode in modes for count in clients]
        for i, (mode, count) in enumerate(runs):
            for target, url in servers if i % 2 == 0 else reversed(servers):
                level = await _level(url, target, mode, count, seconds, warmup)
                result.levels[target.name].append(level)
                progress(
                    f"http {mode} {target.name} {target.tool}, {count} clients: {level.calls} calls, "
                    f"p50 {level.p50_ms:.1f} ms, p99 {level.p99_ms:.1f} ms, {level.rps:.0f} rps"
                )
    return result


def markdown(run: HttpRun, floor: str, ours: str, seconds: float, warmup: int) -> list[str]:
    lines = [
        f"Streamable HTTP on 127.0.0.1: one SDK client session per client, each calling in a loop for {seconds:g} s "
        f"after {warmup} warm-up calls; legacy: a new connection per call, auto: one kept-open connection",
        "",
        f"| client mode (protocol) | clients | floor (`{run.tools[floor]}`) p50 | p99 | rps "
        f"| {ours} (`{run.tools[ours]}`) p50 | p99 | rps | p50 ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f, o in zip(run.levels[floor], run.levels[ours], strict=True):
        lines.append(
            f"| {o.mode} ({o.protocol}) | {o.clients} | {f.p50_ms:.1f} ms | {f.p99_ms:.1f} ms | {f.rps:.0f} "
            f"| {o.p50_ms:.1f} ms | {o.p99_ms:.1f} ms | {o.rps:.0f} | {o.p50_ms / f.p50_ms:.2f}× |"
        )
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options for its HTTP rows (and ``--only``, to run them alone)."""
    parser.add_argument("--only", choices=["stdio", "http"], help="run only the stdio or only the HTTP rows")
    parser.add_argument(
        "--http-modes",
        type=_modes,
        default=list(MODES),
        help="SDK client modes over HTTP, comma-separated (default legacy,auto: both protocol generations)",
    )
    parser.add_argument(
        "--http-clients",
        type=_client_counts,
        default=list(CLIENT_COUNTS),
        help="concurrent HTTP clients per run, comma-separated (default 1,10,50)",
    )
    parser.add_argument("--http-seconds", type=_seconds, default=3.0, help="seconds per HTTP run (default 3)")
    parser.add_argument("--http-warmup", type=int, default=5, help="untimed calls per HTTP client first (default 5)")


def _modes(text: str) -> list[str]:
    modes = text.split(",")
    if not set(modes) <= set(MODES):
        raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(MODES)}")
    return modes


def _client_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of client counts, such as 1,10,50") from None
    if min(counts) < 1:
        raise argparse.ArgumentTypeError("each client count must be at least 1")
    return counts


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value
