from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

from server.prediction.frames import frame_from_rows

COLUMNS = ["customer_id", "order_date", "amount", "quantity"]
QUERY = text(
    "SELECT customer_id, order_date, amount, quantity FROM ("
    "SELECT 'c1' AS customer_id, '2024-01-02' AS order_date, 10.5 AS amount, 2 AS quantity "
    "UNION ALL SELECT 'c2', NULL, -3.0, NULL "
    "UNION ALL SELECT NULL, '2024-02-03', 0.0, 7) AS lines ORDER BY amount"
)


def test_rows_match_pandas_row_path(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(QUERY).all()

    frame = frame_from_rows(rows, COLUMNS)

    pd.testing.assert_frame_equal(frame, pd.DataFrame(rows, columns=COLUMNS))
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 3


def test_no_rows_keep_columns(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT 1 AS a, 'x' AS b WHERE 1 = 0")).all()

    frame = frame_from_rows(rows, ["a", "b"])

    assert list(frame.columns) == ["a", "b"]
    assert frame.empty
