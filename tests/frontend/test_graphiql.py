"""GraphiQL in Chromium, served from the installed npm packages with no CDN."""

from __future__ import annotations

import json
from typing import Any

from tests.frontend.conftest import SeededServer, sign_in


def test_graphiql_runs_query_offline(page: Any, served: SeededServer) -> None:
    # Signing in to the app first lets GraphiQL fill in the Authorization header.
    sign_in(page, served.base, served.tokens["viewer"])
    page.goto(f"{served.base}/graphql")
    page.locator(".graphiql-container").wait_for()
    headers = page.locator(".graphiql-editor-tool .CodeMirror").last
    assert served.tokens["viewer"] in headers.inner_text()

    page.locator(".graphiql-execute-button").click()

    result = page.locator(".result-window")
    result.get_by_text('"Churn next quarter"').wait_for()
    result_json = json.loads(
        page.evaluate("document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()")
    )
    assert result_json["data"]["predictions"][0]["name"] == "Churn next quarter"
    assert result_json["data"]["predictions"][0]["results"] == {"grade": "B"}
