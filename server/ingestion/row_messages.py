"""Collecting row messages from vectorised checks, keeping the first few of each kind."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from server.ingestion.errors import MAX_LISTED, IngestionError, RowMessage

Describe = Callable[[int, str], str]
"""Build the message for one flagged cell from its row number and value."""


class RowMessages:
    """Row messages in row order, at most `MAX_LISTED` of them, with a count of all."""

    def __init__(self) -> None:
        self._listed: list[RowMessage] = []
        self.count = 0
        # The data rows with at least one message; None stands for the whole file.
        self.rows: set[int | None] = set()
        self._merged_rows = 0

    def add(
        self,
        flagged: pd.Series,
        values: pd.Series | None,
        column: str | None,
        describe: Describe,
    ) -> None:
        """Add a message for each row where the boolean `flagged` is true.

        `values` contains the cells the messages are about. None means each message is
        about a whole row, and `describe` then receives an empty value.
        """
        rows = flagged.index[flagged.to_numpy(dtype=bool)]
        self.count += len(rows)
        self.rows.update(int(row) for row in rows)
        for row in rows[:MAX_LISTED]:
            value = None if values is None else str(values[row])
            message = describe(int(row), value or "")
            self._listed.append(RowMessage(int(row), column, value, message))

    def add_one(self, row: int | None, column: str | None, value: str | None, message: str) -> None:
        self.count += 1
        self.rows.add(row)
        if len(self._listed) < MAX_LISTED:
            self._listed.append(RowMessage(row, column, value, message))

    def extend(self, other: RowMessages) -> None:
        """Add the messages and counts of `other`, keeping the first `MAX_LISTED` by row."""
        self.count += other.count
        self._merged_rows += other.rejected_rows()
        self._listed = other.listed() if not self._listed else self._listed + other.listed()
        self._listed = self.listed()

    def rejected_rows(self) -> int:
        """Count the data rows with a message.

        Messages merged from other collections are counted by their own row sets, so
        a row that has messages in two collections counts twice.
        """
        return self._merged_rows + len(self.rows - {None})

    def listed(self) -> list[RowMessage]:
        """Return the first `MAX_LISTED` messages by row, and within a row in the order added."""
        in_row_order = sorted(self._listed, key=lambda message: message.row or 0)
        return in_row_order[:MAX_LISTED]

    def raise_if_any(self, file_name: str) -> None:
        if self.count:
            raise IngestionError(file_name, self.listed(), self.count)
