"""One thread for the native math libraries (BLAS, OpenMP) while runs train and score.

The models fit matrices with tens of columns, where the native libraries' worker
threads cost more in start-up and synchronisation than they save. Measured on a
2-core machine with other processes running (load average about 5, OpenBLAS 0.3.31):
training the Telco subscription churn model took 2.4-2.5 s with two BLAS threads and
0.8-0.95 s with one. The whole CDNOW transactional churn run took 3.8-7.4 s with two
and 2.7-4.0 s with one, and on 100,000 customers from `lookahead generate` (load
average about 2) 11.2-16.8 s with two and 8.8-9.2 s with one. A run
also shares the process with the server, which serves requests while it trains.

The limit is process-wide, because the libraries keep one thread count per process.
Runs that overlap in several threads share one limit: the first to start sets it,
the last to finish restores the previous counts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_holders = 0
_limits: threadpool_limits | None = None


@contextmanager
def single_native_thread() -> Iterator[None]:
    """Limit BLAS and OpenMP to one thread inside the block, for every thread of the process."""
    _acquire()
    try:
        yield
    finally:
        _release()


def _acquire() -> None:
    global _holders, _limits
    with _lock:
        if _holders == 0:
            _limits = threadpool_limits(limits=1)
        _holders += 1


def _release() -> None:
    global _holders, _limits
    with _lock:
        _holders -= 1
        if _holders == 0 and _limits is not None:
            _limits.restore_original_limits()
            _limits = None
