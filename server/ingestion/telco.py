"""Deriving a subscription history and a customer profile from the IBM Telco churn sample.

The sample (data/telco_churn.csv.gz) is one snapshot: each row is a customer with a
tenure in months, a contract type, a monthly charge and whether they churned. It has
no dates and no customer ids, so the derivation makes both, deterministically:

- Customer ids are "T" plus the zero-padded row number (`rownames` 1 becomes T0001),
  and each customer's single subscription is "TS" plus the same number.
- The snapshot is taken on `REFERENCE_DATE`. A subscription starts `tenure` calendar
  months before it, and a churned customer's subscription ends on it. Everyone
  else's is still active, with an empty end date.
- The contract sets the recurrence (Month-to-month 1, One year 12, Two year 24
  months), and the recurring amount is the monthly charge times the recurrence.
- Every other column except churn becomes a profile attribute with a readable name.

Every churned subscription ends on the reference date, so a model must not read end
dates on or after its cutoff. The subscription churn features read only the past.

Run `python -m server.ingestion.telco` to write data/telco_subscriptions.csv.gz and
data/telco_profile.csv.gz again.
"""

from __future__ import annotations

import argparse
import gzip
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from server.ingestion.subscriptions import SubscriptionLoadReport, load_subscriptions

REFERENCE_DATE = date(2024, 1, 1)
CONTRACT_MONTHS = {"Month-to-month": 1, "One year": 12, "Two year": 24}
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RAW_FILE = "telco_churn.csv.gz"
SUBSCRIPTIONS_FILE = "telco_subscriptions.csv.gz"
PROFILE_FILE = "telco_profile.csv.gz"
SOURCE = "telco"
PROFILE_ENTITY = "TelcoProfile"

# Raw columns and the readable attribute each becomes, in the sample's order. The
# 0/1 columns become booleans and the text columns keep their values.
_ATTRIBUTES = {
    "senior_citizen": "SeniorCitizen",
    "partner": "Partner",
    "dependents": "Dependents",
    "phone_service": "PhoneService",
    "multiple_lines": "MultipleLines",
    "internet_service": "InternetService",
    "online_security": "OnlineSecurity",
    "online_backup": "OnlineBackup",
    "device_protection": "DeviceProtection",
    "tech_support": "TechSupport",
    "streaming_tv": "StreamingTV",
    "streaming_movies": "StreamingMovies",
    "contract": "Contract",
    "paperless_billing": "PaperlessBilling",
    "payment_method": "PaymentMethod",
}
_FLAG_COLUMNS = frozenset(
    {"senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"}
)
RAW_COLUMNS = (
    "rownames",
    "churn",
    "female",
    "tenure",
    "monthly_charges",
    "total_charges",
    *_ATTRIBUTES,
)


@dataclass(frozen=True)
class TelcoTables:
    """The derived subscriptions (one per customer) and customer profile."""

    subscriptions: pd.DataFrame
    profile: pd.DataFrame


def derive_telco(raw: pd.DataFrame) -> TelcoTables:
    """Derive subscriptions and profile from the raw sample; see the module docstring."""
    missing = [column for column in RAW_COLUMNS if column not in raw.columns]
    if missing:
        raise ValueError(f"the Telco sample is missing the columns {missing}; use {RAW_FILE}")
    unknown = sorted(set(raw["contract"]) - set(CONTRACT_MONTHS))
    if unknown:
        raise ValueError(f"unknown contract types {unknown}; known: {list(CONTRACT_MONTHS)}")

    numbers = raw["rownames"].astype(int).map("{:04d}".format)
    customer_ids = "T" + numbers
    return TelcoTables(
        subscriptions=_subscriptions(raw, customer_ids, "TS" + numbers),
        profile=_profile(raw, customer_ids),
    )


def _subscriptions(raw: pd.DataFrame, customer_ids: pd.Series, ids: pd.Series) -> pd.DataFrame:
    reference = pd.Timestamp(REFERENCE_DATE)
    start_of_tenure = {
        months: (reference - pd.DateOffset(months=months)).date().isoformat()
        for months in raw["tenure"].unique().tolist()
    }
    recurrence = raw["contract"].map(CONTRACT_MONTHS).astype(int)
    churned = raw["churn"] == "Yes"
    return pd.DataFrame(
        {
            "subscription_id": ids,
            "customer_id": customer_ids,
            "start_date": raw["tenure"].map(start_of_tenure),
            "end_date": churned.map({True: REFERENCE_DATE.isoformat(), False: ""}),
            "recurrence_months": recurrence,
            "recurring_amount": (raw["monthly_charges"] * recurrence).round(2),
            "is_recurring": True,
        }
    )


def _profile(raw: pd.DataFrame, customer_ids: pd.Series) -> pd.DataFrame:
    profile = pd.DataFrame({"CustomerId": customer_ids})
    profile["Gender"] = raw["female"].map({1: "Female", 0: "Male"})
    for column, attribute in _ATTRIBUTES.items():
        flag = column in _FLAG_COLUMNS
        profile[attribute] = raw[column].astype(bool) if flag else raw[column]
    # Empty for the 11 customers with a tenure of 0, who have not been billed yet.
    profile["TotalCharges"] = raw["total_charges"]
    return profile


def to_csv_text(frame: pd.DataFrame) -> str:
    """Render `frame` as the CSV text the shipped files contain."""
    return frame.to_csv(index=False, lineterminator="\n")


def write_telco_files(data_dir: Path = DATA_DIR) -> TelcoTables:
    """Derive the tables from the raw sample in `data_dir` and write them beside it.

    The gzip headers carry no name or time, so the same input gives the same bytes.
    """
    tables = derive_telco(pd.read_csv(data_dir / RAW_FILE))
    for name, frame in ((SUBSCRIPTIONS_FILE, tables.subscriptions), (PROFILE_FILE, tables.profile)):
        with (
            open(data_dir / name, "wb") as raw_file,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw_file, mtime=0) as packed,
        ):
            packed.write(to_csv_text(frame).encode("utf-8"))
    return tables


def load_telco(
    engine: Engine,
    data_dir: Path = DATA_DIR,
    source: str = SOURCE,
    profile_entity_name: str = PROFILE_ENTITY,
) -> SubscriptionLoadReport:
    """Load the shipped Telco subscriptions, with their profile as `profile_entity_name`."""
    subscriptions = pd.read_csv(data_dir / SUBSCRIPTIONS_FILE, dtype=str, keep_default_na=False)
    profile = pd.read_csv(data_dir / PROFILE_FILE)
    with_attributes = subscriptions.merge(
        profile.rename(columns={"CustomerId": "customer_id"}), on="customer_id", how="left"
    )
    return load_subscriptions(engine, with_attributes, source, profile_entity_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DATA_DIR,
        help=f"folder with {RAW_FILE}, where the derived files are written",
    )
    arguments = parser.parse_args(argv)
    tables = write_telco_files(arguments.data_dir)
    print(
        f"wrote {len(tables.subscriptions)} subscriptions to {SUBSCRIPTIONS_FILE} and "
        f"{len(tables.profile)} profile rows to {PROFILE_FILE} in {arguments.data_dir}"
    )


if __name__ == "__main__":
    main()
