"""The built-in mappings (bundled demo files and common shop exports), looked up by name."""

from __future__ import annotations

from types import MappingProxyType

from server.ingestion.mapping import (
    DETECT,
    WHITESPACE,
    ColumnMapping,
    Exclusion,
    ProfileColumns,
    ReaderOptions,
)

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

# The Shopify orders export (Orders > Export) has one row per line item. The order's
# fields (e-mail, totals, discount, refund, billing address, cancellation) are filled
# on its first row only, so they are copied to the order's other rows. The export has
# no customer id, so customers are keyed by e-mail. "Lineitem price" is the unit
# price before the order's discount, which is spread over the lines. Test orders are
# those paid through Shopify's "bogus" test gateway.
SHOPIFY = ColumnMapping(
    name="shopify",
    customer_email="Email",
    order_id="Name",
    order_date="Created at",
    date_format="%Y-%m-%d %H:%M:%S %z",
    unit_price="Lineitem price",
    quantity="Lineitem quantity",
    product_id="Lineitem sku",
    number_lines=True,
    order_columns=(
        "Email",
        "Created at",
        "Financial Status",
        "Discount Amount",
        "Refunded Amount",
        "Cancelled at",
        "Payment Method",
        "Billing City",
        "Billing Province",
        "Billing Country",
    ),
    order_discount="Discount Amount",
    refund_amount="Refunded Amount",
    exclusions=(
        Exclusion(reason="cancelled", column="Cancelled at", match="not_empty"),
        Exclusion(reason="voided", column="Financial Status", values=("voided",)),
        Exclusion(reason="test order", column="Payment Method", values=("bogus",)),
    ),
    profile=ProfileColumns(
        city="Billing City", state="Billing Province", country="Billing Country"
    ),
    reader=ReaderOptions(separator=DETECT, encoding=DETECT),
)

# The WooCommerce export of the "Advanced Order Export For WooCommerce" plugin, one
# row per item with the order's fields repeated. "Customer User ID" is 0 for a guest
# checkout, who is then keyed by e-mail. "Item Cost" is the unit price after
# discounts, and "Item #" numbers the items of an order. The refund column holds
# the order's refunded total, so it is taken once per order.
WOOCOMMERCE = ColumnMapping(
    name="woocommerce",
    customer_id="Customer User ID",
    customer_email="Customer Email",
    anonymous_customer_ids=("0",),
    order_id="Order ID",
    order_date="Order Date",
    unit_price="Item Cost",
    quantity="Quantity",
    product_id="SKU",
    line_id="Item #",
    line_id_per_order=True,
    refund_amount="Order Refund Amount",
    exclusions=(
        Exclusion(reason="cancelled", column="Order Status", values=("cancelled",)),
        Exclusion(reason="failed", column="Order Status", values=("failed",)),
        Exclusion(
            reason="unpaid", column="Order Status", values=("pending payment", "pending", "draft")
        ),
    ),
    profile=ProfileColumns(
        city="City (Billing)", state="State Code (Billing)", country="Country Code (Billing)"
    ),
    reader=ReaderOptions(separator=DETECT, encoding=DETECT),
)

# The order lines that `lookahead generate` writes. Every line has its own LineId, so a
# repeated id means a damaged file.
GENERATED = ColumnMapping(
    name="generated",
    customer_id="CustomerId",
    order_date="OrderDate",
    date_format="%Y-%m-%d",
    amount="Amount",
    quantity="Quantity",
    order_id="OrderId",
    product_id="ProductId",
    line_id="LineId",
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
    {mapping.name: mapping for mapping in (CDNOW, SUPERSTORE, SHOPIFY, WOOCOMMERCE, GENERATED)}
)


def get_mapping(name: str) -> ColumnMapping:
    """Return the built-in mapping called `name`."""
    try:
        return BUILTIN_MAPPINGS[name]
    except KeyError:
        valid = ", ".join(sorted(BUILTIN_MAPPINGS))
        raise ValueError(f"unknown mapping {name!r}; valid names: {valid}") from None
