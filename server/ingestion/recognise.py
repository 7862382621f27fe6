"""Recognising which built-in mapping fits a file, from the column names of its header."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.ingestion.builtin import BUILTIN_MAPPINGS, get_mapping
from server.ingestion.encoding import check_decodes, with_encoding
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ColumnMapping, ReaderOptions
from server.ingestion.reader import read_header

_LISTED_MISSING = 4

DECLARE_HINT = (
    "Name a built-in mapping with --format, or declare one in a JSON file for --mapping, "
    'such as {"name": "my-shop", "customer_id": "Client", "order_date": "Date", '
    '"date_format": "%d/%m/%Y", "amount": "Total", "order_id": "Invoice"}.'
)


@dataclass(frozen=True)
class Resemblance:
    """How many of a mapping's columns a header has, and which it lacks."""

    mapping: ColumnMapping
    found: int
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        total = self.found + len(self.missing)
        lacking = ", ".join(repr(column) for column in self.missing[:_LISTED_MISSING])
        more = len(self.missing) - _LISTED_MISSING
        if more > 0:
            lacking += f" and {more} more"
        return f"{self.mapping.name} ({self.found} of {total} columns; lacks {lacking})"


def resolve_mapping(
    path: Path, mapping: ColumnMapping | str | None, encoding: str | None = None
) -> ColumnMapping:
    """Return `mapping`, the built-in it names, or the built-in the file's header matches.

    A given `encoding` replaces the mapping's own for reading text files.
    """
    if isinstance(mapping, ColumnMapping):
        return with_encoding(mapping, encoding)
    if mapping is not None:
        return with_encoding(get_mapping(mapping), encoding)
    return recognise(path, encoding)


def recognise(path: Path, encoding: str | None = None) -> ColumnMapping:
    """Return the built-in mapping whose columns the header has, the most of them on a tie.

    Raises IngestionError when no built-in finds all its columns: saying so when
    the file is not text in `encoding` (UTF-8 by default), else naming the
    mappings the header resembles, by shared columns, and how to declare a mapping.
    """
    candidates = [with_encoding(mapping, encoding) for mapping in BUILTIN_MAPPINGS.values()]
    resemblances = sorted(
        (_resemblance(path, mapping) for mapping in candidates),
        key=lambda item: (not item.complete, -item.found / (item.found + len(item.missing))),
    )
    best = resemblances[0]
    if best.complete:
        return best.mapping

    check_decodes(path, encoding or ReaderOptions().encoding)

    similar = [item.describe() for item in resemblances if item.found]
    resembles = "; ".join(similar) if similar else "none of them"
    message = (
        f"The header of {path.name} matches no built-in mapping. It resembles {resembles}. "
        + DECLARE_HINT
    )
    raise IngestionError(path.name, [RowMessage(None, None, None, message)], 1)


def _resemblance(path: Path, mapping: ColumnMapping) -> Resemblance:
    header = set(read_header(path, mapping.reader)) if mapping.reader.header else set()
    columns = mapping.source_columns()
    missing = tuple(column for column in columns if column not in header)
    return Resemblance(mapping, len(columns) - len(missing), missing)
