"""Helpers for tests that race requests against each other on real databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Run `calls` on one thread each, released together, and return their outcomes in order.

    An exception a call raises is its outcome, so the test's assertion shows it.
    """
    outcomes: list[object] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wait_until_blocked_by(engine: Engine, holder_pid: int) -> None:
    """Return once a PostgreSQL session waits for a lock that session `holder_pid` holds."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query, {"pid": holder_pid}).scalar_one() > 0:
                return
        time.sleep(0.05)
    pytest.fail(f"no session waited for session {holder_pid} within 30 seconds")
