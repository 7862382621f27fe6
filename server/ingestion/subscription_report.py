"""The report of a finished subscriptions load: counts, dates, revenue and what was set aside."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SubscriptionLoadReport:
    """The counts, dates and profile entity that one load of subscriptions wrote.

    `rows_read` counts the input's data rows, blank lines included, and
    `rows_loaded` the rows that became subscriptions. `excluded_rows` counts the
    rows left out per reason, such as Stripe subscriptions that were never paid.
    `cancel_requested` counts active subscriptions whose cancellation was requested,
    which end when their paid period does. `monthly_recurring_revenue` sums
    recurring_amount / recurrence_months over active recurring subscriptions, in
    the currency of the input. `profile_conflicts` counts customers whose attribute
    values differ between their subscriptions (the latest-starting subscription's
    values were kept). `ignored_columns` lists attribute columns that were not
    loaded because no profile entity name was given. With `dry_run`, the counts are
    what the load would have written, and nothing was.
    """

    source: str
    file_name: str
    subscriptions: int
    active_subscriptions: int
    customers: int
    replaced_rows: int
    first_start_date: date
    last_start_date: date
    profile_entity: str | None
    profile_attributes: tuple[str, ...]
    profile_conflicts: int
    ignored_columns: tuple[str, ...]
    duration_seconds: float
    format_name: str = "plain"
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    excluded_rows: dict[str, int] = field(default_factory=dict)
    ended_subscriptions: int = 0
    cancel_requested: int = 0
    monthly_recurring_revenue: float = 0.0
    dry_run: bool = False

    def summary(self) -> str:
        """Describe the load in one line, for a log."""
        profile = (
            f", profile entity {self.profile_entity} with {len(self.profile_attributes)} attributes"
            if self.profile_entity
            else ""
        )
        return (
            f"loaded {self.subscriptions} subscriptions ({self.active_subscriptions} active) "
            f"of {self.customers} customers from {self.file_name} as source {self.source!r} "
            f"in {self.duration_seconds:.2f} s, start dates {self.first_start_date} to "
            f"{self.last_start_date}, {self.replaced_rows} previous subscriptions replaced, "
            f"{self.cancel_requested} active with a cancellation requested{profile}"
        )

    def details(self) -> list[str]:
        """Describe the load in a few lines for a person: what was read, set aside and written."""
        verb = "would replace" if self.dry_run else "replaced"
        excluded = sum(self.excluded_rows.values())
        lines = [
            f"file {self.file_name}, format {self.format_name}",
            f"rows read {self.rows_read}, loaded {self.rows_loaded}, rejected "
            f"{self.rows_rejected}, excluded {excluded}",
            f"customers {self.customers}, subscriptions {self.subscriptions}: active "
            f"{self.active_subscriptions} (cancellation requested {self.cancel_requested}), "
            f"ended {self.ended_subscriptions}",
            f"monthly recurring revenue {self.monthly_recurring_revenue:.2f}, start dates "
            f"{self.first_start_date} to {self.last_start_date}",
        ]
        for reason, count in sorted(self.excluded_rows.items()):
            lines.append(f"excluded as {reason}: {count} rows")
        lines.append(f"{verb} source {self.source!r}: {self.replaced_rows} previous subscriptions")
        if self.ignored_columns:
            lines.append(
                "attribute columns not loaded (no profile entity given): "
                + ", ".join(self.ignored_columns)
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values, with dates in ISO format."""
        values = asdict(self)
        values["ok"] = True
        values["first_start_date"] = self.first_start_date.isoformat()
        values["last_start_date"] = self.last_start_date.isoformat()
        values["profile_attributes"] = list(self.profile_attributes)
        values["ignored_columns"] = list(self.ignored_columns)
        return values
