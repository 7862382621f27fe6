"""The whole path on real data: load, train, read results and segment over GraphQL."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from server.ingestion.telco import load_telco
from server.prediction.runner import run_prediction
from tests.graphql.conftest import GraphQLCaller
from tests.prediction.conftest import create_prediction, load_cdnow

RESULTS = """
query Results($id: ID!) {
  prediction(id: $id) {
    status
    results { grade gradeReason metrics { name value baseline } factors { name importance } }
    outputEntity { name rowCount attributes { name dataType } }
  }
}
"""

CREATE = """
mutation Create($predictionId: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $predictionId, input: $input) {
    segment { id memberCount }
    errors { field code message }
  }
}
"""


def metric(results: dict[str, object], name: str) -> dict[str, float]:
    metrics = results["metrics"]
    assert isinstance(metrics, list)
    found = [item for item in metrics if item["name"] == name]
    assert found, f"no metric {name!r} in {metrics}"
    return dict(found[0])


async def test_cdnow_churn_to_segment(
    engine: Engine, viewer: GraphQLCaller, contributor: GraphQLCaller
) -> None:
    load_cdnow(engine)
    prediction_id = create_prediction(engine, {"source": "cdnow"}, entity="CdnowChurn")
    run = run_prediction(engine, prediction_id)
    assert run.status == "SUCCEEDED", run.error

    body = await viewer(RESULTS, {"id": str(prediction_id)})
    prediction = body["data"]["prediction"]
    auc = metric(prediction["results"], "roc_auc")
    print(f"\nCDNOW churn ROC AUC {auc['value']:.4f}, recency baseline {auc['baseline']:.4f}")
    assert prediction["status"] == "SUCCEEDED"
    assert auc["value"] > 0.70
    assert prediction["results"]["grade"] in {"A", "B", "C"}
    assert prediction["results"]["factors"]
    assert prediction["outputEntity"]["rowCount"] == 23_570

    payload = (
        await contributor(
            CREATE,
            {
                "predictionId": str(prediction_id),
                "input": {
                    "name": "CDNOW high risk",
                    "conditions": [
                        {"attribute": "ChurnScore", "operator": "GTE", "value": 0.6},
                        {"attribute": "ChurnRiskBand", "operator": "EQ", "value": "High"},
                    ],
                },
            },
        )
    )["data"]["createSegmentFromPrediction"]

    with engine.connect() as connection:
        rows = pd.read_sql_table("oe_cdnowchurn", connection)
    expected = rows[(rows.ChurnScore >= 0.6) & (rows.ChurnRiskBand == "High")]
    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == expected.CustomerId.nunique()
    assert payload["segment"]["memberCount"] > 0


async def test_telco_churn_with_profile_condition(
    engine: Engine, contributor: GraphQLCaller
) -> None:
    load_telco(engine)
    prediction_id = create_prediction(
        engine,
        {"source": "telco", "prediction_window_days": 30},
        name="Telco churn",
        entity="TelcoChurn",
        kind="SUBSCRIPTION_CHURN",
    )
    run = run_prediction(engine, prediction_id)
    assert run.status == "SUCCEEDED", run.error

    body = await contributor(
        CREATE,
        {
            "predictionId": str(prediction_id),
            "input": {
                "name": "Month-to-month at risk",
                "conditions": [
                    {"attribute": "ChurnScore", "operator": "GTE", "value": 0.7},
                    {
                        "entity": "TelcoProfile",
                        "attribute": "Contract",
                        "operator": "EQ",
                        "value": "Month-to-month",
                    },
                ],
            },
        },
    )
    payload = body["data"]["createSegmentFromPrediction"]

    with engine.connect() as connection:
        scores = pd.read_sql_table("oe_telcochurn", connection)
        profile = pd.read_sql_table("oe_telcoprofile", connection)
    joined = scores.merge(profile, on="CustomerId")
    expected = joined[(joined.ChurnScore >= 0.7) & (joined.Contract == "Month-to-month")]
    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == expected.CustomerId.nunique()
    assert payload["segment"]["memberCount"] > 0
