"""Configuration read from environment variables, with defaults for a local demo."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("var")


def _int_env(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """Read a whole number from `name`; raise ValueError naming it when out of range."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not an integer; unset it or give a whole number"
        ) from None
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
        raise ValueError(
            f"{name}={raw!r} is out of range; unset it for the default {default}, or give {allowed}"
        )
    return value


def _seconds_env(name: str, default: float) -> float:
    """Read a positive, finite number of seconds from `name`."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; unset it or give seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{name}={raw!r} is out of range; unset it for the default {default:g}, "
            "or give a number of seconds greater than 0"
        )
    return value


def _flag_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


def _origins_env(name: str) -> tuple[str, ...]:
    """Parse a comma-separated list of origins such as `https://app.example.com`."""
    origins = tuple(item.strip().rstrip("/") for item in os.environ.get(name, "").split(","))
    origins = tuple(item for item in origins if item)
    if "*" in origins:
        raise ValueError(f"{name} may not contain '*'; list each allowed origin explicitly")
    return origins


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
    introspection: bool = True
    max_query_depth: int = 10
    max_aliases: int = 30
    max_query_tokens: int = 2000
    max_body_bytes: int = 1024 * 1024
    # File uploads (multipart requests to /graphql) stream to disk, so they may be larger.
    max_upload_bytes: int = 200 * 1024 * 1024
    # A token bucket per API token (or per client address without one); 0 disables it.
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    request_timeout_seconds: float = 30.0
    cors_origins: tuple[str, ...] = ()

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
            port=_int_env("LOOKAHEAD_PORT", 8000, 1, 65535),
            max_page_size=_int_env("LOOKAHEAD_MAX_PAGE_SIZE", 100, 1),
            sqlite_busy_timeout_ms=_int_env("LOOKAHEAD_SQLITE_BUSY_TIMEOUT_MS", 30_000, 0),
            graphiql=os.environ.get("LOOKAHEAD_GRAPHIQL", "1") not in {"0", "false", "no"},
            introspection=_flag_env("LOOKAHEAD_INTROSPECTION", True),
            max_query_depth=_int_env("LOOKAHEAD_MAX_QUERY_DEPTH", 10, 1),
            # 0 is valid: it rejects every document that uses an alias.
            max_aliases=_int_env("LOOKAHEAD_MAX_ALIASES", 30, 0),
            max_query_tokens=_int_env("LOOKAHEAD_MAX_QUERY_TOKENS", 2000, 1),
            max_body_bytes=_int_env("LOOKAHEAD_MAX_BODY_BYTES", 1024 * 1024, 1),
            max_upload_bytes=_int_env("LOOKAHEAD_MAX_UPLOAD_BYTES", 200 * 1024 * 1024, 1),
            rate_limit_per_minute=_int_env("LOOKAHEAD_RATE_LIMIT_PER_MINUTE", 600, 0),
            rate_limit_burst=_int_env("LOOKAHEAD_RATE_LIMIT_BURST", 60, 1),
            request_timeout_seconds=_seconds_env("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", 30.0),
            cors_origins=_origins_env("LOOKAHEAD_CORS_ORIGINS"),
        )
