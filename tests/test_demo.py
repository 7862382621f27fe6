"""The demo: everything loaded and trained once, reused on the next start."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from server.auth.tokens import TokenError, authenticate
from server.demo import DEMO_PREDICTIONS, prepare_demo
from server.storage.tables import OrderLine, Prediction, PredictionRun, Subscription, table_of


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__name__: connection.execute(
                select(func.count()).select_from(table_of(model))
            ).scalar_one()
            for model in (OrderLine, Subscription, Prediction, PredictionRun)
        }


def test_demo_runs_once_then_reuses(sqlite_engine: Engine) -> None:
    first_tokens = prepare_demo(sqlite_engine)
    after_first = counts(sqlite_engine)
    second_tokens = prepare_demo(sqlite_engine)
    after_second = counts(sqlite_engine)

    assert after_first["OrderLine"] == 69_659 + 9_994
    assert after_first["Subscription"] == 7_043
    assert after_first["Prediction"] == len(DEMO_PREDICTIONS)
    assert after_second == after_first
    with sqlite_engine.connect() as connection:
        statuses = connection.execute(select(table_of(Prediction).c.status)).scalars().all()
    assert set(statuses) == {"SUCCEEDED"}
    assert [token.role for token in first_tokens] == [token.role for token in second_tokens]
    assert {token.secret for token in first_tokens}.isdisjoint(t.secret for t in second_tokens)
    for token in first_tokens:
        with pytest.raises(TokenError, match="revoked"):
            authenticate(sqlite_engine, token.secret)
