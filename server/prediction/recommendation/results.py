"""The output entity rows and the statistics shown beside a recommendation run's grade."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from server.prediction.recommendation.interactions import Interactions, day_label
from server.prediction.recommendation.model import REASONS, Recommendations

MODEL_VERSION = "item-knn-popularity-1"
OUTPUT_COLUMNS = (
    "CustomerId",
    "ProductId",
    "Score",
    "Rank",
    "Reason",
    "ProductName",
    "Category",
    "SubCategory",
    "ScoredAt",
    "ModelVersion",
)
MOST_RECOMMENDED_SHOWN = 10


def output_rows(
    recommendations: Recommendations,
    interactions: Interactions,
    catalog: pd.DataFrame,
    scored_at: pd.Timestamp,
) -> pd.DataFrame:
    """Build the output entity: one row per customer and recommended product.

    `catalog` is indexed like `interactions.products`; products missing from the
    catalog get empty ProductName, Category and SubCategory.
    """
    products = recommendations.products
    rows = pd.DataFrame(
        {
            "CustomerId": interactions.customers.to_numpy()[recommendations.customers],
            "ProductId": interactions.products.to_numpy()[products],
            "Score": recommendations.scores.astype(np.float64),
            "Rank": recommendations.ranks.astype(np.int64),
            "Reason": np.asarray(REASONS, dtype=object)[recommendations.reasons],
            "ProductName": catalog["name"].to_numpy()[products],
            "Category": catalog["category"].to_numpy()[products],
            "SubCategory": catalog["sub_category"].to_numpy()[products],
            "ScoredAt": scored_at,
            "ModelVersion": MODEL_VERSION,
        }
    )
    return rows[list(OUTPUT_COLUMNS)]


def most_recommended(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the products recommended to the most customers, with how often they rank first."""
    customers = rows["CustomerId"].nunique()
    counted = rows.groupby("ProductId", sort=False).agg(
        customers=("CustomerId", "size"),
        first_choice=("Rank", lambda ranks: int((ranks == 1).sum())),
        ProductName=("ProductName", "first"),
        Category=("Category", "first"),
    )
    counted = counted.sort_values(["customers", "first_choice"], ascending=False, kind="stable")
    shown = counted.head(MOST_RECOMMENDED_SHOWN).reset_index()
    listed = []
    for row in shown.to_dict(orient="records"):
        listed.append(
            {
                "ProductId": str(row["ProductId"]),
                "ProductName": None if pd.isna(row["ProductName"]) else str(row["ProductName"]),
                "Category": None if pd.isna(row["Category"]) else str(row["Category"]),
                "customers": int(row["customers"]),
                "share_of_customers": row["customers"] / customers if customers else 0.0,
                "first_choice": int(row["first_choice"]),
            }
        )
    return listed


def data_statistics(
    interactions: Interactions,
    catalog: pd.DataFrame,
    allowed: np.ndarray | None,
    training_history_rows: int,
) -> dict[str, Any]:
    """Describe the purchases and catalog a run used."""
    per_customer = np.bincount(
        np.unique(
            interactions.customer_codes.astype(np.int64) * len(interactions.products)
            + interactions.product_codes
        )
        // len(interactions.products),
        minlength=len(interactions.customers),
    )
    in_catalog = int(catalog["product_id"].notna().sum())
    return {
        "customers": len(interactions.customers),
        "products": len(interactions.products),
        "purchase_lines": len(interactions.days),
        "first_purchase": day_label(interactions.first_day),
        "last_purchase": day_label(interactions.last_day),
        "median_products_per_customer": float(np.median(per_customer)),
        "customers_with_one_product": int((per_customer == 1).sum()),
        "customers_without_history_in_lookback": len(interactions.customers)
        - training_history_rows,
        "products_in_catalog": in_catalog,
        "products_missing_from_catalog": len(interactions.products) - in_catalog,
        "allowed_products": len(interactions.products) if allowed is None else int(allowed.sum()),
    }


def reason_counts(rows: pd.DataFrame) -> dict[str, int]:
    counts = rows["Reason"].value_counts()
    return {reason: int(counts.get(reason, 0)) for reason in REASONS}
