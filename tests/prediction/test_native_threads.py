from __future__ import annotations

# Importing numpy loads the BLAS library whose thread counts these tests read.
import numpy  # noqa: F401
from threadpoolctl import threadpool_info, threadpool_limits

from server.prediction.native_threads import single_native_thread


def _thread_counts() -> set[int]:
    counts = {int(library["num_threads"]) for library in threadpool_info()}
    assert counts, "no BLAS or OpenMP library is loaded"
    return counts


def test_block_limits_then_restores() -> None:
    with threadpool_limits(limits=2):
        with single_native_thread():
            assert _thread_counts() == {1}
        assert _thread_counts() == {2}


def test_overlapping_blocks_restore_at_last_exit() -> None:
    with threadpool_limits(limits=2):
        first = single_native_thread()
        second = single_native_thread()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert _thread_counts() == {1}

        second.__exit__(None, None, None)
        assert _thread_counts() == {2}
