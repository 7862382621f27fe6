"""GraphQL latency: the real server beside a minimal in-memory Strawberry app.

Both run under uvicorn as separate processes on 127.0.0.1 and serve the same two
documents for the same segments. The load generator runs in a process of its own on
the same machine, so it takes the same small CPU share from both servers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bench.load import run_load
from bench.servers import free_port, start_server
from server.auth.roles import Role
from server.auth.tokens import create_token
from server.storage.engine import make_engine

CLIENTS = 16

SEGMENTS_LIST = """
query { segments(first: 20) { totalCount edges { node { id name memberCount } } } }
"""

MEMBERS_PAGE = """
query Members($id: ID!) {
  segment(id: $id) {
    members(first: 50) {
      totalCount
      edges { cursor node { customerId country city region } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

CREATE_SEGMENT = """
mutation Create($predictionId: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $predictionId, input: $input) {
    segment { id memberCount }
    errors { field code message }
  }
}
"""

SEGMENT_INPUTS: list[dict[str, Any]] = [
    {
        "name": "High churn risk",
        "conditions": [{"attribute": "ChurnRiskBand", "operator": "EQ", "value": "High"}],
    },
    {
        "name": "Likely churners",
        "conditions": [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.5}],
    },
    {"name": "Loyal", "conditions": [{"attribute": "ChurnScore", "operator": "LT", "value": 0.33}]},
    {
        "name": "Medium risk",
        "conditions": [{"attribute": "ChurnRiskBand", "operator": "EQ", "value": "Medium"}],
    },
]


def _create_segments(base_url: str, token: str, prediction_id: int) -> int:
    """Create the segments through the API; return the id of the largest."""
    largest = (0, -1)
    for segment_input in SEGMENT_INPUTS:
        response = httpx.post(
            base_url + "/graphql",
            json={
                "query": CREATE_SEGMENT,
                "variables": {"predictionId": str(prediction_id), "input": segment_input},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        )
        body = response.json()
        payload = (body.get("data") or {}).get("createSegmentFromPrediction")
        if not payload or payload["errors"] or payload["segment"] is None:
            raise RuntimeError(f"creating segment {segment_input['name']!r} failed: {body}")
        segment = payload["segment"]
        largest = max(largest, (segment["memberCount"], int(segment["id"])))
    return largest[1]


def graphql_rows(
    url: str, prediction_id: int, work_dir: Path, seconds: float
) -> list[dict[str, Any]]:
    """Measure both documents on both servers; return table rows without backend and scale."""
    engine = make_engine(url)
    viewer = create_token(engine, Role.VIEWER, "bench-viewer").secret
    contributor = create_token(engine, Role.CONTRIBUTOR, "bench-contributor").secret
    engine.dispose()

    port = free_port()
    ours = start_server(
        # The peer logs no requests either.
        ["-m", "server.cli", "serve", "--port", str(port), "--no-access-log"],
        {
            "LOOKAHEAD_DATABASE_URL": url,
            "LOOKAHEAD_HOME": str(work_dir / "home-graphql"),
            # The load comes from one client address, so the per-client limit is off.
            "LOOKAHEAD_RATE_LIMIT_PER_MINUTE": "0",
        },
        port,
        work_dir / "serve-graphql.log",
    )
    try:
        segment_id = _create_segments(ours.base_url, contributor, prediction_id)
        documents = {
            "segments list": (SEGMENTS_LIST, {}),
            "members page (50)": (MEMBERS_PAGE, {"id": str(segment_id)}),
        }
        our_results = {
            name: run_load(
                ours.base_url,
                query,
                variables,
                viewer,
                CLIENTS,
                seconds,
                server_pid=ours.process.pid,
            )
            for name, (query, variables) in documents.items()
        }
        our_peak = ours.peak_mib()
    finally:
        ours.stop()

    port = free_port()
    peer = start_server(
        ["-m", "bench.peer_app", url, str(port)],
        {},
        port,
        work_dir / "peer-graphql.log",
        probe="/graphql",
    )
    try:
        peer_results = {
            name: run_load(
                peer.base_url, query, variables, None, CLIENTS, seconds, server_pid=peer.process.pid
            )
            for name, (query, variables) in documents.items()
        }
        peer_peak = peer.peak_mib()
    finally:
        peer.stop()

    rows = []
    for name in documents:
        mine, theirs = our_results[name], peer_results[name]
        for label, unit, key in (
            ("p50", "ms", "p50_ms"),
            ("p99", "ms", "p99_ms"),
            ("throughput", "requests/s", "requests_per_s"),
            ("server CPU per request", "ms", "server_cpu_ms"),
        ):
            rows.append(
                {
                    "step": f"GraphQL {name} {label}, {CLIENTS} clients",
                    "unit": unit,
                    "ours": getattr(mine, key),
                    "peer": getattr(theirs, key),
                    "ours_mib": our_peak,
                    "peer_mib": peer_peak,
                }
            )
    return rows
