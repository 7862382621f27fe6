"""Messages about rows of an input file, and the error that carries them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MAX_LISTED = 50
"""The maximum number of row messages an error or a report lists. Others are only counted."""

ROW_NUMBERING = "Row numbers count data rows from 1, not counting a header line."

_SHOWN_IN_TEXT = 10


@dataclass(frozen=True)
class RowMessage:
    """A finding about one cell, a whole row (`column` is None) or the file (`row` is None).

    `row` is the 1-based data row, so row 1 is the first line after the header (or the
    first line of a file without one).
    """

    row: int | None
    column: str | None
    value: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IngestionError(ValueError):
    """An input file that cannot be loaded as it is. Nothing was written.

    `problems` lists at most `MAX_LISTED` problems, in row order, and `problem_count`
    is the number found, listed or not.
    """

    def __init__(
        self,
        file_name: str,
        problems: list[RowMessage],
        problem_count: int,
        *,
        rows_read: int | None = None,
        rows_rejected: int | None = None,
    ) -> None:
        self.file_name = file_name
        self.problems = problems[:MAX_LISTED]
        self.problem_count = max(problem_count, len(problems))
        # None when the file failed before its rows were counted.
        self.rows_read = rows_read
        self.rows_rejected = rows_rejected
        super().__init__(self._describe())

    def as_dict(self) -> dict[str, Any]:
        """Return the failure as JSON-ready values, in the shape of a failed load's report."""
        return {
            "ok": False,
            "file_name": self.file_name,
            "rows_read": self.rows_read,
            "rows_loaded": 0,
            "rows_rejected": self.rows_rejected,
            "problem_count": self.problem_count,
            "problems": [problem.as_dict() for problem in self.problems],
        }

    def _describe(self) -> str:
        noun = "problem" if self.problem_count == 1 else "problems"
        lines = [
            f"cannot load {self.file_name}: {self.problem_count} {noun} found, nothing was "
            f"written. {ROW_NUMBERING}"
        ]
        lines += [f"  {problem.message}" for problem in self.problems[:_SHOWN_IN_TEXT]]
        unshown = self.problem_count - min(len(self.problems), _SHOWN_IN_TEXT)
        if unshown > 0:
            lines.append(f"  … and {unshown} more")
        return "\n".join(lines)
