"""Load generators: wrk with a Lua script when it is installed, an asyncio client otherwise.

Both replay a pool of pre-rendered raw HTTP/1.1 requests over keep-alive connections and report
throughput, latency percentiles, status counts and their own CPU share (they share the cores).
"""

from __future__ import annotations

import asyncio
import random
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def raw(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    statuses: Counter[int]
    p50_ms: float
    p99_ms: float
    socket_errors: int
    generator_cpu_s: float
    generator: str

    @property
    def ok_per_s(self) -> float:
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return ok / self.duration_s if self.duration_s else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def generator_cpu_share(self) -> float:
        return self.generator_cpu_s / self.duration_s if self.duration_s else 0.0


_LUA = """
local requests = dofile("%(data)s")
local sequential = %(sequential)s
counter = 0
statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
function init(args) math.randomseed(os.time() * 1000 + id); counter = id * 100003 end
function request()
  counter = counter + 1
  if sequential then return requests[(counter %% #requests) + 1] end
  return requests[math.random(#requests)]
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, reqs)
  local e = summary.errors
  io.write(string.format("RESULT requests=%%d duration_us=%%d p50_us=%%d p99_us=%%d errors=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do io.write(string.format("STATUS %%d %%d\\n", status, n)) end
  end
end
"""


def _lua_string(text: str) -> str:
    """A quoted Lua literal; long brackets would turn every CRLF into a bare LF."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "\\r").replace("\n", "\\n") + '"'


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    url: str,
    requests: list[Request],
    *,
    connections: int,
    duration_s: float,
    sequential: bool = False,
) -> LoadResult:
    if wrk_available():
        return _run_wrk(url, requests, connections, duration_s, sequential)
    return asyncio.run(_run_python(url, requests, connections, duration_s, sequential))


def _run_wrk(
    url: str, requests: list[Request], connections: int, duration_s: float, sequential: bool
) -> LoadResult:
    host = url.split("://", 1)[1].rstrip("/")
    with tempfile.TemporaryDirectory(prefix="hexbank-wrk-") as folder:
        data = Path(folder) / "requests.lua"
        chunks = ["return {"]
        for request in requests:
            chunks.append(_lua_string(request.raw(host).decode()) + ",")
        chunks.append("}")
        data.write_text("\n".join(chunks))
        script = Path(folder) / "script.lua"
        script.write_text(_LUA % {"data": data, "sequential": "true" if sequential else "false"})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration_s))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+)", output
    )
    if summary is None:
        raise RuntimeError(f"wrk said:\n{output}")
    statuses: Counter[int] = Counter()
    for status, count in re.findall(r"STATUS (\d+) (\d+)", output):
        statuses[int(status)] += int(count)
    requests_done, duration_us, p50, p99, errors = map(int, summary.groups())
    return LoadResult(
        requests_done, duration_us / 1e6, statuses, p50 / 1e3, p99 / 1e3, errors, cpu, "wrk"
    )


async def _run_python(
    url: str, requests: list[Request], connections: int, duration_s: float, sequential: bool
) -> LoadResult:
    host, port = url.split("://", 1)[1].rstrip("/").split(":")
    raws = [request.raw(f"{host}:{port}") for request in requests]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    deadline = time.perf_counter() + duration_s
    counter = 0

    async def connection() -> None:
        nonlocal errors, counter
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                counter += 1
                raw = raws[counter % len(raws)] if sequential else random.choice(raws)
                started = time.perf_counter()
                writer.write(raw)
                head = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[int(head[9:12])] += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    latencies.sort()

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3 if latencies else 0.0
        )

    return LoadResult(
        len(latencies), elapsed, statuses, percentile(0.5), percentile(0.99), errors, cpu, "python"
    )


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """Read one keep-alive response; return its head (status line and headers)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return head


async def probe_latencies(
    url: str, path: str, duration_s: float, interval_s: float = 0.01
) -> list[float]:
    """The seconds of a cheap request sent one at a time, every `interval_s`, for event-loop
    blocking."""
    host, port = url.split("://", 1)[1].rstrip("/").split(":")
    raw = Request("GET", path).raw(f"{host}:{port}")
    reader, writer = await asyncio.open_connection(host, int(port))
    latencies = []
    deadline = time.perf_counter() + duration_s
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(raw)
            await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(interval_s)
    finally:
        writer.close()
    return latencies
