"""Writing tables chunk by chunk to CSV or Parquet files."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Literal, get_args

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FileFormat = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = get_args(FileFormat)


class ChunkWriter:
    """Append chunks of one schema to `path`; the file is complete once closed.

    A CSV file has a header line and ISO dates; a Parquet file gets one row group per
    chunk. Both are byte-for-byte the same for the same chunks.
    """

    def __init__(self, path: Path, file_format: FileFormat) -> None:
        if file_format not in FORMATS:
            raise ValueError(f"invalid format {file_format!r}; valid: {', '.join(FORMATS)}")
        self.path = path
        self.file_format = file_format
        self.rows = 0
        self._writer: pa_csv.CSVWriter | pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = self._open(table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _open(self, schema: pa.Schema) -> pa_csv.CSVWriter | pq.ParquetWriter:
        if self.file_format == "csv":
            return pa_csv.CSVWriter(
                self.path, schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
            )
        return pq.ParquetWriter(self.path, schema, compression="zstd")

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
