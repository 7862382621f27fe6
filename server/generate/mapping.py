"""The column mapping that loads generated order lines with `load_orders`."""

from __future__ import annotations

from server.ingestion.mapping import ColumnMapping, ProfileColumns

# Every generated line has its own LineId, so a repeated id means a damaged file.
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
