"""Orders and order lines: products by popularity, gamma-gamma spend split over the lines."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from server.generate.catalog import Catalog
from server.generate.parameters import GeneratorParameters
from server.generate.purchases import Purchases

PROFILE_COLUMNS = ("Segment", "Country", "City", "State", "Region")


def build_order_lines(
    rng: np.random.Generator,
    purchases: Purchases,
    profiles: pa.Table,
    catalog: Catalog,
    parameters: GeneratorParameters,
    first_order_id: int,
    first_line_id: int,
) -> pa.Table:
    """Turn each purchase into one order of one or more lines.

    The order's spend is a gamma-gamma draw, split over its lines in proportion to
    price times quantity, so Amount / Quantity is the unit price scaled by the
    customer's spending level. Amounts are rounded to cents, so an order's total can
    differ from its drawn spend by a few cents. Every line repeats the customer's
    profile columns, as retail exports do, so the customer profile loads with the
    order lines.
    """
    customers = len(profiles)
    spend_rate = rng.gamma(parameters.spend_q, 1.0 / parameters.spend_v, customers)
    orders = len(purchases.owner)
    order_spend = rng.gamma(parameters.spend_p, 1.0 / spend_rate[purchases.owner])

    lines_per_order = 1 + rng.poisson(parameters.extra_lines_per_order, orders)
    order_of_line = np.repeat(np.arange(orders), lines_per_order)
    lines = len(order_of_line)
    product = catalog.draw(rng, lines)
    quantity = 1 + rng.poisson(parameters.extra_units_per_line, lines)

    weight = catalog.price[product] * quantity
    order_weight = np.bincount(order_of_line, weights=weight, minlength=orders)
    amount = np.round(order_spend[order_of_line] * weight / order_weight[order_of_line], 2)

    day = np.minimum(np.floor(purchases.time), parameters.days - 1).astype("int64")
    order_date = np.datetime64(parameters.start, "D") + day[order_of_line]
    customer = pa.array(purchases.owner[order_of_line])

    columns: dict[str, pa.Array] = {
        "LineId": pa.array(np.arange(first_line_id, first_line_id + lines)),
        "OrderId": pa.array(first_order_id + order_of_line),
        "OrderDate": pa.array(order_date, type=pa.date32()),
        "CustomerId": profiles.column("CustomerId").take(customer),
        "ProductId": catalog.table.column("ProductId").take(pa.array(product)),
        "Quantity": pa.array(quantity),
        "Amount": pa.array(amount),
    }
    for name in PROFILE_COLUMNS:
        columns[name] = profiles.column(name).take(customer)
    return pa.table(columns)
