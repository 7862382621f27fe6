"""`lookahead serve` with TRANSACTIONAL_CHURN replaced by a kind that never finishes.

The process-kill test starts this module so a run is surely in progress when it
kills the server.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from server.cli import main
from server.prediction.base import KindResult, Progress
from server.prediction.registry import KINDS, get_kind

TRAINING_STEP = "training"


class EndlessKind:
    """Reports the training step, then blocks until the process dies."""

    name = "TRANSACTIONAL_CHURN"

    def __init__(self) -> None:
        self._real = get_kind("TRANSACTIONAL_CHURN")

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return self._real.validate_parameters(raw)

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        progress(TRAINING_STEP)
        threading.Event().wait()
        raise AssertionError("unreachable: the test kills the process")


if __name__ == "__main__":
    KINDS["TRANSACTIONAL_CHURN"] = EndlessKind()
    sys.exit(main())
