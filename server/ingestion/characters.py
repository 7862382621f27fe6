"""Rejecting cells with control or invisible characters before they reach the database.

PostgreSQL cannot store U+0000 in text at all, and SQLite would keep it in an id that
no one can type. Ids follow the rule for names in `server.names`. They may contain no
control character (Unicode category Cc, tab included) and no format character (Cf,
such as the right-to-left override U+202E or the zero-width space U+200B), because
these render invisibly or reorder the text around them. Other text cells may contain
tabs but no other control character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd

from server.ingestion.row_messages import RowMessages

# Category Cc is exactly U+0000 to U+001F and U+007F to U+009F.
_TEXT_CONTROL = "\x00-\x08\x0a-\x1f\x7f-\x9f"
_ID_CONTROL = "\x00-\x1f\x7f-\x9f"
# Unicode 14.0 (the data of Python 3.11) has format characters only in planes 0 and 1
# and in plane 14's first block. Scanning these, an eighth of all code points, keeps
# the first check of an id fast.
# NOTE: a later Unicode version could add format characters in other planes.
_FORMAT_PLANES = (range(0xA0, 0x20000), range(0xE0000, 0xE1000))


@cache
def _id_pattern() -> re.Pattern[str]:
    """Match one character of category Cc or Cf, as the running Python's Unicode data has them."""
    formats = "".join(
        re.escape(chr(code))
        for plane in _FORMAT_PLANES
        for code in plane
        if unicodedata.category(chr(code)) == "Cf"
    )
    return re.compile(f"[{_ID_CONTROL}{formats}]")


_TEXT_PATTERN = re.compile(f"[{_TEXT_CONTROL}]")


def reject_invisible_in_ids(
    cells: pd.Series, column: str, label: str, problems: RowMessages
) -> None:
    """Add a problem for each cell of `cells` with a control or format character.

    `label` names the value in messages, such as "customer id".
    """
    _reject(cells, column, label, _id_pattern(), problems)


def reject_control_in_text(cells: pd.Series, column: str, problems: RowMessages) -> None:
    """Add a problem for each cell of `cells` with a control character other than tab."""
    _reject(cells, column, "value", _TEXT_PATTERN, problems)


def _reject(
    cells: pd.Series, column: str, label: str, pattern: re.Pattern[str], problems: RowMessages
) -> None:
    flagged = cells.str.contains(pattern, regex=True).fillna(False).astype(bool)
    if not flagged.any():
        return

    # The report shows flagged values escaped, so a terminal or log prints them visibly.
    escaped = cells[flagged].map(_escape)

    def describe(row: int, _value: str) -> str:
        text = str(cells[row])
        match = pattern.search(text)
        assert match is not None
        code = f"U+{ord(match.group()):04X}"
        return (
            f"Row {row}, column {column!r}: the {label} contains the control or invisible "
            f"character {code} at position {match.start() + 1}. Remove it from the file."
        )

    problems.add(flagged, escaped, column, describe)


def _escape(value: str) -> str:
    return value.encode("unicode_escape").decode("ascii")
