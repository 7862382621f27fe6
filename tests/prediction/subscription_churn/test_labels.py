from __future__ import annotations

import pandas as pd

from server.prediction.subscription_churn.labels import (
    at_risk_customers,
    churn_labels,
    known_at,
    number_spells,
    summarise_spells,
)
from tests.prediction.subscription_churn.conftest import subscription_frame

CUTOFF = pd.Timestamp("2023-07-01")


def test_known_at_hides_later_starts_and_ends() -> None:
    subscriptions = subscription_frame(
        ("ended_before", "2023-01-01", "2023-06-30", 1, 10.0),
        ("ends_on_cutoff", "2023-01-01", "2023-07-01", 1, 10.0),
        ("starts_on_cutoff", "2023-07-01", None, 1, 10.0),
    )

    known = known_at(subscriptions, CUTOFF)

    assert list(known["customer_id"]) == ["ended_before", "ends_on_cutoff"]
    assert known["end_date"].iloc[0] == pd.Timestamp("2023-06-30")
    assert pd.isna(known["end_date"].iloc[1])


def test_spell_continues_within_churn_window() -> None:
    subscriptions = subscription_frame(
        ("late_renewal", "2022-01-01", "2022-12-31", 12, 120.0),
        ("late_renewal", "2023-01-20", None, 12, 132.0),
        ("came_back", "2022-01-01", "2022-06-30", 1, 10.0),
        ("came_back", "2022-09-01", "2022-12-31", 1, 10.0),
    )

    spells = summarise_spells(number_spells(subscriptions, churn_window_days=30))

    by_customer = spells.groupby("customer_id")["spell"].max()
    assert by_customer["late_renewal"] == 1
    assert by_customer["came_back"] == 2
    late = spells.loc[spells["customer_id"] == "late_renewal"].iloc[0]
    assert late["spell_start"] == pd.Timestamp("2022-01-01")
    assert pd.isna(late["spell_end"])


def test_labels_follow_window_and_grace() -> None:
    subscriptions = subscription_frame(
        ("ends_in_window", "2022-01-01", "2023-08-15", 1, 10.0),
        ("ends_after_window", "2022-01-01", "2023-12-15", 1, 10.0),
        ("renews_in_grace", "2022-01-01", "2023-08-15", 1, 10.0),
        ("renews_in_grace", "2023-09-01", None, 1, 10.0),
        ("active", "2022-01-01", None, 1, 10.0),
        ("lapsed_in_grace", "2022-01-01", "2023-06-20", 1, 10.0),
        ("lapsed_long_ago", "2022-01-01", "2023-01-31", 1, 10.0),
        ("starts_after_cutoff", "2023-07-02", "2023-08-01", 1, 10.0),
    )

    labels = churn_labels(subscriptions, CUTOFF, prediction_window_days=90, churn_window_days=30)

    assert labels.to_dict() == {
        "active": False,
        "ends_after_window": False,
        "ends_in_window": True,
        "lapsed_in_grace": True,
        "renews_in_grace": False,
    }


def test_end_on_last_day_of_window_counts() -> None:
    subscriptions = subscription_frame(
        ("last_day", "2022-01-01", "2023-09-28", 1, 10.0),
        ("day_after", "2022-01-01", "2023-09-29", 1, 10.0),
    )

    labels = churn_labels(subscriptions, CUTOFF, prediction_window_days=90, churn_window_days=0)

    assert labels.to_dict() == {"day_after": False, "last_day": True}


def test_at_risk_includes_grace_period() -> None:
    subscriptions = subscription_frame(
        ("active", "2023-01-01", None, 1, 10.0),
        ("ended_10_days_ago", "2023-01-01", "2023-06-21", 1, 10.0),
        ("ended_40_days_ago", "2023-01-01", "2023-05-22", 1, 10.0),
    )

    at_risk = at_risk_customers(known_at(subscriptions, CUTOFF), CUTOFF, churn_window_days=30)

    assert sorted(at_risk) == ["active", "ended_10_days_ago"]
