"""Reading an order file into a table of text cells, indexed by data row number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ColumnMapping, ReaderOptions

ROW_INDEX = "row"

# The C parser's message for a row with more fields than the header, for example
# "Error tokenizing data. C error: Expected 4 fields in line 7, saw 5" (pandas 2 and 3).
_TOO_MANY_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class SourceRows:
    """The non-blank rows of a file as stripped text, and how many data rows it had."""

    cells: pd.DataFrame
    rows_read: int


def read_source(path: Path, mapping: ColumnMapping) -> SourceRows:
    """Read `path` with the mapping's reader options and check it has the mapped columns.

    Every cell stays text, so ids such as "00001" keep their zeros. The index is the
    1-based data row. Rows that are empty in every column (blank lines) are dropped
    without shifting the numbers of the rows after them.
    """
    cells = _read_text_cells(path, mapping.reader)
    _check_columns(path, cells, mapping)
    rows_read = len(cells)

    blank = (cells == "").all(axis=1)
    cells = cells.loc[~blank]
    if cells.empty:
        problem = RowMessage(
            None, None, None, f"{path.name} has no data rows. Add rows below the header."
        )
        raise IngestionError(path.name, [problem], 1)
    return SourceRows(cells=cells, rows_read=rows_read)


def _read_text_cells(path: Path, options: ReaderOptions) -> pd.DataFrame:
    # The header is read as an ordinary row: given a header, pandas would silently
    # turn the first column into the index when every row has one field too many.
    # Read without one, any row longer than the first line is a ParserError.
    try:
        cells = pd.read_csv(
            path,
            sep=options.separator,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            encoding=options.encoding,
        )
    except pd.errors.EmptyDataError:
        problem = RowMessage(
            None, None, None, f"{path.name} is empty. Load a file with a header and rows."
        )
        raise IngestionError(path.name, [problem], 1) from None
    except pd.errors.ParserError as error:
        raise IngestionError(path.name, [_field_count_problem(error, options)], 1) from None
    except UnicodeDecodeError as error:
        problem = RowMessage(
            None,
            None,
            None,
            f"{path.name} is not valid {options.encoding} text ({error.reason} at byte "
            f"{error.start}). Save it as UTF-8 or set the reader's encoding.",
        )
        raise IngestionError(path.name, [problem], 1) from None

    cells = cells.apply(lambda column: column.str.strip())
    if options.header:
        cells.columns = pd.Index(_unique_names(cells.iloc[0].tolist()))
        cells = cells.iloc[1:]
    else:
        _check_width(path, cells, options)
        cells.columns = pd.Index(options.column_names[: cells.shape[1]])
    cells.index = pd.RangeIndex(1, len(cells) + 1, name=ROW_INDEX)
    return cells


def _unique_names(names: list[str]) -> list[str]:
    """Suffix repeated header names with .1, .2 and so on, as pandas does."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(f"{name}.{count}" if count else name)
    return unique


def _check_width(path: Path, cells: pd.DataFrame, options: ReaderOptions) -> None:
    width, named = cells.shape[1], len(options.column_names)
    if width <= named:
        return
    message = (
        f"Row 1 (file line 1) has {width} fields, but the mapping names {named}. Check the "
        f"separator {options.separator!r}, or name every column of the file."
    )
    raise IngestionError(path.name, [RowMessage(1, None, None, message)], 1)


def _field_count_problem(error: pd.errors.ParserError, options: ReaderOptions) -> RowMessage:
    match = _TOO_MANY_FIELDS.search(str(error))
    if match is None:
        return RowMessage(None, None, None, f"cannot split the file into columns: {error}")

    expected, line, seen = (int(group) for group in match.groups())
    row = line - 1 if options.header else line
    expected_from = "the header has" if options.header else "the mapping names"
    message = (
        f"Row {row} (file line {line}) has {seen} fields, but {expected_from} {expected}. "
        f"Check the separator {options.separator!r}, and quote values that contain it."
    )
    return RowMessage(row, None, None, message)


def _check_columns(path: Path, cells: pd.DataFrame, mapping: ColumnMapping) -> None:
    found = [str(name) for name in cells.columns]
    missing = [column for column in mapping.source_columns() if column not in found]
    if not missing:
        return

    found_text = ", ".join(repr(name) for name in found)
    problems = [
        RowMessage(
            None,
            column,
            None,
            f"Column {column!r} is missing. Columns found: {found_text}. Check the header and "
            f"the separator {mapping.reader.separator!r}, or choose another mapping than "
            f"{mapping.name!r}.",
        )
        for column in missing
    ]
    raise IngestionError(path.name, problems, len(problems))
