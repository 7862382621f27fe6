from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests.graphql.conftest import GraphQLCaller
from tests.graphql.test_create_segment import create, segment_count


async def test_unicode_digit_ids_not_found(viewer: GraphQLCaller, prediction_id: int) -> None:
    for raw in ["²", "١", "0"]:
        body = await viewer("query($id: ID!) { segment(id: $id) { id } }", {"id": raw})
        assert body == {"data": {"segment": None}}, raw


async def test_export_unicode_digit_id_404(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    response = await client.get(
        "/segments/%C2%B2/members.csv", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    )

    assert response.status_code == 404


async def test_name_white_space_variants_duplicate(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    first = await create(contributor, prediction_id, name="Likely to churn")
    for variant in ["Likely  to churn", "likely\u00a0to churn", "Likely\tto CHURN"]:
        payload = await create(contributor, prediction_id, name=variant)
        assert payload["errors"][0]["code"] == "DUPLICATE_NAME", variant

    assert first["segment"]["name"] == "Likely to churn"
    assert segment_count(engine)[0] == 1


async def test_name_control_character_rejected(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    payload = await create(contributor, prediction_id, name="evil\u202ename")

    assert payload["errors"][0]["code"] == "INVALID_CHARACTER"
    assert "U+202E" in payload["errors"][0]["message"]
    assert segment_count(engine) == (0, 0)
