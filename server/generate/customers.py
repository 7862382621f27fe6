"""Customer profiles: CustomerId, market segment and place."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from server.generate.geography import SEGMENT_WEIGHTS, SEGMENTS, place_column, place_probabilities

PLACE_COLUMNS = ("Country", "Region", "State", "City")


def customer_ids(first_index: int, count: int, width: int) -> pa.Array:
    """Return ids "C" + zero-padded number for customers first_index + 1 .. first_index + count."""
    numbers = pa.array(np.arange(first_index + 1, first_index + count + 1))
    padded = pc.utf8_lpad(pc.cast(numbers, pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise("C", padded, "")


def build_profiles(rng: np.random.Generator, ids: pa.Array) -> pa.Table:
    """Draw a market segment and a place for each customer of `ids`."""
    count = len(ids)
    segment = rng.choice(len(SEGMENTS), size=count, p=SEGMENT_WEIGHTS)
    place = rng.choice(len(place_probabilities()), size=count, p=place_probabilities())

    columns: dict[str, pa.Array] = {
        "CustomerId": ids,
        "Segment": pa.array(SEGMENTS).take(pa.array(segment)),
    }
    for index, name in enumerate(PLACE_COLUMNS):
        columns[name] = pa.array(place_column(index)).take(pa.array(place))
    return pa.table(columns)
