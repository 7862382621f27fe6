"""Parameters of the synthetic data generator, with defaults for a three-year history."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date


@dataclass(frozen=True)
class GeneratorParameters:
    """The processes behind the generated data; every rate is per day.

    Purchases follow BG/NBD (Fader, Hardie and Lee, 2005): each customer's purchase
    rate λ is Gamma(shape `r`, rate `alpha`), and after each repeat purchase the
    customer drops out with a probability p drawn from Beta(`a`, `b`). Spend per order
    follows the gamma-gamma model (Colombo and Jiang, 1999): an order's spend is
    Gamma(shape `spend_p`, rate ν), with ν drawn per customer from Gamma(shape
    `spend_q`, rate `spend_v`), so the mean spend per order is
    spend_p * spend_v / (spend_q - 1).

    Customers are generated in blocks of `block_customers`, each from its own random
    stream, so the block size is part of what a seed means. The number of customers
    written per chunk is not.
    """

    start: date = date(2021, 1, 1)
    end: date = date(2023, 12, 31)
    r: float = 0.9
    alpha: float = 20.0
    a: float = 2.0
    b: float = 14.0
    spend_p: float = 6.0
    spend_q: float = 3.5
    spend_v: float = 40.0
    products: int = 5_000
    # Popularity of rank k is proportional to k ** -zipf_exponent. At 0.9 over 5,000
    # products the top 1% get about 38% of the lines and the top 20% about 75%.
    zipf_exponent: float = 0.9
    # Poisson means of the lines beyond an order's first, and of the units beyond a line's first.
    extra_lines_per_order: float = 1.5
    extra_units_per_line: float = 0.4
    subscriber_share: float = 0.3
    block_customers: int = 1_000

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        positive = ("r", "alpha", "a", "b", "spend_p", "spend_q", "spend_v", "zipf_exponent")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.products < 1 or self.block_customers < 1:
            raise ValueError("products and block_customers must be at least 1")
        if not 0.0 <= self.subscriber_share <= 1.0:
            raise ValueError(f"subscriber_share must be from 0 to 1, got {self.subscriber_share}")
        if self.extra_lines_per_order < 0 or self.extra_units_per_line < 0:
            raise ValueError("extra_lines_per_order and extra_units_per_line must not be negative")

    @property
    def days(self) -> int:
        """Days in the observation period, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def mean_order_spend(self) -> float:
        """The gamma-gamma mean spend per order; infinite when spend_q <= 1."""
        if self.spend_q <= 1:
            return float("inf")
        return self.spend_p * self.spend_v / (self.spend_q - 1)

    def as_dict(self) -> dict[str, object]:
        return {item.name: getattr(self, item.name) for item in fields(self)}
