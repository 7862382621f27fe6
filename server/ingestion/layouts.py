"""Choosing the layout of a customer or product file: by name, or from its header."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from server.ingestion.encoding import check_decodes, with_encoding
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ReaderOptions
from server.ingestion.reader import read_header


class _Layout(Protocol):
    @property
    def reader(self) -> ReaderOptions: ...

    def source_columns(self) -> list[str]: ...


LayoutType = TypeVar("LayoutType", bound=_Layout)


def resolve_layout(
    path: Path,
    kind: str,
    name: str | None,
    layouts: Mapping[str, LayoutType],
    default: LayoutType,
    encoding: str | None,
    unmatched: str,
) -> LayoutType:
    """Return the layout called `name`, or else the first whose columns the header has.

    The header is read with `default`'s reader options and `encoding`. Raises
    ValueError for an unknown `name`, and IngestionError when no layout matches:
    naming the bytes that are not text when the file does not decode, `unmatched`
    otherwise.
    """
    if name is not None:
        if name not in layouts:
            valid = ", ".join(layouts)
            raise ValueError(f"unknown {kind} mapping {name!r}; valid names: {valid}")
        return layouts[name]

    header = read_header(path, with_encoding(default, encoding).reader)
    for candidate in layouts.values():
        if all(column in header for column in candidate.source_columns()):
            return candidate
    check_decodes(path, encoding or default.reader.encoding)
    raise IngestionError(path.name, [RowMessage(None, None, None, unmatched)], 1)
