"""A closed-loop GraphQL load generator: N clients, each sending its next request on reply."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np


@dataclass(frozen=True)
class LoadResult:
    """Latency percentiles in milliseconds and completed requests per second."""

    p50_ms: float
    p99_ms: float
    requests_per_s: float
    requests: int
    errors: int


async def _client(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    headers: dict[str, str],
    until: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    while time.perf_counter() < until:
        sent = time.perf_counter()
        response = await http.post("/graphql", json=body, headers=headers)
        latencies.append(time.perf_counter() - sent)
        if response.status_code != 200 or "errors" in response.json():
            errors.append(response.text[:200])


async def _run(
    base_url: str,
    body: dict[str, Any],
    token: str | None,
    clients: int,
    seconds: float,
    warmup_seconds: float,
) -> LoadResult:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        warm: list[float] = []
        warm_until = time.perf_counter() + warmup_seconds
        await asyncio.gather(
            *(_client(http, body, headers, warm_until, warm, []) for _ in range(clients))
        )

        latencies: list[float] = []
        errors: list[str] = []
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(_client(http, body, headers, until, latencies, errors) for _ in range(clients))
        )
        elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed; first: {errors[0]}")
    milliseconds = np.array(latencies) * 1000
    return LoadResult(
        p50_ms=float(np.percentile(milliseconds, 50)),
        p99_ms=float(np.percentile(milliseconds, 99)),
        requests_per_s=len(latencies) / elapsed,
        requests=len(latencies),
        errors=len(errors),
    )


def run_load(
    base_url: str,
    query: str,
    variables: dict[str, Any],
    token: str | None,
    clients: int = 16,
    seconds: float = 10.0,
    warmup_seconds: float = 1.0,
) -> LoadResult:
    """Send `query` from `clients` concurrent clients for `seconds` after a warm-up."""
    body = {"query": query, "variables": variables}
    return asyncio.run(_run(base_url, body, token, clients, seconds, warmup_seconds))
