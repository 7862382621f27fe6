"""Parsing the numeric ids that clients send as strings."""

from __future__ import annotations

import re

# ASCII digits only: str.isdigit() also accepts superscripts, which int() rejects,
# and digits of other scripts, which int() reads as a different id.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(raw: str | None) -> int | None:
    """Return `raw` as a positive database id, or None when it cannot be one."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if value > 0 else None
