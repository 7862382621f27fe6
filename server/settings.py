"""Configuration read from environment variables, with defaults for a local demo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("var")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not an integer; unset it or give a whole number"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Runtime settings; `from_env` is the only place that reads the environment."""

    home: Path = DEFAULT_HOME
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    max_page_size: int = 100
    sqlite_busy_timeout_ms: int = 30_000
    graphiql: bool = True

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'lookahead.db').as_posix()}"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("LOOKAHEAD_HOME", str(DEFAULT_HOME)))
        return cls(
            home=home,
            database_url=os.environ.get("LOOKAHEAD_DATABASE_URL", ""),
            host=os.environ.get("LOOKAHEAD_HOST", "127.0.0.1"),
            port=_int_env("LOOKAHEAD_PORT", 8000),
            max_page_size=_int_env("LOOKAHEAD_MAX_PAGE_SIZE", 100),
            sqlite_busy_timeout_ms=_int_env("LOOKAHEAD_SQLITE_BUSY_TIMEOUT_MS", 30_000),
            graphiql=os.environ.get("LOOKAHEAD_GRAPHIQL", "1") not in {"0", "false", "no"},
        )
