from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from server.prediction.subscription_churn.features import HISTORY_FEATURES, build_features
from server.prediction.subscription_churn.history import SubscriptionHistory
from server.prediction.subscription_churn.months import add_months, months_between
from tests.prediction.subscription_churn.conftest import history_of, subscription_frame
from tests.prediction.subscription_churn.synthetic import synthetic_subscriptions

CUTOFF = pd.Timestamp("2023-07-01")

HISTORY = history_of(
    ("price_rise", "2022-01-15", "2023-01-15", 1, 10.0),
    ("price_rise", "2023-01-15", None, 1, 12.0),
    ("yearly", "2021-03-01", None, 12, 120.0),
    ("came_back", "2022-01-01", "2022-03-01", 1, 10.0),
    ("came_back", "2022-09-01", None, 12, 180.0),
    ("in_grace", "2023-01-01", "2023-06-21", 1, 10.0),
    ("renews_today", "2023-05-01", None, 1, 10.0),
    ("ends_after_cutoff", "2023-01-10", "2023-08-01", 1, 10.0),
    ("add_on_ended", "2023-01-05", None, 1, 10.0),
    ("add_on_ended", "2023-03-01", "2023-05-01", 1, 5.0),
    ("two_products", "2023-01-05", None, 1, 10.0),
    ("two_products", "2023-03-01", None, 3, 15.0),
)

EXPECTED = {
    # TenureMonths, Renewals, Resubscriptions, ActiveSubscriptions, ContractMonths,
    # MonthlyAmount, AmountChangePercent, AmountChanges, PlanChanges,
    # DaysToNextRenewal, DaysSinceLastEnd
    "price_rise": (17, 18, 0, 1, 1, 12.0, 20.0, 1, 0, 14, 0),
    "yearly": (28, 2, 0, 1, 12, 10.0, 0.0, 0, 0, 244, 0),
    "came_back": (10, 0, 1, 1, 12, 15.0, 50.0, 1, 1, 62, 0),
    "in_grace": (5, 5, 0, 0, 1, 10.0, 0.0, 0, 0, 0, 10),
    "renews_today": (2, 2, 0, 1, 1, 10.0, 0.0, 0, 0, 0, 0),
    "ends_after_cutoff": (5, 5, 0, 1, 1, 10.0, 0.0, 0, 0, 9, 0),
    # An add-on that starts while the first subscription runs is not a renewal.
    "add_on_ended": (5, 7, 0, 1, 1, 10.0, -50.0, 1, 0, 4, 0),
    "two_products": (5, 6, 0, 2, 3, 15.0, -50.0, 1, 1, 62, 0),
}
CHECKED = [name for name in HISTORY_FEATURES if name != "IsRecurring"]


@pytest.mark.parametrize("customer", list(EXPECTED))
def test_history_features_by_hand(customer: str) -> None:
    features = build_features(HISTORY, CUTOFF, churn_window_days=30)

    row = features.loc[customer, CHECKED].to_dict()

    assert row == pytest.approx(dict(zip(CHECKED, EXPECTED[customer], strict=True)))


def test_term_counts_days_to_term_end() -> None:
    history = SubscriptionHistory(
        subscriptions=subscription_frame(
            ("term", "2023-01-01", None, 12, 120.0), is_recurring=False
        ),
        profile=pd.DataFrame(index=pd.Index([], name="CustomerId", dtype=object)),
    )

    features = build_features(history, CUTOFF, churn_window_days=30)

    assert features.loc["term", "DaysToNextRenewal"] == 184
    assert features.loc["term", "Renewals"] == 0
    assert not features.loc["term", "IsRecurring"]


def test_features_ignore_ends_on_or_after_cutoff() -> None:
    rows = synthetic_subscriptions(customers=300, seed=3)
    rows["end_date"] = rows["end_date"].where(rows["end_date"] != "")
    columns = ["customer_id", "start_date", "end_date", "recurrence_months", "recurring_amount"]
    subscriptions = subscription_frame(*rows[columns].itertuples(index=False, name=None))
    cutoff = pd.Timestamp("2023-03-01")
    later_end = subscriptions["end_date"] >= cutoff
    assert later_end.sum() > 20
    erased = subscriptions.assign(end_date=subscriptions["end_date"].mask(later_end))
    profile = pd.DataFrame(index=pd.Index([], name="CustomerId", dtype=object))

    seen = build_features(SubscriptionHistory(subscriptions, profile), cutoff, 30)
    without_future = build_features(SubscriptionHistory(erased, profile), cutoff, 30)

    pd.testing.assert_frame_equal(seen, without_future)


def test_profile_joined_and_clashing_names_prefixed() -> None:
    profile = pd.DataFrame(
        {"Plan": ["Pro", "Basic"], "TenureMonths": [99, 98]},
        index=pd.Index(["yearly", "price_rise"], name="CustomerId"),
    )
    history = SubscriptionHistory(HISTORY.subscriptions, profile)

    features = build_features(history, CUTOFF, churn_window_days=30)

    assert features.loc["yearly", "Plan"] == "Pro"
    assert features.loc["yearly", "ProfileTenureMonths"] == 99
    assert features.loc["yearly", "TenureMonths"] == 28
    assert features["Plan"].isna()["in_grace"]


def test_months_agree_at_month_end() -> None:
    starts = pd.Series(pd.to_datetime(["2024-01-31", "2023-03-31"]))

    moved = add_months(starts, np.array([1, 11]))

    assert list(moved) == [pd.Timestamp("2024-02-29"), pd.Timestamp("2024-02-29")]
    assert list(months_between(starts, moved)) == [1, 11]
    assert list(months_between(starts, moved - pd.Timedelta(days=1))) == [0, 10]
