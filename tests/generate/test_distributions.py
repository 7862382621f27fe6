"""The generated data follows the processes the parameters describe.

Each check compares a sample figure with the model's expectation, computed
analytically, within about four standard errors of the sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from server.generate.catalog import build_catalog, top_share
from server.generate.generator import block_rng, generate_block
from server.generate.parameters import GeneratorParameters
from server.generate.purchases import (
    expected_repeat_purchases,
    probability_alive,
    simulate_purchases,
)

PARAMETERS = GeneratorParameters()
CUSTOMERS = 40_000


@pytest.fixture(scope="module")
def purchases():  # type: ignore[no-untyped-def]
    return simulate_purchases(np.random.default_rng(11), CUSTOMERS, PARAMETERS)


def test_repeat_purchases_match_bgnbd(purchases) -> None:  # type: ignore[no-untyped-def]
    repeats = np.bincount(purchases.owner, minlength=CUSTOMERS) - 1
    expected = expected_repeat_purchases(purchases.T, PARAMETERS).mean()
    tolerance = 4 * repeats.std() / np.sqrt(CUSTOMERS)

    assert abs(repeats.mean() - expected) < tolerance


def test_dropout_share_matches_bgnbd(purchases) -> None:  # type: ignore[no-untyped-def]
    grid = np.linspace(0.0, PARAMETERS.days, 61)
    alive = np.array([probability_alive(T, PARAMETERS) for T in grid])
    # T is uniform over the period, so the mean over customers is the mean over T.
    expected_dropped = 1 - np.trapezoid(alive, grid) / PARAMETERS.days
    share = purchases.dropped.mean()
    tolerance = 4 * np.sqrt(share * (1 - share) / CUSTOMERS)

    assert abs(share - expected_dropped) < tolerance


def test_purchases_sorted_within_period(purchases) -> None:  # type: ignore[no-untyped-def]
    same_customer = purchases.owner[1:] == purchases.owner[:-1]

    assert (np.diff(purchases.time)[same_customer] >= 0).all()
    assert purchases.time.min() >= 0
    assert purchases.time.max() <= PARAMETERS.days


def test_dropped_customers_stop_buying(purchases) -> None:  # type: ignore[no-untyped-def]
    counts = np.bincount(purchases.owner, minlength=CUSTOMERS)
    # Customers with a low dropout probability buy more often over the same period.
    low = purchases.dropout < np.quantile(purchases.dropout, 0.25)
    high = purchases.dropout > np.quantile(purchases.dropout, 0.75)

    assert counts[low].mean() > counts[high].mean()


def test_popularity_heavy_tailed() -> None:
    exponent = PARAMETERS.zipf_exponent
    catalog = build_catalog(np.random.default_rng(3), PARAMETERS.products, exponent)
    draws = catalog.draw(np.random.default_rng(4), 400_000)
    counts = np.sort(np.bincount(draws, minlength=PARAMETERS.products))[::-1]
    top = PARAMETERS.products // 100
    observed = counts[:top].sum() / counts.sum()
    expected = top_share(PARAMETERS.products, exponent, 0.01)

    # The top 1% of 5,000 products at exponent 0.9 get about 38% of all lines, and
    # the top 20% about 75%, near the 80/20 rule of retail sales.
    assert 0.35 < expected < 0.42
    assert 0.70 < top_share(PARAMETERS.products, exponent, 0.2) < 0.80
    assert abs(observed - expected) < 0.01


def test_order_spend_matches_gamma_gamma() -> None:
    catalog = build_catalog(block_rng(1, 0), 200, 1.1)
    tables = [
        generate_block(1, block, 1000, 7, catalog, PARAMETERS, (1, 1, 1)) for block in range(8)
    ]
    lines = pd.concat([table.order_lines.to_pandas() for table in tables])
    spend = lines.groupby(["CustomerId", "OrderId"])["Amount"].sum()
    tolerance = 4 * spend.std() / np.sqrt(len(spend))

    # Orders of one customer share a spending rate, so they are correlated and the
    # plain standard error is too small. The band is twice the usual four of them.
    assert abs(spend.mean() - PARAMETERS.mean_order_spend) < 2 * tolerance


def test_subscription_share() -> None:
    catalog = build_catalog(block_rng(2, 0), 200, 1.1)
    tables = [
        generate_block(2, block, 1000, 7, catalog, PARAMETERS, (1, 1, 1)) for block in range(10)
    ]
    subscriptions = pd.concat([table.subscriptions.to_pandas() for table in tables])
    share = len(subscriptions) / 10_000
    tolerance = 4 * np.sqrt(0.3 * 0.7 / 10_000)

    assert abs(share - PARAMETERS.subscriber_share) < tolerance
    assert subscriptions["end_date"].isna().any()
    assert subscriptions["end_date"].notna().any()
