"""The report of a finished load: counts, revenue, date range, what was set aside and written."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from server.ingestion.errors import RowMessage


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one load of an order file.

    `rows_read` counts the file's data rows, blank lines included, and `rows_loaded`
    the rows that became order lines (excluded orders are not loaded). `order_lines`
    counts the lines written, refund lines made from a refund column included.
    `orders` counts distinct order ids, and each line without an order id as an order
    of its own. `net_revenue` is the sum of all line amounts: discounts, returns and
    refunds included, shipping and taxes left out. `warnings` lists the first 50
    returned lines, and `warning_count` counts them all. `profile_conflicts` counts
    customers whose profile values differ between lines (the latest line's values
    were kept). `excluded_rows` counts the rows left out per exclusion reason.

    `mode` is "replace" (the source's previous rows were deleted, `replaced_rows`
    of them) or "upsert" (lines matched by key: `lines_added`, `lines_updated`,
    `lines_unchanged`, and `lines_removed` from orders of the file that lost lines).
    With `dry_run`, the counts are what the load would have written, and nothing was.
    """

    source: str
    file_name: str
    mapping: str
    rows_read: int
    rows_loaded: int
    customers: int
    orders: int
    returns: int
    net_revenue: float
    first_order_date: date
    last_order_date: date
    replaced_rows: int
    profile_conflicts: int
    duration_seconds: float
    warnings: tuple[RowMessage, ...]
    warning_count: int
    rows_rejected: int = 0
    order_lines: int = 0
    refunds: int = 0
    excluded_rows: dict[str, int] = field(default_factory=dict)
    mode: str = "replace"
    dry_run: bool = False
    lines_added: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    lines_removed: int = 0
    customers_added: int = 0
    customers_updated: int = 0
    file_format: str = "csv"
    encoding: str = ""
    separator: str = ""
    date_format: str = ""

    def summary(self) -> str:
        """Describe the load in one line, for a log."""
        return (
            f"loaded {self.rows_loaded} of {self.rows_read} rows of {self.file_name} as source "
            f"{self.source!r} in {self.duration_seconds:.2f} s: customers {self.customers}, "
            f"orders {self.orders}, returns {self.returns}, net revenue {self.net_revenue:.2f}, "
            f"order dates {self.first_order_date} to {self.last_order_date}, "
            f"lines replaced {self.replaced_rows}"
        )

    def details(self) -> list[str]:
        """Describe the load in a few lines for a person: what was read, set aside and written."""
        verb = "would write" if self.dry_run else "wrote"
        lines = [
            f"file {self.file_name} ({self.file_format}, encoding {self.encoding or 'n/a'}, "
            f"separator {self.separator!r}, dates {self.date_format}), mapping {self.mapping}",
            f"rows read {self.rows_read}, loaded {self.rows_loaded}, rejected "
            f"{self.rows_rejected}, excluded {sum(self.excluded_rows.values())}",
            f"customers {self.customers}, orders {self.orders}, order lines {self.order_lines}, "
            f"returns {self.returns}, refunds {self.refunds}",
            f"net revenue {self.net_revenue:.2f}, order dates {self.first_order_date} to "
            f"{self.last_order_date}",
        ]
        for reason, count in sorted(self.excluded_rows.items()):
            lines.append(f"excluded as {reason}: {count} rows")
        if self.mode == "upsert":
            lines.append(
                f"{verb} (upsert into source {self.source!r}): lines added {self.lines_added}, "
                f"updated {self.lines_updated}, unchanged {self.lines_unchanged}, removed "
                f"{self.lines_removed}; customers added {self.customers_added}, updated "
                f"{self.customers_updated}"
            )
        else:
            lines.append(
                f"{verb} (replace source {self.source!r}): lines {self.lines_added}, replacing "
                f"{self.replaced_rows}; customers {self.customers_added}"
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values, with dates in ISO format."""
        values = asdict(self)
        values["ok"] = True
        values["first_order_date"] = self.first_order_date.isoformat()
        values["last_order_date"] = self.last_order_date.isoformat()
        values["warnings"] = [warning.as_dict() for warning in self.warnings]
        return values
