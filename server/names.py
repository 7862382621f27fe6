"""Names people give to segments, predictions and tokens.

Names are compared ignoring case, so "Likely to churn" and "likely  TO churn" are
the same name. They are stored in NFC with runs of white space folded to one space,
and may not contain control or formatting characters, which render invisibly or
reorder the text around them (a right-to-left override, for example).
"""

from __future__ import annotations

import unicodedata

# Unicode general categories: control, format, surrogate, private use, unassigned.
_REJECTED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def normalize_name(raw: str | None) -> str:
    """Return `raw` in NFC with leading, trailing and repeated white space removed."""
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


def name_key(raw: str | None) -> str:
    """Return the key two names share exactly when they are the same name ignoring case.

    The key is `normalize_name(raw)` case-folded (full Unicode folding, so "Straße" and
    "STRASSE" share one) and put back in NFC, because folding can decompose a character.
    The database stores it beside each name and keeps it unique.
    """
    return unicodedata.normalize("NFC", normalize_name(raw).casefold())


def name_character_problem(name: str) -> str | None:
    """Return why `name` contains a character a name may not have, or None when it has none."""
    for position, character in enumerate(name, start=1):
        if unicodedata.category(character) in _REJECTED_CATEGORIES:
            code = f"U+{ord(character):04X}"
            return (
                f"the name contains the invisible or control character {code} at position "
                f"{position}; remove it"
            )
    return None
