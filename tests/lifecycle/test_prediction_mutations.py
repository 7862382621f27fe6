"""createPrediction, updatePrediction, runPrediction and deletePrediction over GraphQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect, select

from server.prediction.output import replace_entity
from server.prediction.worker import RunWorker
from server.storage.tables import AuditEvent, PredictionRun, table_of
from tests.lifecycle.conftest import SOURCE, GraphQLCaller, churn_rows, wait_for_run

CREATE = """
mutation($input: CreatePredictionInput!) {
  createPrediction(input: $input) {
    prediction { id name kind status parameters outputEntityName scheduleDays nextRunAt }
    errors { field code message }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdatePredictionInput!) {
  updatePrediction(id: $id, input: $input) {
    prediction { id name parameters scheduleDays nextRunAt }
    errors { field code message }
  }
}
"""
RUN = """
mutation($id: ID!) {
  runPrediction(id: $id) { run { id status trigger queuedAt } errors { field code message } }
}
"""
DELETE = """
mutation($id: ID!) { deletePrediction(id: $id) { deletedId errors { field code message } } }
"""
RUNS = """
query($id: ID!) {
  prediction(id: $id) {
    status
    runs { id status step startedAt finishedAt durationSeconds metrics rowCount error }
  }
}
"""
SEGMENT = """
mutation($p: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $p, input: $input) { segment { id } errors { code } }
}
"""


def churn_input(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "TRANSACTIONAL_CHURN",
        "name": "Shop churn",
        "outputEntityName": "ShopChurn",
        "parameters": {"source": SOURCE, "seed": 1},
        **changes,
    }


async def create(caller: GraphQLCaller, **changes: Any) -> dict[str, Any]:
    body = await caller(CREATE, {"input": churn_input(**changes)})
    payload: dict[str, Any] = body["data"]["createPrediction"]
    return payload


def prediction_audit(engine: Engine) -> list[tuple[str, str]]:
    """Return (action, actor name) of the audit events about predictions, oldest first."""
    table = table_of(AuditEvent)
    query = (
        select(table.c.action, table.c.actor_name)
        .where(table.c.target_type == "PREDICTION")
        .order_by(table.c.id)
    )
    with engine.connect() as connection:
        return [(row.action, row.actor_name) for row in connection.execute(query)]


async def test_create_fills_defaults(contributor: GraphQLCaller) -> None:
    payload = await create(contributor, scheduleDays=7)

    prediction = payload["prediction"]
    assert payload["errors"] == []
    assert prediction["status"] == "DRAFT"
    assert prediction["outputEntityName"] == "ShopChurn"
    assert prediction["parameters"]["source"] == SOURCE
    assert prediction["parameters"]["prediction_window_days"] == 90
    assert prediction["scheduleDays"] == 7
    assert prediction["nextRunAt"] is not None


async def test_create_names_each_bad_parameter(contributor: GraphQLCaller) -> None:
    parameters = {"source": SOURCE, "threshold": 2, "churn_definition_days": 0, "colour": 1}

    payload = await create(contributor, parameters=parameters)

    fields = sorted(error["field"] for error in payload["errors"])
    assert payload["prediction"] is None
    assert fields == [
        "parameters.churn_definition_days",
        "parameters.colour",
        "parameters.threshold",
    ]
    threshold = next(e for e in payload["errors"] if e["field"] == "parameters.threshold")
    assert threshold["code"] == "INVALID_PARAMETER"
    assert "from 0 to 1" in threshold["message"]


async def test_create_rejects_bad_names(engine: Engine, contributor: GraphQLCaller) -> None:
    await create(contributor)
    replace_entity(engine, "TelcoProfile", churn_rows(5), prediction_id=None, role="profile")

    invalid = await create(contributor, name="Other", outputEntityName="9 lives")
    taken = await create(contributor, name="shop CHURN", outputEntityName="shopchurn")
    profile = await create(contributor, name="Third", outputEntityName="CustomerProfile")
    schedule = await create(contributor, name="Fourth", outputEntityName="E4", scheduleDays=0)
    source_entity = await create(contributor, name="Fifth", outputEntityName="telcoPROFILE")

    assert [e["field"] for e in invalid["errors"]] == ["outputEntityName"]
    assert "invalid entity name '9 lives'" in invalid["errors"][0]["message"]
    assert sorted(e["code"] for e in taken["errors"]) == ["DUPLICATE_NAME", "DUPLICATE_NAME"]
    assert [e["field"] for e in profile["errors"]] == ["outputEntityName"]
    assert [e["field"] for e in schedule["errors"]] == ["scheduleDays"]
    assert [e["code"] for e in source_entity["errors"]] == ["DUPLICATE_NAME"]


async def test_viewer_cannot_create(viewer: GraphQLCaller) -> None:
    body = await viewer(CREATE, {"input": churn_input()})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_update_changes_parameters_and_schedule(contributor: GraphQLCaller) -> None:
    created = (await create(contributor))["prediction"]

    changed = await contributor(
        UPDATE,
        {
            "id": created["id"],
            "input": {"name": "Renamed", "parameters": {"source": SOURCE, "threshold": 0.7}},
        },
    )
    cleared = await contributor(
        UPDATE, {"id": created["id"], "input": {"clearSchedule": True, "scheduleDays": 3}}
    )
    bad = await contributor(
        UPDATE, {"id": created["id"], "input": {"parameters": {"threshold": "high"}}}
    )

    prediction = changed["data"]["updatePrediction"]["prediction"]
    assert prediction["name"] == "Renamed"
    assert prediction["parameters"]["threshold"] == 0.7
    assert cleared["data"]["updatePrediction"]["prediction"]["scheduleDays"] is None
    assert cleared["data"]["updatePrediction"]["prediction"]["nextRunAt"] is None
    fields = sorted(e["field"] for e in bad["data"]["updatePrediction"]["errors"])
    assert fields == ["parameters.source", "parameters.threshold"]


async def test_update_unknown_prediction(contributor: GraphQLCaller) -> None:
    body = await contributor(UPDATE, {"id": "424242", "input": {"name": "x"}})

    assert body["data"]["updatePrediction"]["errors"][0]["code"] == "NOT_FOUND"


async def test_run_queues_and_worker_executes(
    shop_orders: Engine, contributor: GraphQLCaller, worker: RunWorker
) -> None:
    created = (await create(contributor))["prediction"]

    queued = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]
    wait_for_run(shop_orders, int(queued["run"]["id"]))
    listed = (await contributor(RUNS, {"id": created["id"]}))["data"]["prediction"]

    assert queued["errors"] == []
    assert queued["run"]["status"] in {"QUEUED", "RUNNING", "SUCCEEDED"}
    assert queued["run"]["trigger"] == "MANUAL"
    assert listed["status"] == "SUCCEEDED"
    run = listed["runs"][0]
    assert run["status"] == "SUCCEEDED"
    assert run["step"] == "refreshing segments"
    assert run["durationSeconds"] >= 0
    assert run["rowCount"] > 0
    assert 0 <= run["metrics"]["roc_auc"] <= 1
    assert run["error"] is None


async def test_second_run_while_queued_is_rejected(
    shop_orders: Engine, contributor: GraphQLCaller
) -> None:
    created = (await create(contributor))["prediction"]

    first = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]
    second = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]

    assert first["run"]["status"] == "QUEUED"
    assert second["run"] is None
    assert second["errors"][0]["code"] == "RUN_IN_PROGRESS"
    assert f"already has run {first['run']['id']} QUEUED" in second["errors"][0]["message"]


async def test_delete_rejected_while_segment_reads_entity(
    shop_orders: Engine, contributor: GraphQLCaller, worker: RunWorker
) -> None:
    created = (await create(contributor))["prediction"]
    queued = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]
    wait_for_run(shop_orders, int(queued["run"]["id"]))
    segment_input = {
        "name": "Likely to leave",
        "conditions": [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.5}],
    }
    segment = await contributor(SEGMENT, {"p": created["id"], "input": segment_input})
    assert segment["data"]["createSegmentFromPrediction"]["errors"] == []

    refused = (await contributor(DELETE, {"id": created["id"]}))["data"]["deletePrediction"]

    assert refused["deletedId"] is None
    assert refused["errors"][0]["code"] == "ENTITY_IN_USE"
    assert "'Likely to leave'" in refused["errors"][0]["message"]
    assert inspect(shop_orders).has_table("oe_shopchurn")


async def test_delete_drops_entity_and_runs(
    shop_orders: Engine, contributor: GraphQLCaller, worker: RunWorker
) -> None:
    created = (await create(contributor))["prediction"]
    queued = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]
    wait_for_run(shop_orders, int(queued["run"]["id"]))

    deleted = (await contributor(DELETE, {"id": created["id"]}))["data"]["deletePrediction"]
    again = (await contributor(DELETE, {"id": created["id"]}))["data"]["deletePrediction"]

    assert deleted == {"deletedId": created["id"], "errors": []}
    assert not inspect(shop_orders).has_table("oe_shopchurn")
    with shop_orders.connect() as connection:
        assert connection.execute(select(table_of(PredictionRun))).all() == []
    assert again["errors"][0]["code"] == "NOT_FOUND"


async def test_delete_rejected_during_run(shop_orders: Engine, contributor: GraphQLCaller) -> None:
    created = (await create(contributor))["prediction"]
    await contributor(RUN, {"id": created["id"]})

    refused = (await contributor(DELETE, {"id": created["id"]}))["data"]["deletePrediction"]

    assert refused["errors"][0]["code"] == "RUN_IN_PROGRESS"


async def test_changes_are_audited(
    shop_orders: Engine, contributor: GraphQLCaller, worker: RunWorker
) -> None:
    created = (await create(contributor))["prediction"]
    await contributor(UPDATE, {"id": created["id"], "input": {"name": "Renamed"}})
    queued = (await contributor(RUN, {"id": created["id"]}))["data"]["runPrediction"]
    wait_for_run(shop_orders, int(queued["run"]["id"]))
    await contributor(DELETE, {"id": created["id"]})
    await create(contributor, parameters={"threshold": 9})

    assert prediction_audit(shop_orders) == [
        ("CREATE", "test-CONTRIBUTOR"),
        ("UPDATE", "test-CONTRIBUTOR"),
        ("RUN", "test-CONTRIBUTOR"),
        ("DELETE", "test-CONTRIBUTOR"),
    ]
