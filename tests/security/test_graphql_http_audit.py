"""The graphql-http server audits (GraphQL over HTTP conformance) against the real server.

Needs Node.js and npm; `npm ci` installs the audit package into
tests/security/graphql_http/node_modules on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import LiveServer

AUDIT_DIR = Path(__file__).resolve().parent / "graphql_http"


@pytest.fixture(scope="module")
def audit_package() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the graphql-http audits; install Node.js 18+")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=AUDIT_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AUDIT_DIR


def test_graphql_http_audits(audit_package: Path, live_server: LiveServer) -> None:
    token = live_server.tokens["viewer"]
    assert token is not None
    environment = {**os.environ, "GRAPHQL_URL": live_server.graphql_url, "GRAPHQL_TOKEN": token}

    completed = subprocess.run(
        ["node", "audit.mjs"],
        cwd=audit_package,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    must = [item for item in results if item["name"].startswith("MUST")]
    should = [item for item in results if item["name"].startswith("SHOULD")]
    failed_must = [f"{item['name']}: {item['reason']}" for item in must if item["status"] != "ok"]
    passed_should = sum(item["status"] == "ok" for item in should)
    print(f"graphql-http: {len(must)} MUST audits, {passed_should}/{len(should)} SHOULD passed")
    for item in should:
        if item["status"] != "ok":
            print(f"  SHOULD not met: {item['name']}: {item['reason']}")
    assert must, "the audit script returned no MUST audits"
    assert failed_must == []
