from __future__ import annotations

import pytest

from server.ids import parse_id
from server.names import name_character_problem, normalize_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("١", None),
        ("1e3", None),
        ("9" * 19, None),
        ("", None),
        (None, None),
        (" 1", None),
    ],
)
def test_parse_id(raw: str | None, expected: int | None) -> None:
    assert parse_id(raw) == expected


def test_normalize_name_folds_white_space() -> None:
    assert normalize_name("  Likely\u00a0to \t churn ") == "Likely to churn"


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\u202e", "\u200b"])
def test_invisible_characters_rejected(character: str) -> None:
    problem = name_character_problem(f"bad{character}name")

    assert problem is not None
    assert f"U+{ord(character):04X} at position 4" in problem


def test_emoji_and_accents_allowed() -> None:
    assert name_character_problem("Café clients 🎯") is None
