"""Features of each at-risk customer at a cutoff, from what was known before it.

Every history feature reads `known_at(subscriptions, cutoff)`, so an end date on or
after the cutoff (such as the churn that a label records) cannot leak into them.

NOTE: profile attributes are stored as they are now, not as they were at a past
cutoff. An attribute that changes when a customer leaves would leak into training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from server.prediction.subscription_churn.history import SubscriptionHistory
from server.prediction.subscription_churn.labels import (
    at_risk_customers,
    known_at,
    number_spells,
)
from server.prediction.subscription_churn.months import add_months, months_between

HISTORY_FEATURES = (
    "TenureMonths",
    "Renewals",
    "Resubscriptions",
    "ActiveSubscriptions",
    "ContractMonths",
    "MonthlyAmount",
    "AmountChangePercent",
    "AmountChanges",
    "PlanChanges",
    "IsRecurring",
    "DaysToNextRenewal",
    "DaysSinceLastEnd",
)
"""Subscription history features, in the order of the feature table."""

# Monthly amounts that differ by less than this share count as unchanged (rounding).
AMOUNT_CHANGE_TOLERANCE = 0.005


def build_features(
    history: SubscriptionHistory, cutoff: pd.Timestamp, churn_window_days: int
) -> pd.DataFrame:
    """Return one row per customer at risk at `cutoff`, indexed by customer id.

    The columns are `HISTORY_FEATURES` and then the profile attributes; a profile
    attribute named like a history feature gets the prefix "Profile".
    """
    known = known_at(history.subscriptions, cutoff)
    at_risk = at_risk_customers(known, cutoff, churn_window_days)
    known = known.loc[known["customer_id"].isin(at_risk)]
    numbered = number_spells(known, churn_window_days)
    numbered["stop"] = numbered["end_date"].fillna(cutoff)

    features = pd.concat(
        [
            _tenure_and_renewals(numbered),
            _latest_plan(numbered, cutoff),
            _changes(numbered),
        ],
        axis=1,
    )
    features = features.loc[:, list(HISTORY_FEATURES)].reindex(at_risk)
    return _join_profile(features, history.profile)


def _tenure_and_renewals(numbered: pd.DataFrame) -> pd.DataFrame:
    customers = numbered["customer_id"]
    last_spell = numbered.groupby(customers)["spell"].transform("max")
    current = numbered.loc[numbered["spell"] == last_spell]

    months = months_between(current["start_date"], current["stop"])
    renewals = (months // current["recurrence_months"]).where(current["is_recurring"], 0)
    by_customer = current.assign(months=months, renewals=renewals).groupby("customer_id")
    return pd.DataFrame(
        {
            "TenureMonths": months_between(
                by_customer["start_date"].min(), by_customer["stop"].max()
            ),
            "Renewals": by_customer["renewals"].sum() + by_customer["renews"].sum(),
            "Resubscriptions": numbered.groupby("customer_id")["spell"].max() - 1,
            "ActiveSubscriptions": numbered["end_date"].isna().groupby(customers).sum(),
        }
    )


def _latest_plan(numbered: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Describe each customer's current plan: their latest active subscription, if any.

    A customer in the grace period has no active subscription, so their latest one
    is used instead. MonthlyAmount adds up all active subscriptions, as monthly amounts.
    """
    is_open = numbered["end_date"].isna()
    monthly = numbered["recurring_amount"] / numbered["recurrence_months"]
    by_openness = numbered.assign(is_open=is_open, monthly=monthly).sort_values(
        ["customer_id", "is_open", "start_date"], kind="stable"
    )
    latest = by_openness.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    active_monthly = monthly.where(is_open, 0.0).groupby(numbered["customer_id"]).sum()
    last_end = numbered.groupby("customer_id")["end_date"].max()
    return pd.DataFrame(
        {
            "ContractMonths": latest["recurrence_months"],
            "MonthlyAmount": active_monthly.where(latest["is_open"], latest["monthly"]),
            "IsRecurring": latest["is_recurring"],
            "DaysToNextRenewal": _days_to_next_renewal(latest, cutoff).where(latest["is_open"], 0),
            "DaysSinceLastEnd": ((cutoff - last_end).dt.days).where(~latest["is_open"], 0),
        }
    )


def _days_to_next_renewal(latest: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Return the days from the cutoff to the next renewal, or to the term end if not recurring.

    A renewal that falls on the cutoff day counts as 0 days away.
    """
    starts = latest["start_date"]
    recurrence = latest["recurrence_months"]
    cutoffs = pd.Series(cutoff, index=latest.index)

    periods = months_between(starts, cutoffs) // recurrence
    last_renewal = add_months(starts, periods * recurrence)
    next_renewal = add_months(starts, (periods + 1) * recurrence)
    days = (next_renewal - cutoff).dt.days.where(~((periods >= 1) & (last_renewal == cutoff)), 0)
    term_days = (add_months(starts, recurrence) - cutoff).dt.days.clip(lower=0)
    return days.where(latest["is_recurring"], term_days)


def _changes(numbered: pd.DataFrame) -> pd.DataFrame:
    monthly = numbered["recurring_amount"] / numbered["recurrence_months"]
    customers = numbered["customer_id"]
    previous_monthly = monthly.groupby(customers).shift(1)
    previous_recurrence = numbered["recurrence_months"].groupby(customers).shift(1)

    relative = (monthly - previous_monthly) / previous_monthly.where(previous_monthly > 0)
    amount_changed = previous_monthly.notna() & (
        (relative.abs() > AMOUNT_CHANGE_TOLERANCE) | ((previous_monthly == 0) & (monthly > 0))
    )
    plan_changed = previous_recurrence.notna() & (
        previous_recurrence != numbered["recurrence_months"]
    )
    latest_change = (relative * 100).fillna(0.0).groupby(customers).last()
    return pd.DataFrame(
        {
            "AmountChangePercent": latest_change,
            "AmountChanges": amount_changed.groupby(customers).sum(),
            "PlanChanges": plan_changed.groupby(customers).sum(),
        }
    )


def _join_profile(features: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    renamed = profile.rename(
        columns={column: f"Profile{column}" for column in profile.columns if column in features}
    )
    joined = features.join(renamed, how="left")
    joined.index.name = "customer_id"
    return joined


def feature_kinds(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split the feature columns into numeric (numbers and booleans) and categorical ones."""
    numeric = [
        str(column)
        for column in features.columns
        if pd.api.types.is_numeric_dtype(features[column])
        or pd.api.types.is_bool_dtype(features[column])
    ]
    categorical = [str(column) for column in features.columns if column not in numeric]
    return numeric, categorical


def as_numbers(values: pd.Series) -> np.ndarray:
    """Return a numeric or boolean column as floats, with NaN for missing values."""
    return values.to_numpy(dtype=float, na_value=np.nan)
