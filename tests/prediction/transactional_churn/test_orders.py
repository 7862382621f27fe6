"""Reading an order history from the database matches grouping the same lines in pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, insert

from server.prediction.base import ParameterError
from server.prediction.transactional_churn.orders import OrderHistory, load_order_history
from server.storage.engine import write_transaction
from server.storage.tables import OrderLine, table_of


def store_lines(engine: Engine, lines: pd.DataFrame, source: str) -> None:
    columns = zip(
        lines["customer_id"].tolist(),
        lines["order_date"].dt.date.tolist(),
        lines["quantity"].tolist(),
        lines["amount"].tolist(),
        strict=True,
    )
    rows = [
        {
            "source": source,
            "customer_id": customer_id,
            "order_id": f"O{index}",
            "order_date": order_date,
            "quantity": quantity,
            "amount": amount,
        }
        for index, (customer_id, order_date, quantity, amount) in enumerate(columns)
    ]
    with write_transaction(engine) as connection:
        connection.execute(insert(table_of(OrderLine)), rows)


def test_history_matches_pandas_grouping(engine: Engine, hand_lines: pd.DataFrame) -> None:
    store_lines(engine, hand_lines, "shop")
    store_lines(engine, hand_lines.assign(amount=hand_lines["amount"] * 3), "other")

    loaded = load_order_history(engine, "shop", chunk_rows=3)
    expected = OrderHistory.from_order_lines(hand_lines)

    pd.testing.assert_frame_equal(loaded.purchases, expected.purchases, check_dtype=False)
    returns = loaded.returns.sort_values(["customer_id", "order_date"], ignore_index=True)
    pd.testing.assert_frame_equal(returns, expected.returns, check_dtype=False)
    assert loaded.last_date == expected.last_date


def test_history_column_types(engine: Engine, hand_lines: pd.DataFrame) -> None:
    store_lines(engine, hand_lines, "shop")

    purchases = load_order_history(engine, "shop").purchases

    assert pd.api.types.is_string_dtype(purchases["customer_id"])
    assert pd.api.types.is_datetime64_dtype(purchases["order_date"])
    assert purchases["spend"].dtype == float


def test_history_unknown_source_lists_sources(engine: Engine, hand_lines: pd.DataFrame) -> None:
    store_lines(engine, hand_lines, "shop")

    with pytest.raises(ParameterError) as caught:
        load_order_history(engine, "shpo")

    assert caught.value.problems == {"source": "no order lines have source 'shpo'; valid: shop"}
