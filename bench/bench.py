"""Cold start, memory and round-trip latency of ``okx-auth-mcp serve`` next to the SDK's own floor.

The floor is ``bench/floor_server.py``: a bare ``MCPServer`` with one trivial tool, on the same interpreter
and SDK. Both servers are spawned over stdio by the SDK's stdio client with the initialize handshake
(``mode="legacy"``, protocol 2025-11-25), which is what Claude Desktop does today. Ours runs with a fresh
temporary ``HOME``, ``OKX_HOME`` and state directory and no ``OKX_*`` credentials, so ``preflight`` answers
with the site menu and nothing touches the network.

With HTTP on (the default), the same two servers also run as Streamable HTTP servers on 127.0.0.1, and 1, 10 and
50 concurrent SDK clients call ``preflight`` (the floor: ``ping``) in a loop: p50/p99 and requests per second
(``bench_http.py``).

This is a measurement, not a test: it exits 0 whatever the numbers, unless ``--check`` is given.

    .venv/bin/python bench/bench.py [--starts 10] [--calls 500] [--only stdio|http] [--http-seconds 3]
        [--http-modes legacy,auto] [--http-clients 1,10,50] [--json] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

import anyio
import bench_http
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult

HERE = Path(__file__).resolve().parent
FLOOR_SCRIPT = HERE / "floor_server.py"
MODE = "legacy"
"""The initialize handshake (protocol 2025-11-25 with this SDK): what Claude Desktop speaks today."""

COLD_START_TARGET = 1.15
"""Our median cold start may be at most this multiple of the floor's."""
LATENCY_TARGET = 1.5
"""The p50 of each of our tools may be at most this multiple of the floor's trivial tool."""

OURS_TOOLS: tuple[tuple[str, dict[str, Any]], ...] = (("preflight", {"lang": "en"}), ("auth_status", {"lang": "en"}))
FLOOR_TOOL: tuple[str, dict[str, Any]] = ("ping", {})


@dataclass(frozen=True)
class ServerSpec:
    name: str
    args: list[str]
    marker: str
    """A substring of the server's command line, to find its process among our children."""

    def params(self, root: Path) -> StdioServerParameters:
        # The stdio client starts from its own safe minimum (HOME, PATH, ...), never os.environ: no OKX_* or
        # proxy variable of the machine reaches either server. Both get the same isolated directories.
        env = {
            "HOME": str(root / "home"),
            "OKX_HOME": str(root / "okx-home"),
            "OKX_AUTH_MCP_STATE_DIR": str(root / "state"),
        }
        return StdioServerParameters(command=sys.executable, args=self.args, env=env, cwd=str(root))


FLOOR = ServerSpec("floor", [str(FLOOR_SCRIPT)], marker=FLOOR_SCRIPT.name)
OURS = ServerSpec("okx-auth-mcp", ["-m", "okx_auth_mcp", "serve"], marker="okx_auth_mcp")

HTTP_TOOL: tuple[str, dict[str, Any]] = OURS_TOOLS[0]
"""The tool timed over HTTP: ``preflight``, local state only."""
HTTP_TARGETS = (
    bench_http.Target(FLOOR.name, FLOOR.params, ["--http"], *FLOOR_TOOL),
    bench_http.Target(OURS.name, OURS.params, ["--http", "--port", "0"], *HTTP_TOOL, expect=("next", "choose_site")),
)


# ----- processes --------------------------------------------------------------------------------------


def _children() -> dict[int, str]:
    """Our child processes (pid → command line), from /proc. The stdio client starts the server in a new
    session, but its parent is still this process."""
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
        found[int(entry.name)] = cmdline
    return found


def _new_child(before: set[int], marker: str) -> int:
    candidates = [pid for pid, cmd in _children().items() if pid not in before and marker in cmd]
    if len(candidates) != 1:
        raise RuntimeError(f"expected one new child process matching {marker!r}, found {candidates}")
    return candidates[0]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (/proc/<pid>/stat utime and stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> int:
    """A ``VmHWM``/``VmRSS`` line of /proc/<pid>/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


@contextmanager
def _scratch(prefix: str) -> Iterator[tuple[Path, TextIO]]:
    """A fresh root for one server (HOME, OKX_HOME, state dir), and a file for its stderr."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        with (root / "stderr.log").open("w+", encoding="utf-8") as errlog:
            yield root, errlog


# ----- measurements -----------------------------------------------------------------------------------


@dataclass
class StartSample:
    seconds: float
    cpu_seconds: float
    hwm_kib: int
    protocol: str


@dataclass
class Session:
    client: Client
    pid: int


async def _connect(stack: AsyncExitStack, spec: ServerSpec, root: Path, errlog: TextIO) -> tuple[Session, float]:
    """Spawn the server and complete the initialize handshake; the seconds from spawn to the response."""
    before = set(_children())
    transport = stdio_client(spec.params(root), errlog=errlog)
    started = time.perf_counter()
    try:
        client = await stack.enter_async_context(Client(transport, mode=MODE))
    except Exception as exc:
        errlog.flush()
        errlog.seek(0)
        tail = errlog.read()[-2000:]
        raise RuntimeError(f"{spec.name} did not complete the initialize handshake; its stderr:\n{tail}") from exc
    elapsed = time.perf_counter() - started
    return Session(client, _new_child(before, spec.marker)), elapsed


async def cold_start(spec: ServerSpec) -> StartSample:
    with _scratch(f"bench-{spec.name}-") as (root, errlog):
        async with AsyncExitStack() as stack:
            session, elapsed = await _connect(stack, spec, root, errlog)
            cpu = _cpu_seconds(session.pid)
            hwm = _status_kib(session.pid, "VmHWM")
            return StartSample(elapsed, cpu, hwm, session.client.protocol_version)


def _checked(spec: ServerSpec, tool: str, result: CallToolResult) -> None:
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{spec.name}: {tool} failed: {text}")


_EXPECTED = {"preflight": ("next", "choose_site"), "auth_status": ("status", "not_logged_in")}


async def _call(session: Session, spec: ServerSpec, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    result = await session.client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - started
    _checked(spec, tool, result)
    return elapsed


def _job(session: Session, spec: ServerSpec, tool: str, arguments: dict[str, Any]) -> Callable[[], Awaitable[float]]:
    return lambda: _call(session, spec, tool, arguments)


def _percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


@dataclass
class Latency:
    tool: str
    p50_ms: float
    p99_ms: float
    mean_ms: float


@dataclass
class LatencyRun:
    floor: Latency
    ours: list[Latency]
    floor_peak_kib: int
    ours_peak_kib: int


async def latency(calls: int, warmup: int) -> LatencyRun:
    """Both servers open at once; each round calls the floor's tool and each of ours once, in a rotating
    order, so drift on a busy machine lands on all of them alike."""
    with _scratch("bench-floor-") as (floor_root, floor_log), _scratch("bench-ours-") as (ours_root, ours_log):
        async with AsyncExitStack() as stack:
            floor, _ = await _connect(stack, FLOOR, floor_root, floor_log)
            ours, _ = await _connect(stack, OURS, ours_root, ours_log)
            # The state the numbers are about: no credentials, no site, no login.
            for tool, arguments in OURS_TOOLS:
                result = await ours.client.call_tool(tool, arguments)
                _checked(OURS, tool, result)
                key, expected = _EXPECTED[tool]
                got = (result.structured_content or {}).get(key)
                if got != expected:
                    raise RuntimeError(f"{tool}: expected {key}={expected!r}, got {got!r}")
            jobs = [(FLOOR_TOOL[0], _job(floor, FLOOR, *FLOOR_TOOL))]
            jobs += [(tool, _job(ours, OURS, tool, arguments)) for tool, arguments in OURS_TOOLS]
            for _ in range(warmup):
                for _name, job in jobs:
                    await job()
            samples: dict[str, list[float]] = {name: [] for name, _ in jobs}
            for i in range(calls):
                for k in range(len(jobs)):
                    name, job = jobs[(i + k) % len(jobs)]
                    samples[name].append(await job())
            floor_peak = _status_kib(floor.pid, "VmHWM")
            ours_peak = _status_kib(ours.pid, "VmHWM")

    def summary(name: str) -> Latency:
        ms = [s * 1000 for s in samples[name]]
        return Latency(name, _percentile(ms, 50), _percentile(ms, 99), statistics.fmean(ms))

    return LatencyRun(summary(FLOOR_TOOL[0]), [summary(t) for t, _ in OURS_TOOLS], floor_peak, ours_peak)


# ----- report -----------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ratio: float
    limit: float

    @property
    def passed(self) -> bool:
        return self.ratio <= self.limit


@dataclass
class Results:
    environment: dict[str, Any]
    starts: dict[str, list[StartSample]]
    latency: LatencyRun | None
    """None with ``--only http`` (and then ``starts`` is empty)."""
    http: bench_http.HttpRun | None = None
    checks: list[Check] = field(default_factory=list)

    def start_ms(self, name: str, how: Callable[[list[float]], float]) -> float:
        return how([s.seconds * 1000 for s in self.starts[name]])

    def start_cpu_ms(self, name: str) -> float:
        return statistics.median(s.cpu_seconds * 1000 for s in self.starts[name])

    def paired_start_ratio(self) -> float:
        """The median of ours/floor over the starts made back to back: less exposed to slow drift."""
        pairs = zip(self.starts[OURS.name], self.starts[FLOOR.name], strict=True)
        return statistics.median(o.seconds / f.seconds for o, f in pairs)

    def start_hwm_mib(self, name: str) -> float:
        return statistics.median(s.hwm_kib for s in self.starts[name]) / 1024

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"environment": self.environment}
        if self.latency is not None:
            found.update(self.stdio_json(self.latency))
        if self.http is not None:
            found["http"] = self.http.to_json()
        found["checks"] = [{**asdict(c), "passed": c.passed} for c in self.checks]
        return found

    def stdio_json(self, latency: LatencyRun) -> dict[str, Any]:
        return {
            "cold_start_ms": {
                name: {
                    "median": self.start_ms(name, statistics.median),
                    "min": self.start_ms(name, min),
                    "max": self.start_ms(name, max),
                    "samples": [s.seconds * 1000 for s in samples],
                }
                for name, samples in self.starts.items()
            },
            "cold_start_paired_ratio_median": self.paired_start_ratio(),
            "cold_start_cpu_ms_median": {name: self.start_cpu_ms(name) for name in self.starts},
            "rss_after_initialize_mib": {name: self.start_hwm_mib(name) for name in self.starts},
            "peak_rss_before_shutdown_mib": {
                FLOOR.name: latency.floor_peak_kib / 1024,
                OURS.name: latency.ours_peak_kib / 1024,
            },
            "latency_ms": {
                FLOOR.name: {latency.floor.tool: asdict(latency.floor)},
                OURS.name: {lat.tool: asdict(lat) for lat in latency.ours},
            },
        }


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown(res: Results) -> str:
    env = res.environment
    lines = [
        f"okx-auth-mcp bench: Python {env['python']}, mcp {env['mcp']}, {env['cpus']} CPUs, "
        f"load average before {env['loadavg_before']}, after {env['loadavg_after']}",
    ]
    if res.latency is not None:
        lines += _stdio_markdown(res, res.latency)
    if res.http is not None:
        seconds, warmup = env["http_seconds"], env["http_warmup"]
        lines += ["", *bench_http.markdown(res.http, FLOOR.name, OURS.name, seconds, warmup)]
    failed = [c.name for c in res.checks if not c.passed]
    lines += ["", "all targets met" if not failed else f"missed: {', '.join(failed)}"]
    return "\n".join(lines)


def _stdio_markdown(res: Results, lat: LatencyRun) -> list[str]:
    env = res.environment
    f, o = FLOOR.name, OURS.name
    lines = [
        f"stdio, SDK client mode={MODE!r} (the initialize handshake, as Claude Desktop does today; protocol "
        f"{env['protocol']}); {env['starts']} cold starts each (alternating, after {env['warmup_starts']} discarded), "
        f"{env['calls']} calls per tool after {env['warmup_calls']} warm-up calls, interleaved",
        "",
        _row("metric", f"floor ({FLOOR_TOOL[0]})", o, "ratio", "target", "result"),
        _row("---", "---:", "---:", "---:", "---", "---"),
    ]
    checks = iter(res.checks)

    def ratio_row(label: str, floor_value: float, ours_value: float, unit: str, checked: bool) -> None:
        ratio = ours_value / floor_value
        target, verdict = "", ""
        if checked:
            check = next(checks)
            target, verdict = f"≤ {check.limit:.2f}×", "PASS" if check.passed else "**FAIL**"
        lines.append(
            _row(label, f"{floor_value:.1f} {unit}", f"{ours_value:.1f} {unit}", f"{ratio:.2f}×", target, verdict)
        )

    ratio_row("cold start, median", res.start_ms(f, statistics.median), res.start_ms(o, statistics.median), "ms", True)
    ratio_row("cold start, min", res.start_ms(f, min), res.start_ms(o, min), "ms", False)
    lines.append(_row("cold start, median of back-to-back ratios", "", "", f"{res.paired_start_ratio():.2f}×", "", ""))
    ratio_row("cold start, server CPU user+sys, median", res.start_cpu_ms(f), res.start_cpu_ms(o), "ms", False)
    ratio_row("RSS after initialize (VmHWM)", res.start_hwm_mib(f), res.start_hwm_mib(o), "MiB", False)
    ratio_row("peak RSS before shutdown (VmHWM)", lat.floor_peak_kib / 1024, lat.ours_peak_kib / 1024, "MiB", False)
    for tool in lat.ours:
        ratio_row(f"`{tool.tool}` p50", lat.floor.p50_ms, tool.p50_ms, "ms", True)
        ratio_row(f"`{tool.tool}` p99", lat.floor.p99_ms, tool.p99_ms, "ms", False)
    return lines


# ----- main -------------------------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(args: argparse.Namespace) -> Results:
    environment: dict[str, Any] = {
        "python": platform.python_version(),
        "mcp": version("mcp"),
        "okx_auth_mcp": version("okx-auth-mcp"),
        "cpus": os.cpu_count(),
        "mode": MODE,
        "starts": args.starts,
        "warmup_starts": args.warmup_starts,
        "calls": args.calls,
        "warmup_calls": args.warmup,
        "http_modes": args.http_modes,
        "http_clients": args.http_clients,
        "http_seconds": args.http_seconds,
        "http_warmup": args.http_warmup,
        "loadavg_before": _loadavg(),
    }
    res = Results(environment, {}, None)
    if args.only in (None, "stdio"):
        await _stdio(args, res)
    if args.only in (None, "http"):
        res.http = await bench_http.run(
            HTTP_TARGETS,
            modes=args.http_modes,
            clients=args.http_clients,
            seconds=args.http_seconds,
            warmup=args.http_warmup,
            scratch=_scratch,
            progress=_progress,
        )
        for floor, ours in zip(res.http.levels[FLOOR.name], res.http.levels[OURS.name], strict=True):
            if ours.clients == args.http_clients[0]:  # one target per mode: the fewest clients, latency alone
                name = f"HTTP {ours.mode} {HTTP_TOOL[0]} p50, {ours.clients} client(s)"
                res.checks.append(Check(name, ours.p50_ms / floor.p50_ms, LATENCY_TARGET))
    environment["loadavg_after"] = _loadavg()
    return res


async def _stdio(args: argparse.Namespace, res: Results) -> None:
    starts: dict[str, list[StartSample]] = {FLOOR.name: [], OURS.name: []}
    for _ in range(args.warmup_starts):  # the page cache, .pyc files: what every later start finds
        for spec in (FLOOR, OURS):
            await cold_start(spec)
    for i in range(args.starts):
        for spec in (FLOOR, OURS) if i % 2 == 0 else (OURS, FLOOR):
            sample = await cold_start(spec)
            starts[spec.name].append(sample)
            _progress(f"start {i + 1}/{args.starts} {spec.name}: {sample.seconds * 1000:.0f} ms")
    protocols = {s.protocol for samples in starts.values() for s in samples}
    res.environment["protocol"] = ", ".join(sorted(protocols))
    _progress(f"latency: {args.calls} calls per tool after {args.warmup} warm-up calls")
    lat = await latency(args.calls, args.warmup)
    res.starts, res.latency = starts, lat
    res.checks.append(
        Check(
            "cold start",
            res.start_ms(OURS.name, statistics.median) / res.start_ms(FLOOR.name, statistics.median),
            COLD_START_TARGET,
        )
    )
    for tool in lat.ours:
        res.checks.append(Check(f"{tool.tool} p50", tool.p50_ms / lat.floor.p50_ms, LATENCY_TARGET))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _compile_package() -> None:
    """Byte-compile okx_auth_mcp as ``pip install`` does. An editable install under PYTHONDONTWRITEBYTECODE
    (set on this machine) would otherwise compile every module again at every cold start, a cost the floor,
    whose modules are compiled in site-packages, never pays."""
    import compileall

    import okx_auth_mcp

    compileall.compile_dir(str(Path(okx_auth_mcp.__file__).parent), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=_positive, default=10, help="cold starts per server (default 10)")
    parser.add_argument("--warmup-starts", type=int, default=1, help="discarded cold starts first (default 1)")
    parser.add_argument("--calls", type=_positive, default=500, help="timed calls per tool (default 500)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per tool first (default 20)")
    bench_http.add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit 1 if any target is missed")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("this bench reads /proc: Linux only")
    if args.starts < 2 and not args.json and args.only != "http":
        _progress("note: one start per server says little about a median")

    _compile_package()
    res = anyio.run(run, args)
    print(json.dumps(res.to_json(), indent=2) if args.json else markdown(res))
    return 1 if args.check and not all(c.passed for c in res.checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
