"""Layouts of subscription files, each turned into the loader's subscription columns.

"plain" has the columns subscription_id, customer_id, start_date, end_date,
recurrence_months, recurring_amount and optionally is_recurring and
cancel_requested_at. "stripe" is Stripe's subscriptions export (see `stripe_export`),
and "telco" the raw Telco churn sample (see `telco`). A `SubscriptionMapping` names
the input's column for each plain column. Every other column of the input is a
customer attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from server.ingestion import stripe_export
from server.ingestion.cells import parse_numbers
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.row_messages import RowMessages
from server.ingestion.subscription_rows import SUBSCRIPTION_COLUMNS

PLAIN = "plain"
TELCO = "telco"
FORMAT_NAMES = (PLAIN, stripe_export.NAME, TELCO)


@dataclass(frozen=True)
class SubscriptionMapping:
    """A declared layout: the input's column for each subscription column.

    The optional columns may be None when the input lacks them.
    """

    name: str
    subscription_id: str = "subscription_id"
    customer_id: str = "customer_id"
    start_date: str = "start_date"
    end_date: str = "end_date"
    recurrence_months: str = "recurrence_months"
    recurring_amount: str = "recurring_amount"
    is_recurring: str | None = None
    cancel_requested_at: str | None = None

    def names(self) -> dict[str, str]:
        """Map each subscription column the mapping declares to the input's column."""
        declared = {item.name: getattr(self, item.name) for item in fields(self)}
        del declared["name"]
        return {column: name for column, name in declared.items() if name is not None}


@dataclass(frozen=True)
class SubscriptionCells:
    """An input converted to subscription columns, with what the conversion found.

    `names` maps a subscription column to the input column that messages should name.
    `typed_attributes` is True when the attribute columns already have their types.
    """

    cells: pd.DataFrame
    format_name: str
    names: dict[str, str] = field(default_factory=dict)
    problems: RowMessages = field(default_factory=RowMessages)
    excluded: dict[str, int] = field(default_factory=dict)
    typed_attributes: bool = False


def convert_subscriptions(
    cells: pd.DataFrame,
    file_name: str,
    layout: SubscriptionMapping | str | None,
    text_input: bool,
) -> SubscriptionCells:
    """Convert `cells` from `layout` (a format name, a mapping, or None to recognise it).

    Raises ValueError for an unknown format name, and IngestionError when a mapping's
    column is missing or the Telco sample cannot be derived.
    """
    if isinstance(layout, SubscriptionMapping):
        return _rename(cells, file_name, layout)

    name = recognise_format(list(cells.columns)) if layout is None else layout
    if name == PLAIN:
        return SubscriptionCells(cells, PLAIN, typed_attributes=not text_input)
    if name == stripe_export.NAME:
        _require_columns(cells, stripe_export.REQUIRED_COLUMNS, file_name, name)
        return _convert_stripe(_all_text(cells), file_name)
    if name == TELCO:
        from server.ingestion.telco import RAW_COLUMNS

        _require_columns(cells, RAW_COLUMNS, file_name, name)
        return _convert_telco(_all_text(cells), file_name)
    valid = ", ".join(FORMAT_NAMES)
    raise ValueError(f"unknown subscriptions format {name!r}; valid formats: {valid}")


def recognise_format(columns: list[str]) -> str:
    """Return the format whose columns `columns` has; plain when none fits, to name what lacks."""
    if all(column in columns for column in SUBSCRIPTION_COLUMNS):
        return PLAIN
    if stripe_export.matches(columns):
        return stripe_export.NAME
    from server.ingestion.telco import RAW_COLUMNS

    if all(column in columns for column in RAW_COLUMNS):
        return TELCO
    return PLAIN


def _require_columns(
    cells: pd.DataFrame, columns: tuple[str, ...], file_name: str, format_name: str
) -> None:
    found = [str(column) for column in cells.columns]
    found_text = ", ".join(repr(name) for name in found)
    problems = [
        RowMessage(
            None,
            column,
            None,
            f"Column {column!r} of the {format_name} format is missing. Columns found: "
            f"{found_text}. Check the header, or choose another format.",
        )
        for column in columns
        if column not in found
    ]
    if problems:
        raise IngestionError(file_name, problems, len(problems))


def _all_text(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.apply(
        lambda column: column.astype(object).map(
            lambda value: "" if pd.isna(value) else str(value).strip()
        )
    )


def _rename(cells: pd.DataFrame, file_name: str, mapping: SubscriptionMapping) -> SubscriptionCells:
    names = mapping.names()
    found = [str(column) for column in cells.columns]
    missing = [name for name in names.values() if name not in found]
    if missing:
        found_text = ", ".join(repr(name) for name in found)
        problems = [
            RowMessage(
                None,
                name,
                None,
                f"Column {name!r} is missing. Columns found: {found_text}. Check the header, "
                f"or correct mapping {mapping.name!r}.",
            )
            for name in missing
        ]
        raise IngestionError(file_name, problems, len(problems))

    renamed = cells.rename(columns={name: column for column, name in names.items()})
    return SubscriptionCells(renamed, mapping.name, names=names)


def _convert_stripe(cells: pd.DataFrame, file_name: str) -> SubscriptionCells:
    unpaid = stripe_export.unpaid_rows(cells)
    problems = RowMessages()
    kept = cells.loc[~unpaid]
    converted = stripe_export.convert_stripe(kept, problems)
    excluded = {"never paid": int(unpaid.sum())} if unpaid.any() else {}
    return SubscriptionCells(
        converted,
        stripe_export.NAME,
        names=stripe_export.column_names(list(cells.columns)),
        problems=problems,
        excluded=excluded,
    )


_TELCO_NUMBERS = {
    "rownames": "row number",
    "female": "0/1 flag",
    "tenure": "tenure",
    "monthly_charges": "monthly charge",
    "senior_citizen": "0/1 flag",
    "partner": "0/1 flag",
    "dependents": "0/1 flag",
    "phone_service": "0/1 flag",
    "paperless_billing": "0/1 flag",
}


def _convert_telco(cells: pd.DataFrame, file_name: str) -> SubscriptionCells:
    """Derive the subscriptions and profile of the raw Telco sample, as `telco` does."""
    from server.ingestion.telco import CONTRACT_MONTHS, derive_telco

    problems = RowMessages()
    raw = cells.copy()
    for column, label in _TELCO_NUMBERS.items():
        raw[column] = parse_numbers(cells[column], column, label, problems)
    raw["total_charges"] = parse_numbers(
        cells["total_charges"], "total_charges", "total charge", problems, required=False
    )
    problems.add(
        ~cells["contract"].isin(list(CONTRACT_MONTHS)),
        cells["contract"],
        "contract",
        lambda row, value: (
            f"Row {row}, column 'contract': unknown contract {value!r}; known: "
            + ", ".join(CONTRACT_MONTHS)
        ),
    )
    problems.raise_if_any(file_name)

    for column in _TELCO_NUMBERS:
        if column != "monthly_charges":
            raw[column] = raw[column].astype(int)
    tables = derive_telco(raw)
    subscriptions = _all_text(tables.subscriptions)
    profile = tables.profile.drop(columns="CustomerId")
    names = {"subscription_id": "rownames", "customer_id": "rownames", "start_date": "tenure"}
    return SubscriptionCells(subscriptions.join(profile), TELCO, names=names, typed_attributes=True)
