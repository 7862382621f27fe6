"""Column mappings: which column of a source file feeds which field of the order tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

DuplicatePolicy = Literal["keep", "reject"]
WriteMode = Literal["auto", "replace", "upsert"]
ExclusionMatch = Literal["equals", "contains", "not_empty"]

WHITESPACE = r"\s+"
"""The separator for files whose fields are separated by runs of spaces or tabs."""

DETECT = "auto"
"""The separator or encoding value that makes the reader detect it from the file."""

ISO8601 = "ISO8601"
"""The date format for ISO 8601 dates and times, with or without an offset."""


@dataclass(frozen=True)
class ReaderOptions:
    """How to split a file into rows and columns, and how its numbers are written.

    Compression (.gz, .bz2, .zip, .xz) follows from the file name's extension, and a
    .parquet file is read as Parquet whatever the other options say. `encoding` and
    `separator` may be "auto": the encoding then comes from a byte order mark, else
    UTF-8 when the first 64 KiB decode as UTF-8, else Windows-1252, and the separator
    is the most frequent of comma, semicolon and tab in the header line.
    """

    separator: str = ","
    header: bool = True
    # Column names for a file without a header line, in file order.
    column_names: tuple[str, ...] = ()
    # utf-8-sig also reads plain UTF-8, and drops the byte order mark some spreadsheets write.
    encoding: str = "utf-8-sig"
    decimal: str = "."
    # None means numbers have no thousands separator, so "1,234" is invalid.
    thousands: str | None = None

    def __post_init__(self) -> None:
        if not self.separator:
            raise ValueError("separator is empty; use ',', ';', '\\t', 'auto' or WHITESPACE")
        if not self.header and not self.column_names:
            raise ValueError("a file without a header needs column_names")
        if self.header and self.column_names:
            raise ValueError("column_names applies only to a file without a header")
        if self.decimal not in {".", ","}:
            raise ValueError(f"invalid decimal separator {self.decimal!r}; use '.' or ','")
        if self.thousands is not None and self.thousands not in {",", ".", " ", "'", "\u00a0"}:
            raise ValueError(
                f"invalid thousands separator {self.thousands!r}; use ',', '.', ' ' or \"'\""
            )
        if self.thousands == self.decimal:
            raise ValueError(f"the thousands and decimal separators are both {self.decimal!r}")


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
class Exclusion:
    """Orders to leave out, such as cancelled or test orders, named by `reason` in reports.

    An order is excluded when `column` equals one of `values` ("equals", ignoring
    case), contains one of them as a comma-separated item ("contains", as in a tag
    list), or is not empty ("not_empty", as in a cancellation date).
    """

    reason: str
    column: str
    match: ExclusionMatch = "equals"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.match not in get_args(ExclusionMatch):
            raise ValueError(
                f"invalid exclusion match {self.match!r}; valid: "
                + ", ".join(get_args(ExclusionMatch))
            )
        if self.match != "not_empty" and not self.values:
            raise ValueError(
                f"exclusion {self.reason!r} matches {self.match!r} but lists no values"
            )


@dataclass(frozen=True, kw_only=True)
class ColumnMapping:
    """The declared layout of one kind of order file.

    Customers are keyed by `customer_id`, or by a hash of the normalised e-mail in
    `customer_email` when a row has no id or one of `anonymous_customer_ids` (a guest
    checkout). A line's amount is `amount`, or `unit_price` times the quantity.

    `order_columns` are order-level columns that an export fills only on the first
    row of each order. They are copied to the order's other rows before anything is
    read from them, so order-level values such as `order_discount` and
    `refund_amount` count once per order however the export repeats them.

    `duplicates` decides what equal rows mean. With "keep", each row is its own
    purchase, even when another row has the same values. With "reject", two rows with
    the same line key (or, without one, two rows equal in every column) are an error.

    `write_mode` "replace" deletes the source's previous rows first. "upsert" keeps
    them and updates the orders of this file by line key, so it needs keys: a
    `line_id` or `number_lines`, and an `order_id` when `line_id_per_order` is set.
    "auto" upserts when the mapping has line keys and replaces otherwise.
    """

    name: str
    order_date: str
    customer_id: str | None = None
    customer_email: str | None = None
    anonymous_customer_ids: tuple[str, ...] = ()
    # A `datetime.strptime` format such as "%Y%m%d", ISO8601, or None to detect it.
    date_format: str | None = None
    amount: str | None = None
    unit_price: str | None = None
    quantity: str | None = None
    order_id: str | None = None
    product_id: str | None = None
    line_id: str | None = None
    # The line id counts lines within an order (1, 2, …) rather than within the file.
    line_id_per_order: bool = False
    # Without a line id, number each order's rows 1, 2, … in file order to key them.
    number_lines: bool = False
    order_columns: tuple[str, ...] = ()
    order_discount: str | None = None
    refund_amount: str | None = None
    exclusions: tuple[Exclusion, ...] = ()
    # Cell values that mean "no value"; others such as "NA" or "null" stay text.
    missing_values: tuple[str, ...] = ()
    profile: ProfileColumns = field(default_factory=ProfileColumns)
    reader: ReaderOptions = field(default_factory=ReaderOptions)
    duplicates: DuplicatePolicy = "reject"
    write_mode: WriteMode = "auto"

    def __post_init__(self) -> None:
        if self.duplicates not in get_args(DuplicatePolicy):
            raise ValueError(
                f"invalid duplicate policy {self.duplicates!r}; valid: "
                + ", ".join(get_args(DuplicatePolicy))
            )
        if self.write_mode not in get_args(WriteMode):
            raise ValueError(
                f"invalid write mode {self.write_mode!r}; valid: " + ", ".join(get_args(WriteMode))
            )
        declared = self.date_format
        if declared is not None and declared != ISO8601 and "%" not in declared:
            raise ValueError(
                f"invalid date_format {declared!r}; use strptime codes such as "
                f"'%Y-%m-%d', {ISO8601!r}, or leave it out to detect the format"
            )
        self._check_required_fields()
        for column in self.source_columns():
            if not column.strip():
                raise ValueError(f"mapping {self.name!r} names an empty column")

    def _check_required_fields(self) -> None:
        if self.customer_id is None and self.customer_email is None:
            raise ValueError(f"mapping {self.name!r} needs customer_id, customer_email or both")
        if (self.amount is None) == (self.unit_price is None):
            raise ValueError(f"mapping {self.name!r} needs exactly one of amount and unit_price")
        needs_order = self.line_id_per_order or self.number_lines or self.order_columns
        if needs_order and self.order_id is None:
            raise ValueError(
                f"mapping {self.name!r} keys lines or order columns by order, so it needs order_id"
            )
        if self.write_mode == "upsert" and not self.has_line_keys():
            raise ValueError(
                f"mapping {self.name!r} upserts, so it needs line keys: set line_id or "
                "number_lines, or use write_mode 'replace'"
            )

    def has_line_keys(self) -> bool:
        """Return True when every line gets a key that a later export of it repeats."""
        return self.line_id is not None or self.number_lines

    def upserts(self) -> bool:
        return self.write_mode == "upsert" or (self.write_mode == "auto" and self.has_line_keys())

    def source_columns(self) -> list[str]:
        """List the source columns the mapping reads, each once, in declaration order."""
        columns = [
            self.customer_id,
            self.customer_email,
            self.order_date,
            self.amount,
            self.unit_price,
            self.quantity,
            self.order_id,
            self.product_id,
            self.line_id,
            self.order_discount,
            self.refund_amount,
            *self.order_columns,
            *(exclusion.column for exclusion in self.exclusions),
            *self.profile.by_attribute().values(),
        ]
        return list(dict.fromkeys(column for column in columns if column is not None))
