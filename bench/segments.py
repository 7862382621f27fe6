"""Time one five-condition segment through the segment engine, hand-written SQL and pandas.

The data set is an output entity of `--customers` rows, one per customer (CustomerId,
ChurnScore, IsChurn, ChurnRiskBand and lifetime value columns), and the customer
profile with one row per customer, both drawn from a seeded numpy generator. The rule
reads four attributes of the entity and the profile's Region:

    ChurnScore >= 0.6 AND ChurnRiskBand IN [High, Medium] AND CLV BETWEEN 50 AND 500
    AND IsChurn IS_TRUE AND CustomerProfile.Region = West

Each step is timed `--repeats` times and the median is reported, with ours / peer (below
1 means ours is faster). Preview is `preview_segment` against the same count and
10-member sample written by hand, and against pandas reading both tables with
`pd.read_sql`. Save is `create_segment` against one transaction that inserts the
segment row and its members with a hand-written `INSERT … SELECT`. The script
stops with an error unless all three find the same number of members.

    python -m bench.segments --customers 1000000 --backend sqlite,postgres
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select, text

from bench.databases import drop_databases, fresh_database
from server.prediction.output import replace_entity, table_name_for
from server.segments.compiler import compile_counts
from server.segments.definition import Definition, Group, SegmentRule
from server.segments.operators import Operator
from server.segments.preview import SegmentPreview, preview_segment
from server.segments.rules import Condition
from server.segments.service import SegmentRequest, check_request_rules, create_segment
from server.storage.engine import make_engine, write_transaction
from server.storage.migrate import upgrade
from server.storage.tables import Customer, Segment, SegmentMember, table_of, utc_now

ENTITY = "ChurnPredictions"
SEED = 20240601
SAMPLE_SIZE = 10
CUSTOMER_CHUNK_ROWS = 50_000
REGIONS = np.array(["West", "East", "Central", "South"])
STATES = {
    "West": ["California", "Washington", "Oregon"],
    "East": ["New York", "Pennsylvania", "Massachusetts"],
    "Central": ["Texas", "Illinois", "Michigan"],
    "South": ["Florida", "Georgia", "Tennessee"],
}
PROFILE_SEGMENTS = np.array(["Consumer", "Corporate", "Home Office"])

DEFINITION = Definition(
    [
        SegmentRule(
            Group(
                "AND",
                False,
                [
                    Condition("ChurnScore", Operator.GTE, 0.6),
                    Condition("ChurnRiskBand", Operator.IN, values=["High", "Medium"]),
                    Condition("CLV", Operator.BETWEEN, values=[50, 500]),
                    Condition("IsChurn", Operator.IS_TRUE),
                    Condition("Region", Operator.EQ, "West", entity="CustomerProfile"),
                ],
            )
        )
    ]
)

# The same rule by hand, as an analyst would write it against the two tables.
HAND_WHERE = """
    FROM {entity} AS e
    JOIN customer AS c ON c.customer_id = e."CustomerId"
    WHERE e."ChurnScore" >= 0.6
      AND e."ChurnRiskBand" IN ('High', 'Medium')
      AND e."CLV" BETWEEN 50 AND 500
      AND e."IsChurn" = true
      AND c.region = 'West'
"""
HAND_COUNT = 'SELECT count(DISTINCT e."CustomerId")' + HAND_WHERE
HAND_SAMPLE = (
    'SELECT DISTINCT e."CustomerId"' + HAND_WHERE + ' ORDER BY e."CustomerId" LIMIT {limit}'
)
HAND_SAVE = (
    "INSERT INTO segment_member (segment_id, customer_id)"
    + ' SELECT DISTINCT :segment_id, e."CustomerId"'
    + HAND_WHERE
)

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Row:
    """One line of the report: a step on one backend, ours beside a peer."""

    step: str
    backend: str
    ours: float
    peer: float
    peer_name: str


def entity_frame(customers: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw the output entity: one row per customer, churn and lifetime value columns."""
    churn_score = rng.beta(2.0, 3.0, customers)
    is_churn = rng.random(customers) < churn_score
    band = np.where(churn_score >= 0.7, "High", np.where(churn_score >= 0.4, "Medium", "Low"))
    expected_purchases = rng.gamma(1.5, 2.0, customers)
    clv = rng.lognormal(4.5, 1.2, customers)
    return pd.DataFrame(
        {
            "CustomerId": customer_ids(customers),
            "ChurnScore": churn_score,
            "IsChurn": is_churn,
            "ChurnRiskBand": band.astype(object),
            "ExpectedPurchases": expected_purchases,
            "ProbabilityAlive": 1.0 - churn_score,
            "CLV": clv,
        }
    )


def customer_ids(customers: int) -> np.ndarray:
    width = len(str(customers))
    return np.array([f"C{number:0{width}d}" for number in range(1, customers + 1)], dtype=object)


def profile_rows(customers: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Draw the `customer` table rows: a region, a state within it and a profile segment."""
    regions = REGIONS[rng.integers(0, len(REGIONS), customers)]
    picks = rng.integers(0, 3, customers)
    segments = PROFILE_SEGMENTS[rng.integers(0, len(PROFILE_SEGMENTS), customers)]
    return [
        {
            "customer_id": customer_id,
            "source": "bench",
            "segment": str(segment),
            "country": "United States",
            "state": STATES[str(region)][int(pick)],
            "region": str(region),
        }
        for customer_id, region, pick, segment in zip(
            customer_ids(customers), regions, picks, segments, strict=True
        )
    ]


def load_data(engine: Engine, customers: int) -> pd.DataFrame:
    """Write the entity with `replace_entity` and the profile with a bulk insert."""
    rng = np.random.default_rng(SEED)
    entity = entity_frame(customers, rng)
    replace_entity(engine, ENTITY, entity, prediction_id=None)

    rows = profile_rows(customers, rng)
    with write_transaction(engine) as connection:
        for start in range(0, len(rows), CUSTOMER_CHUNK_ROWS):
            connection.execute(
                insert(table_of(Customer)), rows[start : start + CUSTOMER_CHUNK_ROWS]
            )
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    return entity


def timed(
    step: Callable[[], ResultT], repeats: int, reset: Callable[[], None]
) -> tuple[float, ResultT]:
    """Run `step` `repeats` times and `reset` untimed after each; return the median and a result."""
    durations: list[float] = []
    result: ResultT | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = step()
        durations.append(time.perf_counter() - started)
        reset()
    assert result is not None
    return statistics.median(durations), result


def nothing() -> None:
    return None


def ours_preview(engine: Engine) -> SegmentPreview:
    preview = preview_segment(engine, ENTITY, DEFINITION, sample_size=SAMPLE_SIZE)
    if not isinstance(preview, SegmentPreview):
        raise RuntimeError(f"preview_segment rejected the benchmark rule: {preview}")
    return preview


def hand_preview(engine: Engine) -> tuple[int, list[str]]:
    entity = table_name_for(ENTITY)
    with engine.connect() as connection:
        count = connection.execute(text(HAND_COUNT.format(entity=entity))).scalar_one()
        sample = connection.execute(
            text(HAND_SAMPLE.format(entity=entity, limit=SAMPLE_SIZE))
        ).scalars()
        return int(count), [str(value) for value in sample]


def pandas_preview(engine: Engine) -> tuple[int, list[str]]:
    entity = table_name_for(ENTITY)
    scores = pd.read_sql(
        f'SELECT "CustomerId", "ChurnScore", "ChurnRiskBand", "CLV", "IsChurn" FROM {entity}',
        engine,
    )
    profile = pd.read_sql("SELECT customer_id, region FROM customer", engine)
    selected = scores[
        (scores["ChurnScore"] >= 0.6)
        & scores["ChurnRiskBand"].isin(["High", "Medium"])
        & scores["CLV"].between(50, 500)
        & (scores["IsChurn"].astype(bool))
    ]
    west = profile.loc[profile["region"] == "West", "customer_id"]
    members = np.sort(selected.loc[selected["CustomerId"].isin(west), "CustomerId"].unique())
    return len(members), [str(value) for value in members[:SAMPLE_SIZE]]


def ours_save(engine: Engine, name: str) -> int:
    request = SegmentRequest(name, None, ENTITY, DEFINITION)
    created = create_segment(engine, request)
    if not isinstance(created, int):
        raise RuntimeError(f"create_segment rejected the benchmark rule: {created}")
    return member_count(engine, created)


def hand_save(engine: Engine, name: str) -> int:
    segments = table_of(Segment)
    with write_transaction(engine) as connection:
        segment_id = connection.execute(
            insert(segments)
            .values(name=name, entity_name=ENTITY, definition={}, member_count=0)
            .returning(segments.c.id)
        ).scalar_one()
        statement = text(HAND_SAVE.format(entity=table_name_for(ENTITY)))
        connection.execute(statement, {"segment_id": segment_id})
    return member_count(engine, int(segment_id))


def member_count(engine: Engine, segment_id: int) -> int:
    members = table_of(SegmentMember)
    query = select(func.count()).where(members.c.segment_id == segment_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def delete_segments(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.execute(delete(table_of(SegmentMember)))
        connection.execute(delete(table_of(Segment)))


def print_plans(engine: Engine, backend: str) -> None:
    """Print the query plan of our count statement and of the hand-written one."""
    with engine.connect() as connection:
        checked = check_request_rules(connection, ENTITY, DEFINITION, "predictionId")
        if isinstance(checked, list):
            raise RuntimeError(f"the benchmark rule is invalid: {checked}")
        base, rules = checked
        ours = compile_counts(rules, base, utc_now().replace(tzinfo=None))
        statements = {
            "ours": str(ours.compile(connection, compile_kwargs={"literal_binds": True})),
            "hand-written": HAND_COUNT.format(entity=table_name_for(ENTITY)),
        }
        prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
        for name, sql in statements.items():
            print(f"{backend}: plan of the {name} count\n{sql}")
            for row in connection.exec_driver_sql(prefix + sql):
                print("   ", row[-1])


def run_backend(
    backend: str, customers: int, repeats: int, work_dir: Path, *, plans: bool
) -> list[Row]:
    """Load the data into a scratch database, time every step and check the member counts."""
    name = f"segments_{customers}"
    url = fresh_database(backend, name, work_dir)
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        load_data(engine, customers)
        print(f"{backend}: loaded {customers:,} customers in {time.perf_counter() - started:.1f} s")
        if plans:
            print_plans(engine, backend)
        return measure(engine, backend, repeats)
    finally:
        engine.dispose()
        drop_databases(backend, [name], work_dir)


def measure(engine: Engine, backend: str, repeats: int) -> list[Row]:
    preview_time, preview = timed(lambda: ours_preview(engine), repeats, nothing)
    hand_time, (hand_count, hand_sample) = timed(lambda: hand_preview(engine), repeats, nothing)
    pandas_time, (pandas_count, pandas_sample) = timed(
        lambda: pandas_preview(engine), repeats, nothing
    )
    names = iter(range(2 * repeats))
    reset = partial(delete_segments, engine)
    save_time, saved = timed(lambda: ours_save(engine, f"ours {next(names)}"), repeats, reset)
    hand_save_time, hand_saved = timed(
        lambda: hand_save(engine, f"hand {next(names)}"), repeats, reset
    )

    counts = {
        "preview": preview.member_count,
        "hand-written preview": hand_count,
        "pandas": pandas_count,
        "save": saved,
        "hand-written save": hand_saved,
    }
    print(f"{backend}: member counts {counts}")
    if len(set(counts.values())) != 1 or not preview.sample == hand_sample == pandas_sample:
        raise RuntimeError(
            f"member counts or samples differ on {backend}: {counts}; the segment engine "
            "and the peers no longer select the same customers"
        )
    return [
        Row("preview", backend, preview_time, hand_time, "hand-written SQL"),
        Row("preview", backend, preview_time, pandas_time, "pandas with read_sql"),
        Row("save", backend, save_time, hand_save_time, "hand-written SQL"),
    ]


def print_table(rows: list[Row], customers: int) -> None:
    print("\n| step | backend | customers | peer | ours (s) | peer (s) | ours / peer |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row.step} | {row.backend} | {customers:,} | {row.peer_name} | "
            f"{row.ours:.3f} | {row.peer:.3f} | {row.ours / row.peer:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to generate")
    parser.add_argument(
        "--backend", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per step (median)")
    parser.add_argument(
        "--plans", action="store_true", help="print the query plans of both count statements"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/lookahead-bench"),
        help="folder for the SQLite database files",
    )
    arguments = parser.parse_args()
    if arguments.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {arguments.repeats}")
    arguments.work_dir.mkdir(parents=True, exist_ok=True)

    rows: list[Row] = []
    for backend in arguments.backend.split(","):
        rows += run_backend(
            backend.strip(),
            arguments.customers,
            arguments.repeats,
            arguments.work_dir,
            plans=arguments.plans,
        )
    print_table(rows, arguments.customers)


if __name__ == "__main__":
    main()
