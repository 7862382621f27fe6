"""Segment names stay unique ignoring case when requests race to save them."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from server.segments.definition import Definition
from server.segments.lifecycle import update_segment
from server.segments.operators import Operator
from server.segments.rules import Condition, Rule
from server.segments.service import SegmentRequest, create_segment
from server.storage.constraints import violated_unique_columns
from server.storage.engine import write_transaction
from server.storage.tables import Customer, Segment, SegmentMember, table_of, utc_now
from tests.concurrency import run_together, wait_until_blocked_by

CALLS = 12
NAMES = ["Mixed Two", "mixed two", "MIXED  TWO ", "Mixed two"]


def add_customers(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            insert(table_of(Customer)),
            [
                {"customer_id": f"C{index:03d}", "source": "test", "region": "West"}
                for index in range(20)
            ],
        )


def request_named(name: str) -> SegmentRequest:
    rule = Rule("AND", [Condition("Region", Operator.EQ, "West")])
    return SegmentRequest(
        name, None, "CustomerProfile", Definition.from_rule(rule), base_field="entity"
    )


def segment_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Segment)).scalar_one())


def test_parallel_creates_one_wins(engine: Engine) -> None:
    add_customers(engine)
    names = [NAMES[index % len(NAMES)] for index in range(CALLS)]

    outcomes = run_together(
        [lambda name=name: create_segment(engine, request_named(name)) for name in names]
    )

    created = [outcome for outcome in outcomes if isinstance(outcome, int)]
    rejected = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert len(created) == 1, outcomes
    assert len(rejected) == CALLS - 1, outcomes
    for problems in rejected:
        assert [problem.code for problem in problems] == ["DUPLICATE_NAME"]
        assert problems[0].field == "name"
        assert "choose another name" in problems[0].message
    assert segment_count(engine) == 1


def test_parallel_renames_one_wins(engine: Engine) -> None:
    add_customers(engine)
    ids = [create_segment(engine, request_named(f"Segment {index}")) for index in range(CALLS)]
    assert all(isinstance(segment_id, int) for segment_id in ids)

    outcomes = run_together(
        [
            lambda segment_id=segment_id, index=index: update_segment(
                engine, int(segment_id), request_named(NAMES[index % len(NAMES)])
            )
            for index, segment_id in enumerate(ids)
        ]
    )

    renamed = [outcome for outcome in outcomes if isinstance(outcome, int)]
    rejected = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert len(renamed) == 1, outcomes
    assert len(rejected) == CALLS - 1, outcomes
    assert {problems[0].code for problems in rejected} == {"DUPLICATE_NAME"}
    with engine.connect() as connection:
        keys = connection.execute(select(table_of(Segment).c.name_key)).scalars().all()
    assert sorted(keys).count("mixed two") == 1


# SQLite's BEGIN IMMEDIATE serialises writers, so there the name check always runs
# after the other commit and the index is never what rejects the name.
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_insert_after_check_gets_duplicate(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_customers(engine)
    segments = table_of(Segment)
    caplog.set_level(logging.INFO, logger="server.segments.service")

    with engine.connect() as holder:
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        holder.execute(
            insert(segments).values(
                name="Mixed Two", entity_name="CustomerProfile", definition={}, created_at=utc_now()
            )
        )
        # The other transaction's name check cannot see the uncommitted row, so its
        # INSERT waits on the unique index until this transaction commits.
        outcomes: list[object] = []
        creating = threading.Thread(
            target=lambda: outcomes.append(create_segment(engine, request_named("mixed two")))
        )
        creating.start()
        wait_until_blocked_by(engine, holder_pid)
        holder.commit()
        creating.join()

    assert len(outcomes) == 1
    problems = outcomes[0]
    assert isinstance(problems, list)
    assert problems[0].code == "DUPLICATE_NAME"
    assert problems[0].message == (
        "a segment named 'mixed two', or a name equal to it ignoring case, was saved by "
        "another request at the same time; choose another name"
    )
    assert "another request saved its name at the same time" in caplog.text
    assert segment_count(engine) == 1
    with engine.connect() as connection:
        members = connection.execute(select(func.count()).select_from(SegmentMember))
        assert members.scalar_one() == 0


def test_key_index_rejects_other_case(engine: Engine) -> None:
    segments = table_of(Segment)
    row = {"entity_name": "CustomerProfile", "definition": {}, "created_at": utc_now()}
    with write_transaction(engine) as connection:
        connection.execute(insert(segments).values(name="Straße", **row))

    with pytest.raises(IntegrityError) as raised, write_transaction(engine) as connection:
        connection.execute(insert(segments).values(name="STRASSE", **row))

    assert violated_unique_columns(raised.value, segments) == {"name_key"}
    assert segment_count(engine) == 1


def test_duplicate_message_names_existing_segment(engine: Engine) -> None:
    add_customers(engine)
    assert isinstance(create_segment(engine, request_named("Straße VIP")), int)

    problems = create_segment(engine, request_named("STRASSE vip"))

    assert isinstance(problems, list)
    assert [(problem.field, problem.code) for problem in problems] == [("name", "DUPLICATE_NAME")]
    assert problems[0].message == (
        "a segment named 'Straße VIP' already exists (names are compared ignoring case); "
        "choose another name"
    )
