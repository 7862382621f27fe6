"""Bulk inserts of staged frames keep every value, NULLs and awkward text included."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, select

from server.ingestion.staging import STAGED_LINE, create_staging
from server.ingestion.store import copy_csv, insert_frame
from server.storage.engine import write_transaction

AWKWARD = ["plain", "tab\there", "line\nbreak", "back\\slash", "\\N", "", "carriage\rreturn"]


def staged_frame(count: int) -> pd.DataFrame:
    texts = [AWKWARD[index % len(AWKWARD)] for index in range(count)]
    return pd.DataFrame(
        {
            "source_row": np.arange(count),
            "customer_id": [f"C{index}" for index in range(count)],
            "order_id": pd.array([None if index % 5 == 0 else t for index, t in enumerate(texts)]),
            "order_date": [date(2024, 1, 1 + index % 28) for index in range(count)],
            "product_id": texts,
            "quantity": np.where(np.arange(count) % 3 == 0, 1.5, 2.0),
            "amount": [0.1 + 0.2 * index for index in range(count)],
            "line_key": [None] * count,
        }
    )


def test_insert_frame_round_trip(engine: Engine) -> None:
    frame = staged_frame(60)

    with write_transaction(engine) as connection:
        create_staging(connection)
        insert_frame(connection, STAGED_LINE, frame)
        rows = connection.execute(select(STAGED_LINE).order_by(STAGED_LINE.c.source_row)).all()
        connection.rollback()

    assert len(rows) == len(frame)
    for row, expected in zip(rows, frame.itertuples(index=False), strict=True):
        assert row.order_id == (expected.order_id if isinstance(expected.order_id, str) else None)
        assert row.product_id == expected.product_id
        assert row.order_date == expected.order_date
        assert row.amount == expected.amount
        assert row.quantity == expected.quantity
        assert row.line_key is None


def test_copy_csv_quotes_strings_and_nulls() -> None:
    frame = pd.DataFrame(
        {"text": ["a\tb", "", None, 'say "hi"'], "number": [1.5, np.nan, 3.0, 4.0]}
    )
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)

    text = copy_csv(batch).decode()

    assert text == '"a\tb",1.5\n"",\n,3\n"say ""hi""",4\n'
