"""Benchmark the recommender against `implicit`'s item-kNN on generated purchases.

    python bench/recommendation.py [--customers 1000000] [--products 50000]
        [--implicit-python /path/to/python] [--limit-gib 24]

The script draws seeded purchases, writes them to one file, and then runs each
recommender in a fresh child process: ours (`ItemKNNRecommender`, shrunk cosine, 100
neighbours) and `implicit.nearest_neighbours.CosineRecommender` (K=100). Each child
fits on the purchases before the last 30 days, recommends 10 products to every
customer with purchases already bought left out, and reports its seconds, its peak
resident memory (`ru_maxrss`) and Success@10 on the last 30 days. The children run
one after the other, so they never share memory or cores.

`implicit` may live in another virtual environment (`--implicit-python`), because
it is not a dependency of the project; the implicit child imports only numpy, scipy
and implicit. Ratios are ours / implicit: below 1 is faster or smaller.

The generated data: product popularity follows a Zipf law (exponent 1), each
customer has one of 1,000 tastes that prefers 200 products, and half of a customer's
lines come from their taste, so co-purchases carry signal. Purchase counts per
customer are 1 plus a geometric count with mean 7. Days are uniform over one year.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240601
TASTES = 1_000
TASTE_PRODUCTS = 200
TASTE_SHARE = 0.5
MEAN_EXTRA_PURCHASES = 7
DAYS = 365
HOLDOUT_DAYS = 30
K = 10
NEIGHBOURS = 100
RESULT_MARKER = "RECOMMENDATION-RESULT "


def zipf_cumulative(count: int, rng: np.random.Generator) -> np.ndarray:
    """Return the cumulative Zipf shares of `count` products in a random order."""
    weights = 1.0 / np.arange(1, count + 1)
    weights = weights[rng.permutation(count)]
    return np.cumsum(weights / weights.sum())


def draw(cumulative: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cumulative, uniform, side="right"), len(cumulative) - 1)


def generate(customers: int, products: int, seed: int) -> dict[str, np.ndarray]:
    """Draw purchase lines as (customer, product, day) arrays."""
    rng = np.random.default_rng(seed)
    lines_per_customer = rng.geometric(1 / (MEAN_EXTRA_PURCHASES + 1), customers)
    customer = np.repeat(np.arange(customers, dtype=np.int32), lines_per_customer)
    lines = len(customer)

    popularity = zipf_cumulative(products, rng)
    taste_products = rng.choice(products, size=(TASTES, TASTE_PRODUCTS))
    taste_shares = zipf_cumulative(TASTE_PRODUCTS, rng)
    taste = rng.integers(0, TASTES, customers)[customer]

    from_taste = rng.random(lines) < TASTE_SHARE
    product = draw(popularity, rng.random(lines)).astype(np.int32)
    picks = draw(taste_shares, rng.random(int(from_taste.sum())))
    product[from_taste] = taste_products[taste[from_taste], picks]
    day = rng.integers(0, DAYS, lines).astype(np.int32)
    return {"customer": customer, "product": product, "day": day}


def split(data: dict[str, np.ndarray], customers: int, products: int) -> tuple[Any, Any]:
    """Return the training matrix (counts) and the holdout matrix (binary)."""
    training = data["day"] < DAYS - HOLDOUT_DAYS
    shape = (customers, products)

    def matrix(keep: np.ndarray) -> sp.csr_matrix:
        ones = np.ones(int(keep.sum()), dtype=np.float32)
        built = sp.csr_matrix((ones, (data["customer"][keep], data["product"][keep])), shape=shape)
        built.sum_duplicates()
        return built

    holdout = matrix(~training)
    holdout.data[:] = 1.0
    return matrix(training), holdout


def success_at_k(recommended: np.ndarray, history: sp.csr_matrix, holdout: sp.csr_matrix) -> float:
    """Share of customers with purchases before and new purchases in the holdout who got a hit.

    `recommended` has one row of K product columns per customer, -1 for an empty place.
    """
    new = (holdout - holdout.multiply(history.astype(bool))).tocsr()
    new.eliminate_zeros()
    graded = np.flatnonzero((np.diff(history.indptr) > 0) & (np.diff(new.indptr) > 0))
    rows = np.repeat(graded, recommended.shape[1])
    columns = recommended[graded].ravel()
    valid = columns >= 0
    hit = np.zeros(len(rows), dtype=bool)
    hit[valid] = np.asarray(new[rows[valid], columns[valid]]).ravel() > 0
    return float(hit.reshape(len(graded), -1).any(axis=1).mean())


def run_ours(history: sp.csr_matrix) -> tuple[np.ndarray, float, float]:
    sys.path.insert(0, str(ROOT))
    from server.prediction.recommendation.model import ItemKNNRecommender

    started = time.perf_counter()
    model = ItemKNNRecommender(similarity_weight=1.0, neighbours=NEIGHBOURS, seed=SEED)
    model.fit(history)
    fitted = time.perf_counter()
    recommended = model.recommend(history, K, exclude=history)
    scored = time.perf_counter()

    table = np.full((history.shape[0], K), -1, dtype=np.int64)
    table[recommended.customers, recommended.ranks - 1] = recommended.products
    return table, fitted - started, scored - fitted


def run_implicit(history: sp.csr_matrix) -> tuple[np.ndarray, float, float]:
    from implicit.nearest_neighbours import CosineRecommender

    started = time.perf_counter()
    model = CosineRecommender(K=NEIGHBOURS)
    model.fit(history, show_progress=False)
    fitted = time.perf_counter()
    customers = np.arange(history.shape[0])
    table = np.full((history.shape[0], K), -1, dtype=np.int64)
    batch = 100_000
    for start in range(0, len(customers), batch):
        chosen = customers[start : start + batch]
        ids, _ = model.recommend(chosen, history[chosen], N=K, filter_already_liked_items=True)
        table[chosen, : ids.shape[1]] = ids
    scored = time.perf_counter()
    return table, fitted - started, scored - fitted


def child(method: str, data_path: str) -> None:
    """Fit and score with one method, then print its figures as one JSON line."""
    loaded = np.load(data_path)
    customers, products = int(loaded["customers"]), int(loaded["products"])
    data = {name: loaded[name] for name in ("customer", "product", "day")}
    history, holdout = split(data, customers, products)
    del data, loaded

    runner = run_ours if method == "ours" else run_implicit
    table, fit_seconds, score_seconds = runner(history)
    figures = {
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "success_at_10": success_at_k(table, history, holdout),
        # Linux reports ru_maxrss in KiB.
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(RESULT_MARKER + json.dumps(figures), flush=True)


def run_child(python: str, method: str, data_path: Path, limit_gib: float) -> dict[str, Any] | str:
    """Run one method in a fresh interpreter under an address-space limit."""
    limit = int(limit_gib * 2**30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    completed = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child", method, str(data_path)],
        capture_output=True,
        text=True,
        preexec_fn=limit_memory,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            figures: dict[str, Any] = json.loads(line[len(RESULT_MARKER) :])
            return figures
    return f"failed with exit code {completed.returncode}: {completed.stderr.strip()[-2000:]}"


def ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}" if peer else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="number of customers")
    parser.add_argument("--products", type=int, default=50_000, help="number of products")
    parser.add_argument(
        "--implicit-python",
        default=sys.executable,
        help="Python interpreter that can import implicit (default: this one)",
    )
    parser.add_argument(
        "--limit-gib", type=float, default=24.0, help="address-space limit per child, GiB"
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "DATA"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return

    started = time.perf_counter()
    data = generate(arguments.customers, arguments.products, SEED)
    print(
        f"generated {len(data['customer']):,} purchase lines of {arguments.customers:,} "
        f"customers and {arguments.products:,} products in {time.perf_counter() - started:.1f} s"
    )
    with tempfile.TemporaryDirectory(prefix="bench-recommendation-") as directory:
        data_path = Path(directory) / "purchases.npz"
        np.savez(
            data_path,
            customers=arguments.customers,
            products=arguments.products,
            customer=data["customer"],
            product=data["product"],
            day=data["day"],
        )
        del data
        ours = run_child(sys.executable, "ours", data_path, arguments.limit_gib)
        peer = run_child(arguments.implicit_python, "implicit", data_path, arguments.limit_gib)

    for name, figures in (("ours", ours), ("implicit CosineRecommender", peer)):
        print(f"{name}: {figures}")
    if isinstance(ours, dict) and isinstance(peer, dict):
        print(f"{'figure':<16}{'ours':>12}{'implicit':>12}{'ratio':>8}")
        for key in ("fit_seconds", "score_seconds", "peak_mib", "success_at_10"):
            print(f"{key:<16}{ours[key]:>12.3f}{peer[key]:>12.3f}{ratio(ours[key], peer[key]):>8}")


if __name__ == "__main__":
    main()
