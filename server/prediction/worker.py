"""The server's run worker: a thread that executes queued runs one at a time.

Requests only queue runs (`queue_run`) and wake the worker, so a request never waits
for training. The worker also queues the runs that retraining schedules make due,
and publishes every change of a run to `RUN_EVENTS` for GraphQL subscriptions.
A run still executing when the server stops is left RUNNING, and the next start
marks it FAILED (`mark_interrupted_runs`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Engine, select

from server.prediction.runner import (
    QUEUED,
    SCHEDULE,
    RunError,
    RunInProgressError,
    execute_run,
    queue_run,
)
from server.prediction.schedule import due_prediction_ids
from server.storage.tables import PredictionRun, table_of, utc_now

logger = logging.getLogger(__name__)

SCHEDULE_CHECK_SECONDS = 60.0
IDLE_WAIT_SECONDS = 5.0


class RunEvents:
    """Wakes asyncio waiters, in any event loop, when a run changes.

    A notification carries no data: a waiter reads the run from the database, so it
    never misses the final state even when notifications come faster than it reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def publish(self, run_id: int) -> None:
        """Wake every waiter of run `run_id`; safe to call from any thread."""
        with self._lock:
            waiters = list(self._waiters.get(run_id, ()))
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait(self, run_id: int, timeout: float) -> None:
        """Return when run `run_id` changes, or after `timeout` seconds."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters[run_id].add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters[run_id].discard(waiter)
                if not self._waiters[run_id]:
                    del self._waiters[run_id]


RUN_EVENTS = RunEvents()
_workers: weakref.WeakSet[RunWorker] = weakref.WeakSet()


def wake_workers() -> None:
    """Make every worker of this process look for queued runs now; call after queuing one."""
    for worker in list(_workers):
        worker.wake()


def enqueue_due_runs(engine: Engine, now: datetime | None = None) -> list[int]:
    """Queue a run of every prediction whose schedule is due; return the new run ids.

    A prediction with a run already in progress is skipped; its schedule stays due,
    so the next check queues it once that run is over.
    """
    queued: list[int] = []
    for prediction_id in due_prediction_ids(engine, now or utc_now()):
        try:
            queued.append(queue_run(engine, prediction_id, trigger=SCHEDULE))
        except (LookupError, RunInProgressError) as error:
            logger.info("scheduled run of prediction %s skipped: %s", prediction_id, error)
    return queued


def next_queued_run(engine: Engine) -> int | None:
    """Return the id of the oldest QUEUED run, or None."""
    runs = table_of(PredictionRun)
    query = select(runs.c.id).where(runs.c.status == QUEUED).order_by(runs.c.id).limit(1)
    with engine.connect() as connection:
        found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


class RunWorker:
    """A daemon thread that executes QUEUED runs and queues scheduled ones."""

    def __init__(
        self,
        engine: Engine,
        *,
        events: RunEvents = RUN_EVENTS,
        schedule_check_seconds: float = SCHEDULE_CHECK_SECONDS,
    ) -> None:
        self.engine = engine
        self.events = events
        self.schedule_check_seconds = schedule_check_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_schedule_check = float("-inf")

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the run worker is already started")
        self._thread = threading.Thread(target=self._loop, name="run-worker", daemon=True)
        self._thread.start()
        _workers.add(self)
        logger.info("run worker started")

    def wake(self) -> None:
        """Make the worker look for queued runs now instead of after its idle wait."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop after its current run and wait up to `timeout` seconds."""
        _workers.discard(self)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning(
                    "run worker did not stop within %.0f s; its run stays RUNNING until the "
                    "next start marks it FAILED",
                    timeout,
                )
                return
        logger.info("run worker stopped")

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self._step()
            except Exception:
                # A database outage must not end the worker: log it and try again later.
                logger.exception("run worker step failed")
                worked = False
            if not worked:
                self._wake.wait(IDLE_WAIT_SECONDS)
                self._wake.clear()

    def _step(self) -> bool:
        """Queue due runs when it is time, then execute one queued run; return whether one ran."""
        if time.monotonic() - self._last_schedule_check >= self.schedule_check_seconds:
            self._last_schedule_check = time.monotonic()
            for queued in enqueue_due_runs(self.engine):
                self.events.publish(queued)

        run_id = next_queued_run(self.engine)
        if run_id is None:
            return False
        try:
            execute_run(self.engine, run_id, lambda _step: self.events.publish(run_id))
        except (LookupError, RunError) as error:
            # Another worker took the run, or it was deleted, after we read it.
            logger.info("run %s skipped: %s", run_id, error)
        self.events.publish(run_id)
        return True
