"""The prediction kinds this server can run, by their GraphQL enum name."""

from __future__ import annotations

from server.prediction.base import PredictionKind

KINDS: dict[str, PredictionKind] = {}


def get_kind(name: str) -> PredictionKind:
    """Return the kind called `name`; raise KeyError listing the kinds that exist."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown prediction kind {name!r}; valid: {', '.join(sorted(KINDS))}"
        ) from None
