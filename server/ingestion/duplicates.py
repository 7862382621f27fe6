"""Finding repeated rows under a mapping's duplicate policy."""

from __future__ import annotations

import pandas as pd

from server.ingestion.mapping import ColumnMapping
from server.ingestion.row_messages import RowMessages


def find_duplicates(cells: pd.DataFrame, mapping: ColumnMapping, problems: RowMessages) -> None:
    """Add a problem for each row that repeats an earlier one, naming both rows.

    With the "keep" policy nothing is a duplicate. With "reject", rows repeat when they
    share a non-empty line id, or, when the mapping has no line id, every column.
    """
    if mapping.duplicates == "keep":
        return

    if mapping.line_id is not None:
        _find_repeated_line_ids(cells[mapping.line_id], mapping.line_id, problems)
    else:
        _find_repeated_rows(cells, problems)


def _find_repeated_line_ids(line_ids: pd.Series, column: str, problems: RowMessages) -> None:
    # Empty line ids are reported as missing values, not as duplicates of each other.
    present = line_ids[line_ids != ""]
    repeated = present.duplicated(keep="first")
    if not repeated.any():
        return

    first_rows = _first_row_of_group(present.index, [present])
    problems.add(
        repeated,
        present,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: line id {value!r} repeats row {first_rows[row]}. "
            "Remove one of the two rows, or give each line its own id."
        ),
    )


def _find_repeated_rows(cells: pd.DataFrame, problems: RowMessages) -> None:
    repeated = cells.duplicated(keep="first")
    if not repeated.any():
        return

    first_rows = _first_row_of_group(cells.index, [cells[column] for column in cells.columns])
    problems.add(
        repeated,
        None,
        None,
        lambda row, _value: (
            f"Row {row} repeats row {first_rows[row]} in every column. Remove one of the "
            "two rows, or use the duplicate policy 'keep' if equal rows are separate purchases."
        ),
    )


def _first_row_of_group(rows: pd.Index, keys: list[pd.Series]) -> pd.Series:
    """Return, for each row, the smallest row number with the same key values."""
    row_numbers = pd.Series(rows, index=rows)
    return row_numbers.groupby(keys, sort=False).transform("min")
