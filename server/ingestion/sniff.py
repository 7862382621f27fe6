"""Detecting a text file's encoding, separator and header before it is parsed."""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, cast

from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import DETECT, WHITESPACE, ReaderOptions

SAMPLE_BYTES = 64 * 1024
_COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip"}
# Errors of the decompressors for damaged or truncated data. gzip.BadGzipFile and
# bz2's "Invalid data stream" are OSErrors without an errno.
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
SEPARATOR_CANDIDATES = (",", ";", "\t")
FALLBACK_ENCODING = "cp1252"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


@contextmanager
def open_binary(path: Path) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """Open `path` decompressed by its extension; yield (decompressed, raw file).

    The raw file's position measures progress through a compressed file. Raises
    IngestionError when the file is not valid data of the format its extension
    names, whether that shows on opening or on reading.
    """
    suffix = path.suffix.lower()
    if suffix not in _COMPRESSED:
        with path.open("rb") as raw:
            yield raw, raw
        return
    try:
        with _open_compressed(path, suffix) as streams:
            yield streams
    except _DECOMPRESSION_ERRORS as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise  # a failed read of the disk, not damaged data
        raise IngestionError(path.name, [_not_compressed_problem(path, suffix, error)], 1) from None


def _not_compressed_problem(path: Path, suffix: str, error: BaseException) -> RowMessage:
    kind = _COMPRESSED[suffix]
    return RowMessage(
        None,
        None,
        None,
        f"{path.name} is not a valid {kind} file ({error or type(error).__name__}). "
        f"Compress the file with {kind}, or name it without the {suffix} extension.",
    )


@contextmanager
def _open_compressed(path: Path, suffix: str) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    with ExitStack() as stack:
        raw: IO[bytes] = stack.enter_context(path.open("rb"))
        stream: IO[bytes] = raw
        if suffix == ".gz":
            stream = cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))
        elif suffix == ".bz2":
            stream = cast(IO[bytes], stack.enter_context(bz2.BZ2File(raw, mode="rb")))
        elif suffix == ".xz":
            stream = cast(IO[bytes], stack.enter_context(lzma.LZMAFile(raw, mode="rb")))
        elif suffix == ".zip":
            archive = stack.enter_context(zipfile.ZipFile(raw))
            stream = stack.enter_context(archive.open(archive.namelist()[0]))
        yield stream, raw


def detect_encoding(sample: bytes) -> str:
    """Return the encoding a byte order mark names, else UTF-8 if `sample` decodes, else cp1252.

    The check of the sample is incremental, so a character cut at its end is no error.
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8-sig"


def detect_separator(header_line: str) -> str:
    """Return the most frequent of comma, semicolon and tab outside quotes, comma on a tie."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {candidate: unquoted.count(candidate) for candidate in SEPARATOR_CANDIDATES}
    best = max(SEPARATOR_CANDIDATES, key=lambda candidate: counts[candidate])
    return best if counts[best] > 0 else ","


def first_line(sample: bytes, encoding: str) -> str:
    text = sample.decode(encoding, errors="replace")
    return text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""


def resolve_options(path: Path, options: ReaderOptions) -> ReaderOptions:
    """Return `options` with a detected encoding and separator in place of "auto"."""
    if options.encoding != DETECT and options.separator != DETECT:
        return options
    with open_binary(path) as (stream, _raw):
        sample = stream.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample) if options.encoding == DETECT else options.encoding
    separator = options.separator
    if separator == DETECT:
        separator = detect_separator(first_line(sample, encoding))
    return ReaderOptions(
        separator=separator,
        header=options.header,
        column_names=options.column_names,
        encoding=encoding,
        decimal=options.decimal,
        thousands=options.thousands,
    )


def split_header(line: str, separator: str) -> list[str]:
    """Split a header line into stripped, unquoted names."""
    parts = re.split(r"\s+", line.strip()) if separator == WHITESPACE else line.split(separator)
    return [part.strip().strip('"').strip() for part in parts]
