"""Column mappings: which column of a source file feeds which field of the order tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

DuplicatePolicy = Literal["keep", "reject"]

WHITESPACE = r"\s+"
"""The separator for files whose fields are separated by runs of spaces or tabs."""


@dataclass(frozen=True)
class ReaderOptions:
    """How to split a text file into rows and columns.

    Compression (.gz, .bz2, .zip, .xz, .zst) follows from the file name's extension.
    """

    separator: str = ","
    header: bool = True
    # Column names for a file without a header line, in file order.
    column_names: tuple[str, ...] = ()
    # utf-8-sig also reads plain UTF-8, and drops the byte order mark some spreadsheets write.
    encoding: str = "utf-8-sig"

    def __post_init__(self) -> None:
        if not self.separator:
            raise ValueError("separator is empty; use ',' or WHITESPACE")
        if not self.header and not self.column_names:
            raise ValueError("a file without a header needs column_names")
        if self.header and self.column_names:
            raise ValueError("column_names applies only to a file without a header")


@dataclass(frozen=True)
class ProfileColumns:
    """Source columns that feed the customer profile. None leaves that attribute empty."""

    segment: str | None = None
    country: str | None = None
    city: str | None = None
    state: str | None = None
    region: str | None = None

    def by_attribute(self) -> dict[str, str]:
        """Map each profile attribute that has a source column to that column."""
        attributes = {
            "segment": self.segment,
            "country": self.country,
            "city": self.city,
            "state": self.state,
            "region": self.region,
        }
        return {name: column for name, column in attributes.items() if column is not None}


@dataclass(frozen=True)
class ColumnMapping:
    """The declared layout of one kind of order file.

    `duplicates` decides what equal rows mean. With "keep", each row is its own
    purchase, even when another row has the same values. With "reject", two rows with
    the same `line_id` (or, without a line id, two rows equal in every column) are an
    error.
    """

    name: str
    customer_id: str
    order_date: str
    # A `datetime.strptime` format, such as "%Y%m%d".
    date_format: str
    amount: str
    quantity: str | None = None
    order_id: str | None = None
    product_id: str | None = None
    line_id: str | None = None
    profile: ProfileColumns = field(default_factory=ProfileColumns)
    reader: ReaderOptions = field(default_factory=ReaderOptions)
    duplicates: DuplicatePolicy = "reject"

    def __post_init__(self) -> None:
        if self.duplicates not in get_args(DuplicatePolicy):
            raise ValueError(
                f"invalid duplicate policy {self.duplicates!r}; valid: "
                + ", ".join(get_args(DuplicatePolicy))
            )
        if "%" not in self.date_format:
            raise ValueError(
                f"invalid date_format {self.date_format!r}; use strptime codes such as '%Y-%m-%d'"
            )
        for column in self.source_columns():
            if not column.strip():
                raise ValueError(f"mapping {self.name!r} names an empty column")

    def source_columns(self) -> list[str]:
        """List the source columns the mapping reads, each once, in declaration order."""
        columns = [
            self.customer_id,
            self.order_date,
            self.amount,
            self.quantity,
            self.order_id,
            self.product_id,
            self.line_id,
            *self.profile.by_attribute().values(),
        ]
        return list(dict.fromkeys(column for column in columns if column is not None))
