"""Upload mistakes over HTTP: clear errors that name the client's file and arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.graphql.conftest import GraphQLCaller

LOAD = (
    "mutation($file: Upload!) { loadOrdersFile(file: $file, format: FORMAT) "
    "{ report { rowsLoaded } problems { message } errors { field code message } } }"
)
CDNOW_LINES = b"customer_id date number_of_cds dollar_value\n 00001 19970101 1 11.77\n"


async def upload(
    caller: GraphQLCaller, name: str, content: bytes, file_format: str = '"cdnow"'
) -> dict[str, Any]:
    body = {"query": LOAD.replace("FORMAT", file_format), "variables": {"file": None}}
    response = await caller.http.post(
        "/graphql",
        headers={"Authorization": f"Bearer {caller.token}"},
        data={"operations": json.dumps(body), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_plain_json_string_rejected(contributor: GraphQLCaller) -> None:
    body = await contributor(LOAD.replace("FORMAT", '"cdnow"'), {"file": "notafile"})

    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "file must be an uploaded file, got str 'notafile'" in error["message"]
    assert "multipart" in error["message"]


async def test_multipart_string_rejected(contributor: GraphQLCaller) -> None:
    body = {"query": LOAD.replace("FORMAT", '"cdnow"'), "variables": {"file": "notafile"}}
    response = await contributor.http.post(
        "/graphql",
        headers={"Authorization": f"Bearer {contributor.token}"},
        data={"operations": json.dumps(body), "map": "{}"},
        files={"unused": ("a.csv", b"", "text/csv")},
    )

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "got str 'notafile'" in error["message"]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("orders.csv.gz", CDNOW_LINES, "gzip"),
        ("orders.csv.bz2", CDNOW_LINES, "bzip2"),
        ("orders.csv.xz", CDNOW_LINES, "xz"),
        ("orders.parquet", b"PAR1" + bytes(20) + b"PAR1", "Parquet"),
        ("orders.parquet", b"x", "Parquet"),
    ],
)
async def test_damaged_file_named(
    contributor: GraphQLCaller, name: str, content: bytes, kind: str
) -> None:
    body = await upload(contributor, name, content)

    payload = body["data"]["loadOrdersFile"]
    [error] = payload["errors"]
    assert error["field"] == "file"
    assert error["code"] == "INVALID_FILE"
    messages = [error["message"], *(problem["message"] for problem in payload["problems"])]
    assert any(name in message and kind in message for message in messages), messages
    assert not any("uploaded-file" in message for message in messages)


async def test_unknown_header_uses_argument_names(contributor: GraphQLCaller) -> None:
    body = await upload(contributor, "shop export.csv", b"a,b\n1,2\n", file_format="null")

    payload = body["data"]["loadOrdersFile"]
    messages = [payload["errors"][0]["message"], payload["problems"][0]["message"]]
    for message in messages:
        assert "shop export.csv" in message
        assert "uploaded-file" not in message
        assert "--format" not in message
    assert "format argument" in payload["problems"][0]["message"]


async def test_unknown_format_named(contributor: GraphQLCaller) -> None:
    body = await upload(contributor, "orders.txt", CDNOW_LINES, file_format='"nosuch"')

    [error] = body["data"]["loadOrdersFile"]["errors"]
    assert error["field"] == "format"
    assert error["message"].startswith("unknown format 'nosuch'; valid formats: cdnow")


async def test_upload_still_loads(contributor: GraphQLCaller) -> None:
    body = await upload(contributor, "orders.txt", CDNOW_LINES)

    assert body["data"]["loadOrdersFile"]["errors"] == []
    assert body["data"]["loadOrdersFile"]["report"] == {"rowsLoaded": 1}
