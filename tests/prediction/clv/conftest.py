"""CDNOW data for the lifetime value tests, read straight from the bundled files."""

from __future__ import annotations

import pandas as pd
import pytest

from server.prediction.clv.summary import rfm_summary
from tests.conftest import DATA

CALIBRATION_END = "1997-09-30"
"""End of the 39-week calibration period of the published CDNOW results."""


def read_cdnow_sample() -> pd.DataFrame:
    """Return the 1/10 CDNOW cohort as order lines: customer_id, order_date, amount."""
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt.gz",
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_id_in_master", "date", "number_of_cds", "dollar_value"],
        dtype={"customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"],
        }
    )


@pytest.fixture(scope="session")
def cdnow_sample() -> pd.DataFrame:
    return read_cdnow_sample()


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow_sample: pd.DataFrame) -> pd.DataFrame:
    """The recency-frequency-monetary summary of the 39-week calibration period, in weeks."""
    return rfm_summary(cdnow_sample, CALIBRATION_END, time_unit="weeks")
