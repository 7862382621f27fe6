"""Roles, lowest first; each role may do everything the roles below it may."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    VIEWER = 1
    CONTRIBUTOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, raw: str) -> Role:
        try:
            return cls[raw.strip().upper()]
        except KeyError:
            valid = ", ".join(role.name.lower() for role in cls)
            raise ValueError(f"unknown role {raw!r}; valid roles: {valid}") from None
