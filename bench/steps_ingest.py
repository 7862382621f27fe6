"""Ingestion: `load_orders` beside pandas `read_csv` + `DataFrame.to_sql`."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from server.generate.mapping import GENERATED
from server.ingestion import load_orders
from server.storage.engine import make_engine
from server.storage.migrate import upgrade

# Rows per read_csv chunk and per to_sql batch in the peer, so it streams the file.
PEER_CHUNK_ROWS = 200_000
PEER_TABLE = "order_line_peer"


def ingest_ours(url: str, path: str, source: str) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    report = load_orders(engine, path, GENERATED, source=source)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "rows": report.rows_loaded,
        "rows_per_s": report.rows_loaded / seconds,
    }


def ingest_peer(url: str, path: str, source: str) -> dict[str, Any]:
    """Stream the file with read_csv in chunks and append each with to_sql.

    The peer parses dates and numbers but validates nothing and writes no profile.
    """
    engine = make_engine(url)
    started = time.perf_counter()
    rows = 0
    reader = pd.read_csv(
        path,
        usecols=["CustomerId", "OrderId", "OrderDate", "ProductId", "Quantity", "Amount"],
        dtype={"CustomerId": str, "OrderId": str, "ProductId": str},
        parse_dates=["OrderDate"],
        chunksize=PEER_CHUNK_ROWS,
    )
    with engine.begin() as connection:
        for chunk in reader:
            chunk.insert(0, "source", source)
            chunk.to_sql(PEER_TABLE, connection, if_exists="append", index=False, chunksize=10_000)
            rows += len(chunk)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "rows_per_s": rows / seconds}
