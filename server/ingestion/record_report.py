"""The report of a finished load of customer or product records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RecordLoadReport:
    """The outcome of one load of a customer profile or product catalog file.

    `kind` is "customers" or "products". `rows_read` counts the file's data rows,
    blank lines included, and `rows_loaded` the rows that became records. `added`,
    `updated` and `unchanged` count records by what the load did to them, and
    `removed` the records of the source that the file no longer lists and the load
    deleted (a catalog is replaced, customers are only upserted). `attributes`
    lists the attributes the file filled, and `ignored_columns` the file's columns
    that were not loaded. With `dry_run`, the counts are what the load would have
    written, and nothing was.
    """

    kind: str
    source: str
    file_name: str
    mapping: str
    rows_read: int
    rows_loaded: int
    added: int
    updated: int
    unchanged: int
    removed: int
    attributes: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    dry_run: bool
    duration_seconds: float
    rows_rejected: int = 0

    def summary(self) -> str:
        """Describe the load in one line, for a log."""
        return (
            f"loaded {self.rows_loaded} of {self.rows_read} rows of {self.file_name} as "
            f"{self.kind} of source {self.source!r} in {self.duration_seconds:.2f} s: added "
            f"{self.added}, updated {self.updated}, unchanged {self.unchanged}, removed "
            f"{self.removed}"
        )

    def details(self) -> list[str]:
        """Describe the load in a few lines for a person: what was read and written."""
        verb = "would write" if self.dry_run else "wrote"
        lines = [
            f"file {self.file_name}, mapping {self.mapping}",
            f"rows read {self.rows_read}, loaded {self.rows_loaded}, rejected {self.rows_rejected}",
            f"{verb} {self.kind} of source {self.source!r}: added {self.added}, updated "
            f"{self.updated}, unchanged {self.unchanged}, removed {self.removed}",
            "attributes: " + (", ".join(self.attributes) or "none"),
        ]
        if self.ignored_columns:
            lines.append("columns not loaded: " + ", ".join(self.ignored_columns))
        return lines

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["ok"] = True
        values["attributes"] = list(self.attributes)
        values["ignored_columns"] = list(self.ignored_columns)
        return values
