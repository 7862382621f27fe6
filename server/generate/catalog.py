"""The product catalog and the Zipf-like popularity that order lines draw products from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# (category, sub-category, median unit price, share of the catalog)
SUB_CATEGORIES: tuple[tuple[str, str, float, float], ...] = (
    ("Technology", "Phones", 220.0, 0.08),
    ("Technology", "Accessories", 45.0, 0.10),
    ("Technology", "Machines", 480.0, 0.03),
    ("Technology", "Copiers", 900.0, 0.01),
    ("Furniture", "Chairs", 180.0, 0.06),
    ("Furniture", "Tables", 320.0, 0.03),
    ("Furniture", "Bookcases", 210.0, 0.03),
    ("Furniture", "Furnishings", 35.0, 0.09),
    ("Office Supplies", "Paper", 12.0, 0.14),
    ("Office Supplies", "Binders", 9.0, 0.15),
    ("Office Supplies", "Storage", 60.0, 0.09),
    ("Office Supplies", "Art", 8.0, 0.08),
    ("Office Supplies", "Appliances", 95.0, 0.05),
    ("Office Supplies", "Labels", 5.0, 0.06),
)
ADJECTIVES = ("Classic", "Compact", "Deluxe", "Eco", "Essential", "Pro", "Smart", "Ultra")
# Standard deviation of log price around a sub-category's median.
PRICE_LOG_SD = 0.45


@dataclass(frozen=True)
class Catalog:
    """Products with their attributes, and each product's probability of being chosen.

    `rank` is the popularity rank (1 = most popular). Ranks are shuffled over the
    products, so the best sellers spread over the categories.
    """

    table: pa.Table
    price: np.ndarray
    rank: np.ndarray
    probability: np.ndarray
    cumulative: np.ndarray

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Draw `count` product indexes with the catalog's popularity."""
        uniform = rng.random(count) * self.cumulative[-1]
        picks = np.searchsorted(self.cumulative, uniform, side="right")
        return np.minimum(picks, len(self.cumulative) - 1)


def zipf_weights(products: int, exponent: float) -> np.ndarray:
    """Return the popularity share of ranks 1..`products`, proportional to rank ** -exponent."""
    weights = np.arange(1, products + 1, dtype=float) ** -exponent
    return weights / weights.sum()


def top_share(products: int, exponent: float, fraction: float) -> float:
    """Return the share of all lines that the top `fraction` of products are expected to get."""
    top = max(1, round(products * fraction))
    return float(zipf_weights(products, exponent)[:top].sum())


def build_catalog(rng: np.random.Generator, products: int, exponent: float) -> Catalog:
    """Build `products` products with categories, names and log-normal prices."""
    shares = np.array([item[3] for item in SUB_CATEGORIES])
    kind = rng.choice(len(SUB_CATEGORIES), size=products, p=shares / shares.sum())
    medians = np.array([item[2] for item in SUB_CATEGORIES])[kind]
    price = np.round(medians * np.exp(rng.normal(0.0, PRICE_LOG_SD, products)), 2)
    price = np.maximum(price, 0.5)
    adjective = rng.choice(len(ADJECTIVES), size=products)

    rank = rng.permutation(products) + 1
    probability = zipf_weights(products, exponent)[rank - 1]

    width = max(5, len(str(products)))
    names = [
        f"{ADJECTIVES[adjective[index]]} {SUB_CATEGORIES[kind[index]][1]} {index + 1}"
        for index in range(products)
    ]
    table = pa.table(
        {
            "ProductId": [f"P{index + 1:0{width}d}" for index in range(products)],
            "ProductName": names,
            "Category": [SUB_CATEGORIES[item][0] for item in kind],
            "SubCategory": [SUB_CATEGORIES[item][1] for item in kind],
            "Price": price,
            "PopularityRank": rank,
        }
    )
    return Catalog(
        table=table,
        price=price,
        rank=rank,
        probability=probability,
        cumulative=np.cumsum(probability),
    )
