"""The run worker: data checks before training, schedules and segment refresh."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from server.prediction.configuration import (
    PredictionChanges,
    PredictionSpec,
    create_prediction,
    update_prediction,
)
from server.prediction.runner import queue_run
from server.prediction.usability import check_prediction_data
from server.prediction.worker import RunWorker, enqueue_due_runs, wake_workers
from server.segments.definition import Definition
from server.segments.operators import Operator
from server.segments.rules import Condition, Rule
from server.segments.service import SegmentKind, SegmentRequest, create_segment
from server.storage.tables import PredictionRun, Segment, table_of, utc_now
from tests.lifecycle.conftest import SOURCE, GraphQLCaller, wait_for_run

REPORT = """
query($id: ID!) {
  prediction(id: $id) {
    dataReport { errors { table column message fix } warnings { table column message fix } }
  }
}
"""


def make_prediction(engine: Engine, schedule_days: int | None = None, **parameters: object) -> int:
    spec = PredictionSpec(
        name="Shop churn",
        kind="TRANSACTIONAL_CHURN",
        output_entity_name="ShopChurn",
        parameters={"source": SOURCE, **parameters},
        schedule_days=schedule_days,
    )
    created = create_prediction(engine, spec)
    assert isinstance(created, int), created
    return created


def churn_segment(engine: Engine, name: str, kind: SegmentKind, prediction_id: int) -> int:
    condition = Condition(attribute="IsChurn", operator=Operator.IS_TRUE)
    request = SegmentRequest(
        name=name,
        description=None,
        entity_name="ShopChurn",
        definition=Definition.from_rule(Rule("AND", [condition])),
        prediction_id=prediction_id,
        kind=kind,
    )
    created = create_segment(engine, request)
    assert isinstance(created, int), created
    return created


def member_count(engine: Engine, segment_id: int) -> int:
    segments = table_of(Segment)
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(segments.c.member_count).where(segments.c.id == segment_id)
            ).scalar_one()
        )


async def test_report_warns_about_small_data(shop_orders: Engine, viewer: GraphQLCaller) -> None:
    prediction_id = make_prediction(shop_orders)

    body = await viewer(REPORT, {"id": str(prediction_id)})

    report = body["data"]["prediction"]["dataReport"]
    warned = {(item["table"], item["column"]) for item in report["warnings"]}
    assert report["errors"] == []
    assert ("order_line", "customer_id") in warned
    assert ("order_line", "order_id") in warned
    assert ("order_line", "product_id") in warned
    customers = next(w for w in report["warnings"] if w["column"] == "customer_id")
    assert "fewer than 1000" in customers["message"]
    assert customers["fix"]


def test_report_errors_on_missing_source(engine: Engine) -> None:
    report = check_prediction_data(engine, "TRANSACTIONAL_CHURN", {"source": "nowhere"})

    assert [(e.table, e.column) for e in report.errors] == [("order_line", "source")]
    assert "no rows have source 'nowhere'" in report.errors[0].message
    assert report.warnings == []


def test_report_errors_on_short_history(shop_orders: Engine) -> None:
    report = check_prediction_data(
        shop_orders, "TRANSACTIONAL_CHURN", {"source": SOURCE, "prediction_window_days": 400}
    )

    assert [(e.table, e.column) for e in report.errors] == [("order_line", "order_date")]
    assert "needs more than 800" in report.errors[0].message


def test_report_names_bad_parameters(engine: Engine) -> None:
    report = check_prediction_data(engine, "TRANSACTIONAL_CHURN", {"source": SOURCE, "seed": -1})

    assert [(e.table, e.column) for e in report.errors] == [("prediction", "parameters.seed")]


def test_blocking_errors_fail_fast(shop_orders: Engine, worker: RunWorker) -> None:
    prediction_id = make_prediction(shop_orders, prediction_window_days=400)

    run = wait_for_run(shop_orders, queue_run(shop_orders, prediction_id))

    assert run.status == "FAILED"
    assert run.step == "checking data"
    assert run.error is not None
    assert run.error.startswith("the data cannot support this prediction: order_line.order_date")


def test_due_schedule_queues_a_run(shop_orders: Engine) -> None:
    prediction_id = make_prediction(shop_orders, schedule_days=7)
    now = utc_now()

    early = enqueue_due_runs(shop_orders, now + timedelta(days=6))
    due = enqueue_due_runs(shop_orders, now + timedelta(days=8))
    again = enqueue_due_runs(shop_orders, now + timedelta(days=8))

    runs = table_of(PredictionRun)
    with shop_orders.connect() as connection:
        queued = connection.execute(select(runs.c.id, runs.c.trigger, runs.c.prediction_id)).all()
    assert early == []
    assert len(due) == 1
    assert again == []
    assert [(row.id, row.trigger, row.prediction_id) for row in queued] == [
        (due[0], "SCHEDULE", prediction_id)
    ]


def test_manual_run_moves_schedule(shop_orders: Engine) -> None:
    prediction_id = make_prediction(shop_orders, schedule_days=7)
    queue_run(shop_orders, prediction_id)

    assert enqueue_due_runs(shop_orders, utc_now() + timedelta(days=6, hours=23)) == []


def test_cleared_schedule_never_queues(shop_orders: Engine) -> None:
    prediction_id = make_prediction(shop_orders, schedule_days=1)

    update_prediction(shop_orders, prediction_id, PredictionChanges(clear_schedule=True))

    assert enqueue_due_runs(shop_orders, utc_now() + timedelta(days=30)) == []


def test_run_refreshes_dynamic_segments(shop_orders: Engine, worker: RunWorker) -> None:
    prediction_id = make_prediction(shop_orders, seed=1)
    first = wait_for_run(shop_orders, queue_run(shop_orders, prediction_id))
    assert first.status == "SUCCEEDED"
    dynamic = churn_segment(shop_orders, "Churners", SegmentKind.DYNAMIC, prediction_id)
    static = churn_segment(shop_orders, "Churners then", SegmentKind.STATIC, prediction_id)
    before = member_count(shop_orders, dynamic)

    update_prediction(
        shop_orders,
        prediction_id,
        PredictionChanges(parameters={"source": SOURCE, "seed": 1, "threshold": 0.3}),
    )
    run_id = queue_run(shop_orders, prediction_id)
    wake_workers()
    second = wait_for_run(shop_orders, run_id)

    assert second.status == "SUCCEEDED"
    assert member_count(shop_orders, dynamic) > before
    assert member_count(shop_orders, static) == before
