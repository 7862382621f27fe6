"""Readers racing a loop of output entity replacements see one whole version at a time.

Every row of version v has Version = v, ChurnScore = v and a CustomerId that starts
with the version, and version v has its own row count. So a read that mixes versions,
misses rows or finds no table is detected, whichever statement it comes from.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from server.auth.roles import Role
from server.auth.tokens import Principal
from server.graphql.context import Context
from server.graphql.schema import schema
from server.prediction.output import replace_entity
from server.settings import Settings
from server.storage.tables import Segment, SegmentMember, table_of
from tests.lifecycle.conftest import add_prediction

ENTITY = "Versioned"
READS = {"rows": 2000, "attributes": 1000, "preview": 1500, "segment": 500}
READER_THREADS = {"rows": 4, "attributes": 2, "preview": 4, "segment": 2}
COLUMNS = ["CustomerId", "Version", "ChurnScore", "ChurnRiskBand"]

ROWS = f"""
{{ outputEntity(name: "{ENTITY}") {{
    rows(first: 100) {{ edges {{ node {{ customerId values }} }} }} }} }}
"""
ATTRIBUTES = f'{{ outputEntity(name: "{ENTITY}") {{ attributes {{ name }} }} }}'
CONDITIONS = [{"attribute": "Version", "operator": "GTE", "value": 0}]
PREVIEW = """
query($p: ID!, $input: SegmentInput!) {
  previewSegment(predictionId: $p, input: $input, sampleSize: 5) {
    preview { memberCount ruleCounts sample } errors { code message }
  }
}
"""
CREATE_SEGMENT = """
mutation($p: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $p, input: $input) {
    segment { id memberCount } errors { code message }
  }
}
"""


def row_count(version: int) -> int:
    return 50 + version % 37


def version_rows(version: int) -> pd.DataFrame:
    count = row_count(version)
    return pd.DataFrame(
        {
            "CustomerId": [f"V{version:05d}-{index:03d}" for index in range(count)],
            "Version": [version] * count,
            "ChurnScore": [float(version)] * count,
            "ChurnRiskBand": ["High"] * count,
        }
    )


def version_of(customer_id: str) -> int:
    return int(customer_id[1:6])


@dataclass
class Tally:
    """Reads by outcome, with the first few problems for the failure message."""

    reads: Counter[str] = field(default_factory=Counter)
    versions: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, outcome: str, version: int | None, problem: str = "") -> None:
        with self.lock:
            self.reads[f"{kind} {outcome}"] += 1
            if version is not None:
                self.versions.add(version)
            if problem and len(self.problems) < 10:
                self.problems.append(f"{kind}: {problem}")


def check_rows(data: dict[str, Any]) -> tuple[str, int | None, str]:
    edges = data["outputEntity"]["rows"]["edges"]
    versions = {edge["node"]["values"]["Version"] for edge in edges}
    prefixes = {version_of(edge["node"]["customerId"]) for edge in edges}
    scores = {edge["node"]["values"]["ChurnScore"] for edge in edges}
    if len(versions) != 1 or prefixes != versions or scores != {float(v) for v in versions}:
        return "torn", None, f"versions {versions}, prefixes {prefixes}, scores {scores}"
    version = versions.pop()
    if len(edges) != row_count(version):
        return "torn", version, f"{len(edges)} rows of version {version}"
    return "ok", version, ""


def check_attributes(data: dict[str, Any]) -> tuple[str, int | None, str]:
    names = [item["name"] for item in data["outputEntity"]["attributes"]]
    return ("ok", None, "") if names == COLUMNS else ("torn", None, f"attributes {names}")


def check_preview(data: dict[str, Any]) -> tuple[str, int | None, str]:
    payload = data["previewSegment"]
    if payload["errors"]:
        return "failed", None, str(payload["errors"])
    preview = payload["preview"]
    sample_versions = {version_of(customer) for customer in preview["sample"]}
    if len(sample_versions) != 1:
        return "torn", None, f"sample of versions {sample_versions}"
    version = sample_versions.pop()
    expected = row_count(version)
    if preview["memberCount"] != expected or preview["ruleCounts"] != [expected]:
        return "torn", version, f"counts {preview} for version {version}"
    return "ok", version, ""


def check_segment(data: dict[str, Any]) -> tuple[str, int | None, str]:
    payload = data["createSegmentFromPrediction"]
    if payload["errors"]:
        return "failed", None, str(payload["errors"])
    count = payload["segment"]["memberCount"]
    if not any(row_count(version) == count for version in range(37)):
        return "torn", None, f"segment of {count} members"
    return "ok", None, ""


CHECKS = {
    "rows": check_rows,
    "attributes": check_attributes,
    "preview": check_preview,
    "segment": check_segment,
}


async def read_many(
    context: Context, kind: str, reads: int, prediction_id: int, thread: int, tally: Tally
) -> None:
    for index in range(reads):
        segment_input = {"name": f"s{thread}-{index}", "conditions": CONDITIONS}
        document, variables = {
            "rows": (ROWS, {}),
            "attributes": (ATTRIBUTES, {}),
            "preview": (PREVIEW, {"p": str(prediction_id), "input": segment_input}),
            "segment": (CREATE_SEGMENT, {"p": str(prediction_id), "input": segment_input}),
        }[kind]
        result = await schema.execute(document, variables, context_value=context)
        if result.errors or result.data is None:
            tally.record(kind, "failed", None, str(result.errors))
            continue
        outcome, version, problem = CHECKS[kind](result.data)
        tally.record(kind, outcome, version, problem)


def check_saved_segments(engine: Engine) -> list[str]:
    """Return the segments whose members mix versions or miss rows of their version."""
    members = table_of(SegmentMember)
    segments = table_of(Segment)
    problems = []
    with engine.connect() as connection:
        counts = dict(connection.execute(select(segments.c.id, segments.c.member_count)).all())
        found: dict[int, list[str]] = {segment_id: [] for segment_id in counts}
        for segment_id, customer_id in connection.execute(
            select(members.c.segment_id, members.c.customer_id)
        ):
            found[segment_id].append(customer_id)
    for segment_id, customers in found.items():
        versions = {version_of(customer) for customer in customers}
        if len(versions) != 1 or len(customers) != row_count(versions.pop()):
            problems.append(f"segment {segment_id}: {len(customers)} members of {versions}")
    return problems


def test_readers_never_see_torn_entity(engine: Engine) -> None:
    prediction_id = add_prediction(engine, name="Versioned", entity=ENTITY)
    replace_entity(engine, ENTITY, version_rows(0), prediction_id=prediction_id)
    principal = Principal(token_id=0, name="reader", role=Role.ADMIN)
    tally = Tally()
    readers_done = threading.Event()
    written: list[int] = []

    def write_versions() -> None:
        version = 1
        while not readers_done.is_set():
            replace_entity(engine, ENTITY, version_rows(version), prediction_id=prediction_id)
            written.append(version)
            version += 1

    def read(kind: str, thread: int) -> None:
        context = Context(engine, Settings(), None, principal, None)
        reads = READS[kind] // READER_THREADS[kind]
        asyncio.run(read_many(context, kind, reads, prediction_id, thread, tally))

    writer = threading.Thread(target=write_versions)
    readers = [
        threading.Thread(target=read, args=(kind, thread))
        for kind, count in READER_THREADS.items()
        for thread in range(count)
    ]
    writer.start()
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    readers_done.set()
    writer.join()

    outcomes = Counter({key.split(" ")[1]: value for key, value in tally.reads.items()})
    outcomes = Counter()
    for key, value in tally.reads.items():
        outcomes[key.split(" ")[1]] += value
    print(f"\n{engine.dialect.name}: {dict(tally.reads)}; {len(written)} versions written")
    assert outcomes["ok"] >= sum(READS.values()), tally.problems
    assert outcomes["torn"] == 0, tally.problems
    assert outcomes["failed"] == 0, tally.problems
    assert len(written) >= 2
    assert len(tally.versions) >= 2
    assert check_saved_segments(engine) == []
