"""Compare the lifetime value code with lifetimes 0.11.3 on CDNOW or on generated orders.

Both sides build the recency-frequency-monetary summary at the observation end in
weeks (exact day counts divided by 7), fit BG/NBD on every customer and Gamma-Gamma on
the repeat buyers, and score a 12-month CLV discounted at 1% a month. The script
prints the median time of each step, the ratio lifetimes / ours, the parameters side
by side, the BG/NBD log-likelihood of both parameter sets (computed by our code) and
how far the CLV scores differ.

The default data set is all of CDNOW (23,570 customers) observed to 1998-06-30.
`--orders` reads an order_lines file written by `lookahead generate` (CSV or Parquet)
and observes it to its last order date unless `--observation-end` sets another day.
Both sides read the same order lines from one `.npz` file that this script writes,
and reading it is not timed.

lifetimes 0.11.3 needs older numpy, pandas and scipy, so it runs in a virtualenv of
its own, for example:

    python3 -m venv /tmp/lifetimes-venv
    /tmp/lifetimes-venv/bin/pip install lifetimes==0.11.3 "numpy<2" "pandas<2" "scipy<1.12"
    .venv/bin/python -m bench.clv --lifetimes-python /tmp/lifetimes-venv/bin/python
    lookahead generate --customers 1000000 --seed 1 --format parquet /tmp/gen-1m
    .venv/bin/python -m bench.clv --lifetimes-python /tmp/lifetimes-venv/bin/python \
        --orders /tmp/gen-1m/order_lines.parquet --repeats 1

With freq="W", lifetimes 0.11.3 counts a month as 4.345 weeks (30.415 days) and we
count 30.4375 days, so the CLV scores differ by about 0.07% even with equal parameters.
Timings depend on the machine and its load: run it on an idle one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from server.prediction.clv.bgnbd import BGNBDModel
from server.prediction.clv.gamma_gamma import GammaGammaModel
from server.prediction.clv.scoring import FittedModels, score_customers
from server.prediction.clv.summary import rfm_summary

DATA = Path(__file__).resolve().parent.parent / "data" / "CDNOW_master.txt.gz"
CDNOW_OBSERVATION_END = "1998-06-30"
HORIZON_MONTHS = 12
MONTHLY_DISCOUNT_RATE = 0.01

ResultT = TypeVar("ResultT")

# Runs inside the lifetimes virtualenv: argv is the .npz path of the order lines, the
# observation end and the repeat count. The last output line is a JSON object of
# timings, parameters and CLV scores.
LIFETIMES_SCRIPT = """
import json, statistics, sys, time
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

path, observation_end, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
with np.load(path) as stored:
    lines = pd.DataFrame({
        "customer_id": stored["customer_id"].astype(object),
        "date": pd.to_datetime(stored["order_date"]),
        "amount": stored["amount"],
    })
times = {}

def timed(name, step):
    durations, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = step()
        durations.append(time.perf_counter() - started)
    times[name] = statistics.median(durations)
    return result

summary = timed("summary", lambda: summary_data_from_transaction_data(
    lines, "customer_id", "date", monetary_value_col="amount",
    observation_period_end=observation_end, freq="D", freq_multiplier=7))
bgf = timed("bgnbd_fit", lambda: BetaGeoFitter().fit(
    summary["frequency"], summary["recency"], summary["T"]))
repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
ggf = timed("gamma_gamma_fit", lambda: GammaGammaFitter().fit(
    repeat["frequency"], repeat["monetary_value"]))
clv = timed("scoring", lambda: ggf.customer_lifetime_value(
    bgf, summary["frequency"], summary["recency"], summary["T"],
    summary["monetary_value"], time=12, discount_rate=0.01, freq="W"))
print(json.dumps({
    "times": times,
    "bgnbd": {name: float(bgf.params_[name]) for name in ("r", "alpha", "a", "b")},
    "gamma_gamma": {name: float(ggf.params_[name]) for name in ("p", "q", "v")},
    "customers": [str(c) for c in summary.index],
    "clv": [float(v) for v in clv],
}))
"""


def timed(times: dict[str, float], name: str, step: Callable[[], ResultT], repeats: int) -> ResultT:
    """Run `step` `repeats` times (at least once), store its median duration, return its result."""
    started = time.perf_counter()
    result = step()
    durations = [time.perf_counter() - started]
    for _ in range(repeats - 1):
        started = time.perf_counter()
        result = step()
        durations.append(time.perf_counter() - started)
    times[name] = statistics.median(durations)
    return result


def read_cdnow() -> pd.DataFrame:
    raw = pd.read_csv(DATA, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"],
        }
    )


def read_generated(path: Path) -> pd.DataFrame:
    """Read the order lines that `lookahead generate` wrote, as CSV or Parquet."""
    columns = ["CustomerId", "OrderDate", "Amount"]
    if path.suffix == ".parquet":
        raw = pd.read_parquet(path, columns=columns)
    else:
        raw = pd.read_csv(path, usecols=columns, dtype={"CustomerId": str})
    return pd.DataFrame(
        {
            "customer_id": raw["CustomerId"].astype(object),
            "order_date": pd.to_datetime(raw["OrderDate"]),
            "amount": raw["Amount"].astype(float),
        }
    )


def write_npz(lines: pd.DataFrame, path: Path) -> None:
    """Store the order lines in a form that numpy 1.26 reads without pandas or pyarrow."""
    np.savez(
        path,
        customer_id=lines["customer_id"].to_numpy().astype(str),
        order_date=lines["order_date"].to_numpy().astype("datetime64[D]"),
        amount=lines["amount"].to_numpy(dtype=float),
    )


def run_ours(lines: pd.DataFrame, observation_end: str, repeats: int) -> dict[str, Any]:
    """Time the summary, both fits and the scoring; return timings, models and scores."""
    times: dict[str, float] = {}

    summary = timed(
        times, "summary", lambda: rfm_summary(lines, observation_end, time_unit="weeks"), repeats
    )
    purchases = timed(
        times,
        "bgnbd_fit",
        lambda: BGNBDModel().fit(summary["frequency"], summary["recency"], summary["T"]),
        repeats,
    )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend = timed(
        times,
        "gamma_gamma_fit",
        lambda: GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"]),
        repeats,
    )
    models = FittedModels(purchases, spend)
    scores = timed(
        times,
        "scoring",
        lambda: score_customers(
            models,
            summary,
            horizon_months=HORIZON_MONTHS,
            monthly_discount_rate=MONTHLY_DISCOUNT_RATE,
            unit_days=7.0,
        ),
        repeats,
    )
    return {
        "times": times,
        "summary": summary,
        "purchases": purchases,
        "spend": spend,
        "clv": scores["value"],
    }


def run_lifetimes(
    python: str, lines_path: Path, observation_end: str, repeats: int
) -> dict[str, Any]:
    """Run `LIFETIMES_SCRIPT` with the interpreter `python` and return its JSON output."""
    completed = subprocess.run(
        [python, "-c", LIFETIMES_SCRIPT, str(lines_path), observation_end, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def bgnbd_log_likelihood(summary: pd.DataFrame, params: dict[str, float]) -> float:
    model = BGNBDModel()
    model.r_, model.alpha_, model.a_, model.b_ = (params[name] for name in ("r", "alpha", "a", "b"))
    columns = (summary["frequency"], summary["recency"], summary["T"])
    return float(model.log_likelihood(*columns).sum())


def print_report(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    print(f"{'step':<18}{'ours (s)':>10}{'lifetimes (s)':>15}{'ratio':>8}")
    total_ours = total_theirs = 0.0
    for step, ours_time in ours["times"].items():
        their_time = theirs["times"][step]
        total_ours += ours_time
        total_theirs += their_time
        print(f"{step:<18}{ours_time:>10.3f}{their_time:>15.3f}{their_time / ours_time:>8.1f}")
    print(f"{'total':<18}{total_ours:>10.3f}{total_theirs:>15.3f}{total_theirs / total_ours:>8.1f}")

    print(f"\n{'parameter':<18}{'ours':>16}{'lifetimes':>16}")
    for name, value in ours["purchases"].params_.items():
        print(f"{'BG/NBD ' + name:<18}{value:>16.4f}{theirs['bgnbd'][name]:>16.4f}")
    their_spend = dict(zip(("p", "q", "gamma"), theirs["gamma_gamma"].values(), strict=True))
    for name, value in ours["spend"].params_.items():
        print(f"{'Gamma-Gamma ' + name:<18}{value:>16.4f}{their_spend[name]:>16.4f}")
    summary = ours["summary"]
    own = bgnbd_log_likelihood(summary, ours["purchases"].params_)
    other = bgnbd_log_likelihood(summary, theirs["bgnbd"])
    print(f"{'BG/NBD log-lik.':<18}{own:>16.2f}{other:>16.2f}")

    their_clv = pd.Series(theirs["clv"], index=theirs["customers"]).reindex(ours["clv"].index)
    ratio = ours["clv"].to_numpy() / their_clv.to_numpy()
    valid = np.isfinite(ratio) & (their_clv.to_numpy() > 0)
    print(
        f"\nCLV ours / lifetimes over {int(valid.sum())} customers: median "
        f"{np.median(ratio[valid]):.4f}, 1st to 99th percentile "
        f"{np.quantile(ratio[valid], 0.01):.4f} to {np.quantile(ratio[valid], 0.99):.4f}, "
        f"total {ours['clv'].sum():,.0f} against {their_clv.sum():,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lifetimes-python",
        required=True,
        help="Python interpreter of a virtualenv with lifetimes 0.11.3 installed",
    )
    parser.add_argument(
        "--orders",
        type=Path,
        help="order_lines file (.csv or .parquet) from `lookahead generate`; default: CDNOW",
    )
    parser.add_argument(
        "--observation-end",
        help="last day of the observation period, YYYY-MM-DD (default: 1998-06-30 for "
        "CDNOW, the last order date for --orders)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per step (median)")
    arguments = parser.parse_args()

    lines = read_cdnow() if arguments.orders is None else read_generated(arguments.orders)
    observation_end = arguments.observation_end or (
        CDNOW_OBSERVATION_END
        if arguments.orders is None
        else f"{lines['order_date'].max():%Y-%m-%d}"
    )
    print(
        f"{lines['customer_id'].nunique():,} customers, {len(lines):,} order lines, "
        f"observed to {observation_end}"
    )

    with tempfile.TemporaryDirectory(prefix="lookahead-clv-") as folder:
        lines_path = Path(folder) / "order_lines.npz"
        write_npz(lines, lines_path)
        ours = run_ours(lines, observation_end, arguments.repeats)
        theirs = run_lifetimes(
            arguments.lifetimes_python, lines_path, observation_end, arguments.repeats
        )
    print_report(ours, theirs)


if __name__ == "__main__":
    main()
