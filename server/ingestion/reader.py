"""Reading a CSV, TSV or Parquet file as chunks of text cells, indexed by data row number."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from server.ingestion.encoding import first_undecodable, not_text_problem
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ReaderOptions
from server.ingestion.sniff import is_parquet, open_binary, resolve_options

ROW_INDEX = "row"
CHUNK_ROWS = 200_000
"""Rows per chunk: about 100 MB of text cells for a 20-column export."""

Progress = Callable[[int, int], None]
"""Called after each chunk with the units done and the total (bytes, or rows for Parquet)."""

# The C parser's message for a row with more fields than the header, for example
# "Error tokenizing data. C error: Expected 4 fields in line 7, saw 5" (pandas 2 and 3).
_TOO_MANY_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class FileLayout(Protocol):
    """The parts of a mapping the reader uses: its name, reader options and required columns."""

    @property
    def name(self) -> str: ...

    @property
    def reader(self) -> ReaderOptions: ...

    def source_columns(self) -> list[str]: ...


class SourceReader:
    """The chunks of one file as stripped text, with blank rows dropped.

    `columns` and `options` (with the detected encoding and separator) are known as
    soon as the reader exists. Iterating yields each chunk's non-blank rows, and
    `rows_read` then counts every data row seen, blank lines included. Cells of
    Parquet timestamp columns become ISO 8601 text, listed in `iso_date_columns`.
    """

    def __init__(
        self,
        path: Path,
        mapping: FileLayout,
        chunk_rows: int = CHUNK_ROWS,
        progress: Progress | None = None,
    ) -> None:
        self.path = path
        self.mapping = mapping
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.rows_read = 0
        self.iso_date_columns: set[str] = set()
        self.file_format = "parquet" if is_parquet(path) else "csv"
        if self.file_format == "parquet":
            self.options = ReaderOptions(header=True, encoding="binary")
            names = [str(name) for name in pq.ParquetFile(path).schema_arrow.names]
            self.columns = _unique_names(names)
        else:
            self.options = resolve_options(path, mapping.reader)
            self.columns = []

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self.file_format == "parquet":
            yield from self._parquet_chunks()
        else:
            yield from self._text_chunks()

    def _text_chunks(self) -> Iterator[pd.DataFrame]:
        total = self.path.stat().st_size
        with open_binary(self.path) as (stream, raw):
            chunks = self._parse(stream)
            first = next(chunks, None)
            if first is None:
                self._fail_empty()
            assert first is not None
            first = self._name_columns(first)
            _check_columns(self.path, self.columns, self.mapping, self.options.separator)

            offset = 0
            seen_rows = False
            for chunk in _chain(first, chunks):
                chunk.index = pd.RangeIndex(offset + 1, offset + len(chunk) + 1, name=ROW_INDEX)
                offset += len(chunk)
                self.rows_read = offset
                cells = _drop_blank(chunk)
                seen_rows = seen_rows or not cells.empty
                if self.progress is not None:
                    self.progress(min(raw.tell(), total), total)
                if not cells.empty:
                    yield cells
            if not seen_rows:
                self._fail_no_rows()

    def _parse(self, stream: object) -> Iterator[pd.DataFrame]:
        # The header is read as an ordinary row: given a header, pandas would silently
        # turn the first column into the index when every row has one field too many.
        # Read without one, any row longer than the first line is a ParserError.
        options = self.options
        try:
            reader = pd.read_csv(
                stream,  # type: ignore[call-overload]
                sep=options.separator,
                header=None,
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                encoding=options.encoding,
                chunksize=self.chunk_rows,
            )
            for chunk in reader:
                yield chunk.apply(lambda column: column.str.strip())
        except pd.errors.EmptyDataError:
            self._fail_empty()
        except pd.errors.ParserError as error:
            problem = _field_count_problem(error, options)
            raise IngestionError(self.path.name, [problem], 1) from None
        except UnicodeError as error:
            raise IngestionError(self.path.name, [self._encoding_problem(error)], 1) from None

    def _name_columns(self, first: pd.DataFrame) -> pd.DataFrame:
        if self.options.header:
            self.columns = _unique_names(first.iloc[0].tolist())
            first = first.iloc[1:]
        else:
            _check_width(self.path, first, self.options)
            self.columns = list(self.options.column_names[: first.shape[1]])
        first.columns = pd.Index(self.columns)
        return first

    def _encoding_problem(self, error: UnicodeError) -> RowMessage:
        encoding = self.options.encoding
        found = first_undecodable(self.path, encoding)
        if found is None:
            # The parser failed where a scan of the file does not: report the parser's offset.
            start = error.start if isinstance(error, UnicodeDecodeError) else 0
            found = (start, str(error))
        return not_text_problem(self.path, encoding, *found)

    def _parquet_chunks(self) -> Iterator[pd.DataFrame]:
        _check_columns(self.path, self.columns, self.mapping, "parquet")
        parquet = pq.ParquetFile(self.path)
        total = parquet.metadata.num_rows
        offset = 0
        # Every column is read, as the CSV path reads every field, so the loaders see
        # the attribute columns that the mapping does not name.
        for batch in parquet.iter_batches(batch_size=self.chunk_rows):
            cells = pd.DataFrame(
                {
                    name: self._parquet_text(name, batch.column(index))
                    for index, name in enumerate(self.columns)
                }
            )
            cells.index = pd.RangeIndex(offset + 1, offset + len(cells) + 1, name=ROW_INDEX)
            offset += len(cells)
            self.rows_read = offset
            if self.progress is not None:
                self.progress(offset, total)
            cells = _drop_blank(cells)
            if not cells.empty:
                yield cells
        if offset == 0:
            self._fail_no_rows()

    def _parquet_text(self, name: str, values: pa.Array) -> list[str]:
        if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
            self.iso_date_columns.add(name)
            return ["" if value is None else value.isoformat() for value in values.to_pylist()]
        return ["" if value is None else str(value).strip() for value in values.to_pylist()]

    def _fail_empty(self) -> None:
        problem = RowMessage(
            None, None, None, f"{self.path.name} is empty. Load a file with a header and rows."
        )
        raise IngestionError(self.path.name, [problem], 1)

    def _fail_no_rows(self) -> None:
        problem = RowMessage(
            None, None, None, f"{self.path.name} has no data rows. Add rows below the header."
        )
        raise IngestionError(self.path.name, [problem], 1)


def read_header(path: Path, options: ReaderOptions) -> list[str]:
    """Return the column names of a file without reading its rows."""
    if is_parquet(path):
        return [str(name) for name in pq.ParquetFile(path).schema_arrow.names]
    resolved = resolve_options(path, options)
    with open_binary(path) as (stream, _raw):
        try:
            first = pd.read_csv(
                stream,
                sep=resolved.separator,
                header=None,
                dtype=str,
                na_filter=False,
                nrows=1,
                encoding=resolved.encoding,
            )
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeError):
            return []
    return [str(name).strip() for name in first.iloc[0].tolist()] if len(first) else []


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    for chunk in rest:
        chunk.columns = first.columns
        yield chunk


def _drop_blank(cells: pd.DataFrame) -> pd.DataFrame:
    # Blank lines are dropped without renumbering the rows after them.
    return cells.loc[~(cells == "").all(axis=1)]


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


def _check_columns(path: Path, found: list[str], mapping: FileLayout, separator: str) -> None:
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
            f"the separator {separator!r}, or choose another mapping than {mapping.name!r}.",
        )
        for column in missing
    ]
    raise IngestionError(path.name, problems, len(problems))
