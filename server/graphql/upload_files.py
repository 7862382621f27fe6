"""Uploaded order files: checking the upload, storing it, and wording its problems.

The loader names the file it reads and suggests the `lookahead ingest` options in
its messages. API clients know neither the stored name nor those options, so the
messages name the client's own file and the arguments of `loadOrdersFile`.
"""

from __future__ import annotations

import lzma
import re
import zipfile
import zlib
from pathlib import Path
from typing import Protocol, cast

import pyarrow as pa
from graphql import GraphQLError

from server.ingestion.recognise import DECLARE_HINT

COPY_BLOCK = 1024 * 1024
# Suffixes that pick the loader's reader and decompression; the others are dropped.
KEPT_SUFFIXES = {".csv", ".tsv", ".txt", ".parquet", ".gz", ".bz2", ".xz", ".zip"}
# Errors of the decompressors and of pyarrow when the bytes do not match the suffix.
UNREADABLE_FILE_ERRORS = (
    OSError,
    EOFError,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zlib.error,
    pa.ArrowException,
)

_FORMAT_NAMES = {
    ".gz": "gzip",
    ".bz2": "bzip2",
    ".xz": "xz",
    ".zip": "ZIP",
    ".parquet": "Parquet",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_DISPLAY_NAME_CHARS = 100
_API_DECLARE_HINT = DECLARE_HINT.replace(
    "Name a built-in mapping with --format, or declare one in a JSON file for --mapping, ",
    "Name a built-in mapping in the format argument, or load the file on the server with "
    "'lookahead ingest orders' and declare a mapping in a JSON file for its --mapping "
    "option, ",
)
_API_WORDING = (
    (DECLARE_HINT, _API_DECLARE_HINT),
    (
        "(for example with --mapping)",
        "(in a JSON mapping for 'lookahead ingest orders --mapping' on the server, "
        "because the format argument names built-in mappings only)",
    ),
    ("with --format", "in the format argument"),
    ("--format", "the format argument"),
)


class UploadedFile(Protocol):
    """The part of Starlette's UploadFile that a load reads."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


def checked_upload(value: object) -> UploadedFile:
    """Return `value` when it is an uploaded file; raise a GraphQL error naming it otherwise.

    A multipart request puts Starlette's UploadFile in the variable. A plain JSON
    request, or a multipart one that maps no file part there, leaves any JSON value.
    """
    if callable(getattr(value, "read", None)):
        return cast(UploadedFile, value)
    display_name = repr(value)[:60]
    raise GraphQLError(
        f"file must be an uploaded file, got {type(value).__name__} {display_name}; send a GraphQL "
        "multipart request whose map puts a file part at variables.file",
        extensions={"code": "BAD_USER_INPUT"},
    )


def stored_name(filename: str | None) -> str:
    """Keep only the known suffixes of the client's file name, which pick the reader."""
    suffixes = [suffix.lower() for suffix in Path(filename or "").suffixes]
    kept = [suffix for suffix in suffixes if suffix in KEPT_SUFFIXES]
    # A stem that no loader message contains, so `api_message` replaces only the name.
    return "uploaded-file" + "".join(kept[-2:])


def client_file_name(filename: str | None) -> str:
    """Return the client's file name without folders or control characters, for messages."""
    name = _CONTROL.sub("", Path((filename or "").replace("\\", "/")).name)
    return name[:_MAX_DISPLAY_NAME_CHARS] or "the uploaded file"


async def save_upload(upload: UploadedFile, path: Path, limit: int) -> bool:
    """Copy the upload to `path`; return False, keeping nothing, once it passes the limit."""
    written = 0
    with path.open("wb") as target:
        while block := await upload.read(COPY_BLOCK):
            written += len(block)
            if written > limit:
                return False
            target.write(block)
    return True


def empty_archive_message(path: Path, display_name: str) -> str | None:
    """Return why a ZIP upload contains no file to read, or None when it contains one."""
    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        if archive.namelist():
            return None
    return (
        f"{display_name} is a ZIP archive without files; put the order file in it and "
        "upload it again"
    )


def unreadable_message(path: Path, display_name: str, error: Exception) -> str:
    """Describe a file whose bytes do not match the format its suffix names."""
    expected = _FORMAT_NAMES.get(path.suffix.lower(), "text")
    detail = str(error).strip() or type(error).__name__
    return (
        f"{display_name} is not a valid {expected} file ({detail}); upload a valid {expected} "
        "file, or give the file a suffix that matches its contents, such as .csv for "
        "uncompressed text"
    )


def api_message(message: str, stored: str, display_name: str) -> str:
    """Reword a loader message for API clients: their file name, GraphQL arguments."""
    for cli_wording, api_wording in _API_WORDING:
        message = message.replace(cli_wording, api_wording)
    return message.replace(stored, display_name)
