"""Churn as lapsed coverage: who is still a subscriber at a cutoff, and who churned after it.

A customer's subscriptions form spells of coverage. A subscription that starts at
most `churn_window_days` after the latest end of the spell so far continues it, so a
renewal booked as a new subscription a few days late is not churn. A spell that ends
without such a successor is a churn, dated by its last end date.

At a cutoff c, only dates before c are known: subscriptions that start before c, and
end dates before c (a later end date reads as "still active"). The customers who can
churn are those with an active subscription at c or whose last end falls within
`churn_window_days` before c. A customer churned in the window of W days when the
spell they are in at c ends before c + W.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_EPOCH = pd.Timestamp("1970-01-01")


def day_numbers(dates: pd.Series) -> pd.Series:
    """Return days since 1970-01-01 as floats, with +inf for a missing (open) end date."""
    return ((dates - _EPOCH) / pd.Timedelta(days=1)).fillna(np.inf)


def known_at(subscriptions: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return the subscriptions as seen just before `cutoff`.

    Subscriptions starting on or after the cutoff are left out, and end dates on or
    after it become NaT, because at the cutoff those ends have not happened yet.
    """
    known = subscriptions.loc[subscriptions["start_date"] < cutoff].copy()
    known.loc[known["end_date"] >= cutoff, "end_date"] = pd.NaT
    return known


def number_spells(subscriptions: pd.DataFrame, churn_window_days: int) -> pd.DataFrame:
    """Return the subscriptions sorted by customer and start, with a `spell` number each.

    Spells are numbered from 1 per customer, in time order. `renews` marks a
    subscription that continues a spell after its coverage ended, as a renewal booked
    as a new row does, unlike one that starts while another is still running.
    """
    ordered = subscriptions.sort_values(["customer_id", "start_date"], kind="stable")
    customers = ordered["customer_id"]
    starts = day_numbers(ordered["start_date"])
    ends = day_numbers(ordered["end_date"])

    # How far the coverage so far reaches before each subscription; NaN for a first one.
    end_before = ends.groupby(customers).cummax().groupby(customers).shift(1)
    opens_spell = end_before.isna() | (starts > end_before + churn_window_days)
    return ordered.assign(
        spell=opens_spell.astype(int).groupby(customers).cumsum(),
        renews=~opens_spell & (starts >= end_before),
    )


def summarise_spells(numbered: pd.DataFrame) -> pd.DataFrame:
    """Return one row per spell: customer_id, spell, spell_start, spell_end (NaT if open)."""
    grouped = numbered.assign(is_open=numbered["end_date"].isna()).groupby(
        ["customer_id", "spell"], sort=True
    )
    spells = grouped.agg(
        spell_start=("start_date", "min"),
        spell_end=("end_date", "max"),
        is_open=("is_open", "any"),
    ).reset_index()
    spells.loc[spells["is_open"], "spell_end"] = pd.NaT
    return spells.drop(columns="is_open")


def at_risk_customers(
    known: pd.DataFrame, cutoff: pd.Timestamp, churn_window_days: int
) -> pd.Index:
    """Return the customers who can churn at `cutoff`, from the subscriptions `known_at` it."""
    grace_start = cutoff - pd.Timedelta(days=churn_window_days)
    covered = known["end_date"].isna() | (known["end_date"] >= grace_start)
    return pd.Index(known.loc[covered, "customer_id"].unique(), name="customer_id")


def churn_labels(
    subscriptions: pd.DataFrame,
    cutoff: pd.Timestamp,
    prediction_window_days: int,
    churn_window_days: int,
) -> pd.Series:
    """Return, for each customer at risk at `cutoff`, whether they churned in the window.

    The labels read every subscription, including those after the cutoff. A spell
    whose last end is less than `churn_window_days` before the end of the data, with
    no successor recorded, still counts as a churn.
    """
    at_risk = at_risk_customers(known_at(subscriptions, cutoff), cutoff, churn_window_days)
    spells = summarise_spells(number_spells(subscriptions, churn_window_days))

    # The spell a customer is in at the cutoff is their last one that started before it.
    started = spells.loc[spells["spell_start"] < cutoff]
    current = started.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    ends = current["spell_end"].reindex(at_risk)
    window_end = cutoff + pd.Timedelta(days=prediction_window_days)
    return pd.Series(ends.notna() & (ends < window_end), index=at_risk, name="churned")
