"""Where customers live: a weighted table of places and the market segments.

The weights are rough shares of a retailer's customers, skewed toward large cities
and toward the United States, so that a segment on Country or City has a long tail.
"""

from __future__ import annotations

import numpy as np

# (country, region, state, city, weight)
PLACES: tuple[tuple[str, str, str, str, float], ...] = (
    ("United States", "East", "New York", "New York City", 9.0),
    ("United States", "West", "California", "Los Angeles", 7.5),
    ("United States", "Central", "Illinois", "Chicago", 5.0),
    ("United States", "Central", "Texas", "Houston", 4.0),
    ("United States", "East", "Pennsylvania", "Philadelphia", 3.5),
    ("United States", "West", "Washington", "Seattle", 3.5),
    ("United States", "West", "California", "San Francisco", 3.0),
    ("United States", "South", "Florida", "Miami", 2.5),
    ("United States", "South", "Georgia", "Atlanta", 2.0),
    ("United States", "Central", "Texas", "Dallas", 2.0),
    ("United States", "West", "Arizona", "Phoenix", 1.5),
    ("United States", "East", "Massachusetts", "Boston", 1.5),
    ("United States", "Central", "Michigan", "Detroit", 1.2),
    ("United States", "South", "Tennessee", "Nashville", 1.0),
    ("United States", "West", "Colorado", "Denver", 1.0),
    ("United States", "South", "Kentucky", "Louisville", 0.5),
    ("United States", "Central", "Iowa", "Des Moines", 0.3),
    ("United States", "West", "Montana", "Billings", 0.1),
    ("United Kingdom", "Europe", "England", "London", 4.0),
    ("United Kingdom", "Europe", "England", "Manchester", 1.2),
    ("United Kingdom", "Europe", "Scotland", "Glasgow", 0.6),
    ("Germany", "Europe", "Berlin", "Berlin", 2.5),
    ("Germany", "Europe", "Bavaria", "Munich", 1.8),
    ("Germany", "Europe", "Hamburg", "Hamburg", 1.0),
    ("France", "Europe", "Île-de-France", "Paris", 3.0),
    ("France", "Europe", "Auvergne-Rhône-Alpes", "Lyon", 0.8),
    ("Canada", "North", "Ontario", "Toronto", 2.5),
    ("Canada", "North", "Quebec", "Montreal", 1.5),
    ("Canada", "North", "British Columbia", "Vancouver", 1.2),
    ("Australia", "Oceania", "New South Wales", "Sydney", 1.8),
    ("Australia", "Oceania", "Victoria", "Melbourne", 1.5),
    ("Brazil", "South America", "São Paulo", "São Paulo", 1.0),
    ("Japan", "Asia", "Tokyo", "Tokyo", 0.8),
)

SEGMENTS = ("Consumer", "Corporate", "Home Office")
SEGMENT_WEIGHTS = (0.52, 0.30, 0.18)


def place_probabilities() -> np.ndarray:
    weights = np.array([place[4] for place in PLACES])
    return weights / weights.sum()


def place_column(index: int) -> list[str]:
    """Return column `index` (0 country, 1 region, 2 state, 3 city) of `PLACES`."""
    return [str(place[index]) for place in PLACES]
