"""A closed-loop GraphQL load generator: N clients, each sending its next request on reply.

The clients run in a process of their own, on plain asyncio streams. Each keeps one
HTTP/1.1 keep-alive connection and sends the same request bytes, encoded once. A
reply counts as a success when its status is 200 and its body has no top-level
"errors" key. The generator spends the same CPU per request whatever server it
drives: about 0.25 ms measured on a 2-core machine, where httpx.AsyncClient took
about 2 ms. So the CPU it takes from a server on the same machine is small, and the
same per request for every server measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

# Every SAMPLE_EVERY-th reply of a client is parsed as JSON in full. The others are
# checked with a byte search for the "errors" key.
SAMPLE_EVERY = 50
CONNECT_TIMEOUT_SECONDS = 10.0
REPLY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class LoadResult:
    """Latency percentiles in milliseconds, completed requests per second, server CPU.

    `server_cpu_ms` is the CPU time (user and system) that the server process and its
    child processes spent per completed request during the measurement, or None when
    no server process id was given. `client_cpu_ms` is the same for the load generator.
    """

    p50_ms: float
    p99_ms: float
    requests_per_s: float
    requests: int
    errors: int
    server_cpu_ms: float | None = None
    client_cpu_ms: float | None = None


class ReplyError(Exception):
    """Raised when a reply is not a successful GraphQL response."""


def encode_request(base_url: str, body: dict[str, Any], token: str | None) -> bytes:
    """Encode one keep-alive POST of `body` to /graphql as HTTP/1.1 request bytes."""
    address = urlsplit(base_url)
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {address.netloc}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(payload)}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one HTTP/1.1 response and return its status, body and a close flag.

    The flag is True when the server closes the connection after this response.
    Bodies framed by Content-Length and chunked bodies are both read.
    """
    status_line = await reader.readline()
    if not status_line:
        raise ReplyError("the server closed the connection before replying")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ReplyError(f"invalid status line {status_line[:80]!r}")
    status = int(parts[1])

    length: int | None = None
    chunked = False
    closes = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            closes = value.strip().lower() == b"close"

    if chunked:
        body = await _read_chunked(reader)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        closes = True
    return status, body, closes


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readline()
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readline()


def check_reply(status: int, body: bytes, parse: bool) -> None:
    """Raise ReplyError unless the reply is a 200 whose JSON object has no "errors" key.

    Without `parse`, only a byte search for the quoted key is done, and a hit is
    confirmed by parsing. Inside a JSON string the quotes of `"errors"` are escaped,
    so the unescaped bytes appear only as a key or as a string value equal to errors.
    """
    if status != 200:
        raise ReplyError(f"status {status}: {body[:200]!r}")
    if not parse and b'"errors"' not in body:
        return
    document = json.loads(body)
    if not isinstance(document, dict) or "errors" in document or "data" not in document:
        raise ReplyError(f"GraphQL errors: {body[:200]!r}")


@dataclass
class _Tally:
    """Replies of requests sent from `started` on, and every failure."""

    started: float
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _client(
    host: str, port: int, request: bytes, until: float, tally: _Tally, index: int
) -> None:
    """Send `request` on one connection, each as soon as the reply to the last one is in."""
    sent_count = index
    reader, writer = await _connect(host, port)
    try:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            writer.write(request)
            status, body, closes = await asyncio.wait_for(read_reply(reader), REPLY_TIMEOUT_SECONDS)
            finished = time.perf_counter()
            sent_count += 1
            try:
                check_reply(status, body, parse=sent_count % SAMPLE_EVERY == 0)
            except (ReplyError, ValueError) as error:
                tally.failures.append(str(error))
            if sent >= tally.started:
                tally.latencies.append(finished - sent)
            if closes:
                writer.close()
                reader, writer = await _connect(host, port)
    finally:
        writer.close()


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT_SECONDS)


def process_tree_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds of process `pid` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in brackets may hold spaces, so split after its closing bracket.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {pid}
    grew = True
    while grew:
        children = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(times.get(member, 0.0) for member in tree)


async def _run(
    base_url: str,
    request: bytes,
    clients: int,
    seconds: float,
    warmup_seconds: float,
    server_pid: int | None,
) -> LoadResult:
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    now = time.perf_counter()
    tally = _Tally(started=now + warmup_seconds)
    until = tally.started + seconds

    # Reading the server's CPU time scans /proc, which blocks the clients for a few
    # milliseconds once at the start and once at the end of the measurement.
    async def measure_cpu() -> tuple[float | None, float]:
        await asyncio.sleep(max(0.0, tally.started - time.perf_counter()))
        server = process_tree_cpu_seconds(server_pid) if server_pid is not None else None
        return server, time.process_time()

    cpu_task = asyncio.ensure_future(measure_cpu())
    await asyncio.gather(
        *(_client(host, port, request, until, tally, index) for index in range(clients))
    )
    elapsed = time.perf_counter() - tally.started
    client_cpu = time.process_time()
    cpu_before, client_cpu_before = await cpu_task
    cpu_after = process_tree_cpu_seconds(server_pid) if server_pid is not None else None

    if tally.failures:
        raise RuntimeError(f"{len(tally.failures)} requests failed; first: {tally.failures[0]}")
    requests = len(tally.latencies)
    milliseconds = np.array(tally.latencies) * 1000
    server_cpu_ms = None
    if cpu_before is not None and cpu_after is not None and requests:
        server_cpu_ms = (cpu_after - cpu_before) * 1000 / requests
    return LoadResult(
        p50_ms=float(np.percentile(milliseconds, 50)),
        p99_ms=float(np.percentile(milliseconds, 99)),
        requests_per_s=requests / elapsed,
        requests=requests,
        errors=0,
        server_cpu_ms=server_cpu_ms,
        client_cpu_ms=(client_cpu - client_cpu_before) * 1000 / requests if requests else None,
    )


def run_load(
    base_url: str,
    query: str,
    variables: dict[str, Any],
    token: str | None,
    clients: int = 16,
    seconds: float = 10.0,
    warmup_seconds: float = 1.0,
    server_pid: int | None = None,
) -> LoadResult:
    """Send `query` from `clients` concurrent clients for `seconds` after a warm-up.

    The clients run in a fresh `python -m bench.load` process, so they share no
    interpreter lock with the caller. Requests sent during the warm-up are not
    counted. With `server_pid`, the result also gives the server's CPU time per request.
    """
    arguments = {
        "base_url": base_url,
        "body": {"query": query, "variables": variables},
        "token": token,
        "clients": clients,
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "server_pid": server_pid,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(arguments).encode(),
        capture_output=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=seconds + warmup_seconds + 10 * REPLY_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed: {completed.stderr.decode()[-2000:]}")
    return LoadResult(**json.loads(completed.stdout))


def main() -> None:
    """Run one load described by a JSON object on stdin; print the result as JSON."""
    arguments = json.loads(sys.stdin.read())
    request = encode_request(arguments["base_url"], arguments["body"], arguments["token"])
    result = asyncio.run(
        _run(
            arguments["base_url"],
            request,
            arguments["clients"],
            arguments["seconds"],
            arguments["warmup_seconds"],
            arguments["server_pid"],
        )
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
