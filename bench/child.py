"""Run one benchmark step in this process and print its figures as one JSON line.

The parent starts a fresh interpreter per step, so each step's peak resident memory
(`ru_maxrss` of this process) is its own.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

RESULT_MARKER = "BENCH-RESULT "


def _steps() -> dict[str, Callable[..., dict[str, Any]]]:
    from bench import steps_churn, steps_ingest

    return {
        "ingest_ours": steps_ingest.ingest_ours,
        "ingest_peer": steps_ingest.ingest_peer,
        "churn_ours": steps_churn.churn_ours,
        "churn_peer": steps_churn.churn_peer,
    }


def main() -> None:
    step, raw_arguments = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    figures = _steps()[step](**json.loads(raw_arguments))
    figures.setdefault("seconds", time.perf_counter() - started)
    # Linux reports ru_maxrss in KiB.
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(RESULT_MARKER + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
