"""Text encodings of input files: checking a name, applying it, and finding undecodable bytes."""

from __future__ import annotations

import codecs
import dataclasses
from pathlib import Path
from typing import TypeVar

from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import DETECT
from server.ingestion.sniff import is_parquet, open_binary

_BLOCK_BYTES = 1024 * 1024

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

Layout = TypeVar("Layout")


def encoding_name(raw: str) -> str:
    """Return the codec name for `raw`, or "auto"; UTF-8 becomes utf-8-sig.

    utf-8-sig reads plain UTF-8 too, and drops the byte order mark that some
    spreadsheets write before the header. Raises ValueError for an unknown name.
    """
    if raw.strip().lower() == DETECT:
        return DETECT
    try:
        name = codecs.lookup(raw.strip()).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {raw!r}; use a Python codec name such as utf-8, latin-1, "
            "cp1252 or utf-16, or auto"
        ) from None
    return "utf-8-sig" if name == "utf-8" else name


def with_encoding(layout: Layout, encoding: str | None) -> Layout:
    """Return the mapping `layout` reading text files as `encoding`; None keeps its own."""
    if encoding is None:
        return layout
    reader = dataclasses.replace(layout.reader, encoding=encoding)  # type: ignore[attr-defined]
    return dataclasses.replace(layout, reader=reader)  # type: ignore[type-var]


def first_undecodable(path: Path, encoding: str) -> tuple[int, str] | None:
    """Return the offset of the first byte `encoding` cannot decode, and the reason.

    Offsets count bytes of the decompressed text. Returns None when the whole file
    decodes, and for Parquet files, which have no text encoding.
    """
    if is_parquet(path) or encoding == DETECT:
        return None
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open_binary(path) as (stream, _raw):
        while True:
            block = stream.read(_BLOCK_BYTES)
            # The decoder counts error offsets from the bytes it kept from the block before.
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                if offset == 0 and block.startswith(_UTF16_BOMS):
                    return 0, "a UTF-16 byte order mark"
                return offset - pending + error.start, error.reason
            if not block:
                return None
            offset += len(block)


def check_decodes(path: Path, encoding: str) -> None:
    """Raise IngestionError when the file at `path` is not `encoding` text."""
    found = first_undecodable(path, encoding)
    if found is not None:
        raise IngestionError(path.name, [not_text_problem(path, encoding, *found)], 1)


def not_text_problem(path: Path, encoding: str, offset: int, reason: str) -> RowMessage:
    """Describe a file that is not `encoding` text, and how to load it."""
    display_name = "UTF-8" if encoding == "utf-8-sig" else encoding
    return RowMessage(
        None,
        None,
        None,
        f"{path.name} is not valid {display_name} text ({reason} at byte {offset}). Give the "
        "file's encoding, such as cp1252, latin-1 or utf-16 (the --encoding option of "
        "'lookahead ingest', or the mapping's reader encoding), or save it as UTF-8.",
    )
