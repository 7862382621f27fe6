"""Run the benchmarks and print one table of our figures beside their peers'.

    python -m bench.run [--quick] [--scale 100000,1000000] [--backend sqlite,postgres]

Each step runs in a fresh child process (or a server process), so its peak resident
memory is its own. Ratios are ours / peer: above 1 means more (seconds, milliseconds,
MiB) or faster (rows/s, requests/s) than the peer, depending on the unit.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.child import RESULT_MARKER
from bench.databases import drop_databases, fresh_database
from bench.graphql_bench import graphql_rows
from bench.servers import ROOT, free_port, start_server
from server.demo import DEMO_PREDICTIONS
from server.generate import generate

logger = logging.getLogger("bench")

SEED = 20240601
QUICK_SCALE = 10_000
# The line `server.demo` logs for each demo prediction that succeeded.
DEMO_SUCCESS = re.compile(r"server\.demo: prediction \d+ succeeded in ")


@dataclass
class Row:
    """One line of the table: a figure of ours beside the peer's on the same data."""

    step: str
    backend: str
    scale: int
    unit: str
    ours: float | None
    peer: float | None
    ours_mib: float | None = None
    peer_mib: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.peer:
            return None
        return self.ours / self.peer


def run_child(
    step: str, arguments: dict[str, Any], log_dir: Path, limit_gib: float
) -> dict[str, Any]:
    """Run `bench.child STEP` with an address-space limit and return its figures."""
    log_path = log_dir / f"{step}-{int(time.time())}.log"

    def limit_memory() -> None:
        limit = int(limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with log_path.open("wb") as log:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.child", step, json.dumps(arguments)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            preexec_fn=limit_memory,
            check=False,
        )
    for line in completed.stdout.decode().splitlines():
        if line.startswith(RESULT_MARKER):
            return dict(json.loads(line[len(RESULT_MARKER) :]))
    raise RuntimeError(f"step {step} failed with exit code {completed.returncode}; see {log_path}")


def _attempt(
    step: str, arguments: dict[str, Any], log_dir: Path, limit_gib: float
) -> dict[str, Any]:
    try:
        return run_child(step, arguments, log_dir, limit_gib)
    except RuntimeError as error:
        logger.error("%s", error)
        return {"failed": str(error)}


def data_set(work_dir: Path, scale: int) -> Path:
    """Generate (once per work folder) the data set of `scale` customers."""
    folder = work_dir / f"data-{scale}-{SEED}"
    marker = folder / "done"
    if not marker.exists():
        result = generate(folder, scale, SEED)
        marker.write_text(result.summary())
    logger.info("data set %s: %s", folder, marker.read_text())
    return folder


def scale_rows(
    backend: str, scale: int, work_dir: Path, seconds: float, limit_gib: float
) -> list[Row]:
    folder = data_set(work_dir, scale)
    path = str(folder / "order_lines.csv")
    names = [f"s{scale}_ours", f"s{scale}_peer"]
    ours_url = fresh_database(backend, names[0], work_dir)
    peer_url = fresh_database(backend, names[1], work_dir)
    rows: list[Row] = []
    try:
        common = {"path": path, "source": "generated"}
        ours = _attempt("ingest_ours", {"url": ours_url, **common}, work_dir, limit_gib)
        peer = _attempt("ingest_peer", {"url": peer_url, **common}, work_dir, limit_gib)
        rows.append(_row("ingestion", backend, scale, "rows/s", "rows_per_s", ours, peer))
        rows.append(_row("ingestion time", backend, scale, "s", "seconds", ours, peer))
        if "failed" in ours:
            return rows

        churn = {"url": ours_url, "source": "generated", "entity": "BenchChurn"}
        ours = _attempt("churn_ours", churn, work_dir, limit_gib)
        peer = _attempt("churn_peer", churn, work_dir, limit_gib)
        rows.append(_row("churn training", backend, scale, "s", "train_s", ours, peer))
        rows.append(_row("churn scoring", backend, scale, "s", "score_s", ours, peer))
        rows.append(_row("churn run, total", backend, scale, "s", "seconds", ours, peer))
        rows.append(_row("churn ROC AUC", backend, scale, "AUC", "roc_auc", ours, peer))
        if "failed" in ours:
            return rows

        try:
            measured = graphql_rows(ours_url, int(ours["prediction_id"]), work_dir, seconds)
        except (RuntimeError, TimeoutError) as error:
            logger.error("%s", error)
            measured = [
                {
                    "step": "GraphQL",
                    "unit": "",
                    "ours": None,
                    "peer": None,
                    "note": "failed; see the log",
                }
            ]
        rows.extend(Row(backend=backend, scale=scale, **figures) for figures in measured)
    finally:
        drop_databases(backend, names, work_dir)
    return rows


def _row(
    step: str,
    backend: str,
    scale: int,
    unit: str,
    key: str,
    ours: dict[str, Any],
    peer: dict[str, Any],
) -> Row:
    note = "; ".join(
        f"{who} failed" for who, got in (("ours", ours), ("peer", peer)) if "failed" in got
    )
    return Row(
        step=step,
        backend=backend,
        scale=scale,
        unit=unit,
        ours=ours.get(key),
        peer=peer.get(key),
        ours_mib=ours.get("peak_mib"),
        peer_mib=peer.get("peak_mib"),
        note=note,
    )


def demo_rows(backend: str, work_dir: Path) -> list[Row]:
    """Time `lookahead serve --demo` and plain `lookahead serve` on fresh databases.

    Each start gets an empty database and an empty LOOKAHEAD_HOME, and the time runs
    from launching the process until GET /health returns 200. The demo serves only
    after loading the bundled data and running every demo prediction, so its time
    includes all of them. The note counts the successes when any prediction failed.
    """
    figures: dict[str, tuple[float | None, float | None]] = {}
    failed: list[str] = []
    for label, extra in (("demo", ["--demo"]), ("plain", [])):
        name = f"start_{label}"
        url = fresh_database(backend, name, work_dir)
        home = work_dir / f"home-{label}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
        port = free_port()
        log_path = work_dir / f"serve-{label}-{backend}.log"
        try:
            server = start_server(
                ["-m", "server.cli", "serve", "--port", str(port), *extra],
                {"LOOKAHEAD_DATABASE_URL": url, "LOOKAHEAD_HOME": str(home)},
                port,
                log_path,
            )
            figures[label] = (server.ready_seconds, server.peak_mib())
            server.stop()
            if label == "demo":
                failed.extend(_unsucceeded_demo_predictions(log_path))
        except (RuntimeError, TimeoutError) as error:
            logger.error("%s", error)
            figures[label] = (None, None)
            failed.append(f"{label} failed")
        finally:
            drop_databases(backend, [name], work_dir)
    return [
        Row(
            step="start until /health (demo vs plain serve)",
            backend=backend,
            scale=0,
            unit="s",
            ours=figures["demo"][0],
            peer=figures["plain"][0],
            ours_mib=figures["demo"][1],
            peer_mib=figures["plain"][1],
            note="; ".join(failed),
        )
    ]


def _unsucceeded_demo_predictions(log_path: Path) -> list[str]:
    """Return a note when the demo's log reports fewer successes than it has predictions."""
    succeeded = len(DEMO_SUCCESS.findall(log_path.read_text(errors="replace")))
    if succeeded == len(DEMO_PREDICTIONS):
        return []
    return [f"{succeeded} of {len(DEMO_PREDICTIONS)} demo predictions succeeded; see {log_path}"]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "AUC":
        return f"{value:.3f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def format_table(rows: list[Row]) -> str:
    header = (
        "| step | backend | customers | unit | ours | peer | ours / peer "
        "| ours peak MiB | peer peak MiB | note |"
    )
    lines = [header, "|" + " --- |" * 10]
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "–"
        scale = f"{row.scale:,}" if row.scale else "demo data"
        lines.append(
            f"| {row.step} | {row.backend} | {scale} | {row.unit} | {_number(row.ours, row.unit)} "
            f"| {_number(row.peer, row.unit)} | {ratio} | {_number(row.ours_mib, 'MiB')} "
            f"| {_number(row.peer_mib, 'MiB')} | {row.note} |"
        )
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SCALE:,} customers, short loads"
    )
    parser.add_argument("--scale", help="customer counts, comma-separated (default 100000,1000000)")
    parser.add_argument("--backend", help="sqlite, postgres or both, comma-separated")
    parser.add_argument("--work-dir", default="/tmp/lookahead-bench", help="data and scratch files")
    parser.add_argument("--seconds", type=float, help="length of each GraphQL load, in seconds")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo start timing")
    parser.add_argument(
        "--memory-limit-gib", type=float, default=16.0, help="address-space limit of each step"
    )
    parser.add_argument("--json", help="also write the rows to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_arguments(argv)
    scales = [int(item) for item in (args.scale or "").split(",") if item] or (
        [QUICK_SCALE] if args.quick else [100_000, 1_000_000]
    )
    backends = [item for item in (args.backend or "").split(",") if item] or (
        ["sqlite"] if args.quick else ["sqlite", "postgres"]
    )
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    rows: list[Row] = []
    for backend in backends:
        # The demo data has a fixed size, so --quick leaves its start out.
        if not (args.no_demo or args.quick):
            rows.extend(demo_rows(backend, work_dir))
        for scale in scales:
            rows.extend(scale_rows(backend, scale, work_dir, seconds, args.memory_limit_gib))
            print(format_table(rows), flush=True)

    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(
            json.dumps([row.__dict__ | {"ratio": row.ratio} for row in rows], indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
