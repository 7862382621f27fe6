"""Parsing the numeric ids that clients send as strings."""

from __future__ import annotations

import re

# The largest id the id columns can store: they are INTEGER, 32 bits on PostgreSQL,
# which rejects a larger parameter instead of finding no row.
MAX_ID = 2**31 - 1

# ASCII digits only: str.isdigit() also accepts superscripts, which int() rejects,
# and digits of other scripts, which int() reads as a different id.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(raw: str | None) -> int | None:
    """Return `raw` as a database id from 1 to `MAX_ID`, or None when it cannot be one."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None
