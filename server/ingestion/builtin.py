"""The mappings for the bundled demo files, looked up by name."""

from __future__ import annotations

from types import MappingProxyType

from server.ingestion.mapping import WHITESPACE, ColumnMapping, ProfileColumns, ReaderOptions

# CDNOW has one row per purchase and no order or line id. One customer often buys
# several times on one day, sometimes with equal quantity and amount, so equal rows
# are separate purchases.
CDNOW = ColumnMapping(
    name="cdnow",
    customer_id="customer_id",
    order_date="date",
    date_format="%Y%m%d",
    amount="dollar_value",
    quantity="number_of_cds",
    reader=ReaderOptions(separator=WHITESPACE),
    duplicates="keep",
)

# The Superstore sample has one row per order line, numbered by "Row ID", and the
# customer's segment and shipping address on every line.
SUPERSTORE = ColumnMapping(
    name="superstore",
    customer_id="Customer ID",
    order_date="Order Date",
    date_format="%Y-%m-%d",
    amount="Sales",
    quantity="Quantity",
    order_id="Order ID",
    product_id="Product ID",
    line_id="Row ID",
    profile=ProfileColumns(
        segment="Segment",
        country="Country",
        city="City",
        state="State",
        region="Region",
    ),
    duplicates="reject",
)

BUILTIN_MAPPINGS: MappingProxyType[str, ColumnMapping] = MappingProxyType(
    {mapping.name: mapping for mapping in (CDNOW, SUPERSTORE)}
)


def get_mapping(name: str) -> ColumnMapping:
    """Return the built-in mapping called `name`."""
    try:
        return BUILTIN_MAPPINGS[name]
    except KeyError:
        valid = ", ".join(sorted(BUILTIN_MAPPINGS))
        raise ValueError(f"unknown mapping {name!r}; valid names: {valid}") from None
