"""Purchase times from the BG/NBD buy-till-you-die process, and its expectations.

Each customer makes a first purchase at a uniform time in the period. After it,
purchases arrive as a Poisson process of rate λ, and after each repeat purchase the
customer drops out for good with probability p. The number of repeat purchases in
(first purchase, end of period] is then min(N, M), where N ~ Geometric(p) counts the
purchases up to dropout and M ~ Poisson(λ T) counts the arrivals the period allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, special, stats

from server.generate.parameters import GeneratorParameters


@dataclass(frozen=True)
class Purchases:
    """The purchases of a block of customers, in days since the start of the period.

    `first` and `T` (time from the first purchase to the end of the period) have one
    value per customer, and `dropped` is true for customers who dropped out before the
    end. `owner` and `time` have one value per purchase, first purchases included,
    sorted by customer and then time. `dropout` is each customer's p.
    """

    first: np.ndarray
    T: np.ndarray
    dropped: np.ndarray
    dropout: np.ndarray
    owner: np.ndarray
    time: np.ndarray


def simulate_purchases(
    rng: np.random.Generator, customers: int, parameters: GeneratorParameters
) -> Purchases:
    """Draw the purchase times of `customers` customers."""
    rate = rng.gamma(parameters.r, 1.0 / parameters.alpha, customers)
    dropout = rng.beta(parameters.a, parameters.b, customers)
    first = rng.uniform(0.0, parameters.days, customers)
    T = parameters.days - first

    arrivals = rng.poisson(rate * T)
    until_dropout = rng.geometric(dropout)
    repeats = np.minimum(until_dropout, arrivals)
    repeat_times = _first_order_statistics(rng, repeats, arrivals, T)

    purchases = repeats + 1
    owner = np.repeat(np.arange(customers), purchases)
    starts = np.cumsum(purchases) - purchases
    time = np.empty(int(purchases.sum()))
    is_first = np.zeros(len(time), dtype=bool)
    is_first[starts] = True
    time[is_first] = first
    time[~is_first] = first[np.repeat(np.arange(customers), repeats)] + repeat_times
    return Purchases(
        first=first,
        T=T,
        dropped=until_dropout <= arrivals,
        dropout=dropout,
        owner=owner,
        time=time,
    )


def _first_order_statistics(
    rng: np.random.Generator, wanted: np.ndarray, total: np.ndarray, span: np.ndarray
) -> np.ndarray:
    """Draw, per customer, the `wanted` smallest of `total` uniform times on (0, span].

    With S_k the running sums of exponential draws, S_k / S_(total+1) are the order
    statistics of `total` uniforms. Only the first `wanted` sums are drawn, and the
    remainder S_(total+1) - S_wanted is one Gamma(total - wanted + 1) draw.
    """
    owner = np.repeat(np.arange(len(wanted)), wanted)
    sums = np.cumsum(rng.standard_exponential(int(wanted.sum())))
    ends = np.cumsum(wanted)
    before = np.concatenate(([0.0], sums))[ends - wanted]
    running = sums - before[owner]

    last = np.where(wanted > 0, np.concatenate(([0.0], sums))[ends] - before, 0.0)
    whole = last + rng.standard_gamma(total - wanted + 1.0)
    return span[owner] * running / whole[owner]


def expected_repeat_purchases(T: np.ndarray, parameters: GeneratorParameters) -> np.ndarray:
    """Return E[X(T)], the BG/NBD expected repeat purchases in a period of length `T`.

    E[X(t)] = (a + b - 1) / (a - 1) * (1 - (α / (α + t))^r * 2F1(r, b; a + b - 1; t / (α + t)))
    (Fader, Hardie and Lee, 2005, equation 9), which needs a > 1.
    """
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    if a <= 1:
        raise ValueError(f"E[X(t)] is finite only for a > 1, got a = {a}")
    t = np.asarray(T, dtype=float)
    hypergeometric = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hypergeometric)


def probability_alive(T: float, parameters: GeneratorParameters) -> float:
    """Return the probability that a customer is still active `T` days after the first purchase.

    Given λ and p the customer survives each of M ~ Poisson(λ T) arrivals with
    probability 1 - p, so P(alive) = E[exp(-λ p T)] = E_p[(α / (α + p T))^r] after
    integrating λ out; the remaining integral over p ~ Beta(a, b) is numerical.
    """
    r, alpha = parameters.r, parameters.alpha
    beta = stats.beta(parameters.a, parameters.b)

    def integrand(p: float) -> float:
        return float((alpha / (alpha + p * T)) ** r * beta.pdf(p))

    value, _error = integrate.quad(integrand, 0.0, 1.0)
    return float(value)
