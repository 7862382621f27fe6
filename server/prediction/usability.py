"""The data usability report: what in the loaded data blocks a prediction or weakens it.

Errors block a run: a run whose report has errors fails at once with them. Warnings
leave the run allowed but name what would make the model better. Every figure comes
from SQL aggregates, so no customer row is read into Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, and_, func, select

from server.prediction.base import ParameterError
from server.prediction.registry import get_kind
from server.storage.tables import Customer, OrderLine, Subscription, table_of, utc_now

MIN_CUSTOMERS = 50
FEW_CUSTOMERS = 1000
SHORT_HISTORY_DAYS = 365
MAX_MISSING_SHARE = 0.20
PROFILE_COLUMNS = ("segment", "country", "city", "state", "region")


@dataclass(frozen=True)
class DataIssue:
    """A problem of the data, where it is and how to fix it."""

    table: str
    column: str | None
    message: str
    fix: str


@dataclass(frozen=True)
class DataReport:
    """Errors block a run; warnings only weaken the model."""

    errors: list[DataIssue] = field(default_factory=list)
    warnings: list[DataIssue] = field(default_factory=list)

    def summary(self) -> str:
        """Describe the errors in one line, to store as a failed run's reason."""
        listed = "; ".join(
            f"{issue.table}.{issue.column or '*'}: {issue.message} ({issue.fix})"
            for issue in self.errors
        )
        return f"the data cannot support this prediction: {listed}"


@dataclass(frozen=True)
class _Source:
    """The table a kind trains on and the columns the report looks at."""

    table: Table
    date_column: str
    nullable_columns: tuple[str, ...]
    required_columns: tuple[str, ...] = ()
    # Whether training needs more than two prediction windows of history, as the
    # cutoffs of transactional churn do.
    needs_two_windows: bool = True


def _source_of(kind: str) -> _Source:
    if kind == "SUBSCRIPTION_CHURN":
        return _Source(table_of(Subscription), "start_date", (), needs_two_windows=False)
    if kind == "PRODUCT_RECOMMENDATION":
        return _Source(table_of(OrderLine), "order_date", ("order_id",), ("product_id",))
    return _Source(table_of(OrderLine), "order_date", ("order_id", "product_id"))


def check_prediction_data(
    engine: Engine, kind: str, raw_parameters: Mapping[str, Any]
) -> DataReport:
    """Check the parameters of a prediction and the data they select; return the report."""
    try:
        parameters = get_kind(kind).validate_parameters(raw_parameters)
    except KeyError as error:
        fix = "create the prediction with one of the listed kinds"
        return DataReport(errors=[DataIssue("prediction", "kind", str(error.args[0]), fix)])
    except ParameterError as error:
        return DataReport(errors=_parameter_issues(error))

    source = _source_of(kind)
    errors: list[DataIssue] = []
    warnings: list[DataIssue] = []
    with engine.connect() as connection:
        _check_source(connection, source, parameters, errors, warnings)
        if not errors:
            _check_missing(connection, source, parameters["source"], errors, warnings)
            _check_profile(connection, parameters["source"], warnings)
    return DataReport(errors=errors, warnings=warnings)


def _parameter_issues(error: ParameterError) -> list[DataIssue]:
    return [
        DataIssue(
            "prediction",
            f"parameters.{name}",
            f"parameter {name} {reason}",
            "correct it with updatePrediction",
        )
        for name, reason in error.problems.items()
    ]


def _check_source(
    connection: Connection,
    source: _Source,
    parameters: Mapping[str, Any],
    errors: list[DataIssue],
    warnings: list[DataIssue],
) -> None:
    table = source.table
    name = parameters["source"]
    dates = table.c[source.date_column]
    figures = connection.execute(
        select(
            func.count(),
            func.count(table.c.customer_id.distinct()),
            func.min(dates),
            func.max(dates),
        ).where(table.c.source == name)
    ).one()
    rows, customers, first, last = figures
    if rows == 0:
        known = connection.execute(select(table.c.source).distinct().order_by(table.c.source))
        listed = ", ".join(repr(value) for value in known.scalars()) or "none loaded yet"
        errors.append(
            DataIssue(
                table.name,
                "source",
                f"no rows have source {name!r}",
                f"load data for source {name!r} or set parameters.source to one of: {listed}",
            )
        )
        return

    _check_customers(table.name, name, int(customers), errors, warnings)
    window = parameters.get("prediction_window_days") if source.needs_two_windows else None
    _check_history(table.name, source.date_column, name, first, last, window, errors, warnings)
    if table.name == "order_line":
        _check_purchases(connection, table, name, errors)


def _check_customers(
    table: str, source: str, customers: int, errors: list[DataIssue], warnings: list[DataIssue]
) -> None:
    if customers < MIN_CUSTOMERS:
        errors.append(
            DataIssue(
                table,
                "customer_id",
                f"source {source!r} has {customers} customers; training needs at least "
                f"{MIN_CUSTOMERS}",
                "load more customers' data for this source",
            )
        )
    elif customers < FEW_CUSTOMERS:
        warnings.append(
            DataIssue(
                table,
                "customer_id",
                f"source {source!r} has {customers} customers, fewer than {FEW_CUSTOMERS}; "
                "metrics will vary a lot from run to run",
                "load more customers' data for this source",
            )
        )


def _check_history(
    table: str,
    column: str,
    source: str,
    first: date,
    last: date,
    window: int | None,
    errors: list[DataIssue],
    warnings: list[DataIssue],
) -> None:
    span_days = (last - first).days
    if window is not None and span_days <= 2 * window:
        errors.append(
            DataIssue(
                table,
                column,
                f"source {source!r} spans {span_days} days ({first} to {last}); a "
                f"prediction window of {window} days needs more than {2 * window}",
                "load a longer history or lower parameters.prediction_window_days",
            )
        )
    elif span_days < SHORT_HISTORY_DAYS:
        warnings.append(
            DataIssue(
                table,
                column,
                f"source {source!r} spans {span_days} days ({first} to {last}), less than "
                "12 months, so yearly seasonality is not learnt",
                "load at least 12 months of history",
            )
        )
    today = utc_now().date()
    if last > today + timedelta(days=1):
        warnings.append(
            DataIssue(
                table,
                column,
                f"source {source!r} has dates up to {last}, after today ({today})",
                "correct the dates or the date format of the loaded file",
            )
        )


def _check_purchases(
    connection: Connection, table: Table, source: str, errors: list[DataIssue]
) -> None:
    purchases = connection.execute(
        select(func.count()).where(and_(table.c.source == source, table.c.amount >= 0))
    ).scalar_one()
    if purchases == 0:
        errors.append(
            DataIssue(
                table.name,
                "amount",
                f"source {source!r} has only returns (negative amounts) and no purchase",
                "load the source's purchases",
            )
        )


def _missing_share(connection: Connection, table: Table, column: Column[Any], where: Any) -> float:
    total, present = connection.execute(
        select(func.count(), func.count(column)).select_from(table).where(where)
    ).one()
    return 0.0 if total == 0 else 1.0 - present / total


def _check_missing(
    connection: Connection,
    source: _Source,
    name: str,
    errors: list[DataIssue],
    warnings: list[DataIssue],
) -> None:
    table = source.table
    where = table.c.source == name
    for column in source.required_columns:
        share = _missing_share(connection, table, table.c[column], where)
        if share > MAX_MISSING_SHARE:
            errors.append(
                DataIssue(
                    table.name,
                    column,
                    f"{share:.0%} of the rows of source {name!r} have no {column}; this kind "
                    f"needs it on at least {1 - MAX_MISSING_SHARE:.0%}",
                    f"map a {column} column when loading the source",
                )
            )
    for column in source.nullable_columns:
        share = _missing_share(connection, table, table.c[column], where)
        if share > MAX_MISSING_SHARE:
            warnings.append(
                DataIssue(
                    table.name,
                    column,
                    f"{share:.0%} of the rows of source {name!r} have no {column}",
                    f"map a {column} column when loading the source, if the file has one",
                )
            )


def _check_profile(connection: Connection, source: str, warnings: list[DataIssue]) -> None:
    customers = table_of(Customer)
    where = customers.c.source == source
    for column in PROFILE_COLUMNS:
        share = _missing_share(connection, customers, customers.c[column], where)
        if share > MAX_MISSING_SHARE:
            warnings.append(
                DataIssue(
                    customers.name,
                    column,
                    f"{share:.0%} of the customer profiles of source {source!r} have no {column}",
                    f"load a customer file with a {column} column so segments can use it",
                )
            )
