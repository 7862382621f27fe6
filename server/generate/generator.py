"""Generating a whole data set: catalog, customers, order lines and subscriptions.

Customers are drawn in blocks, each block from its own random stream keyed by the
seed and the block number, and written a chunk of blocks at a time. So the output
depends on the seed and the parameters but not on the chunk size, and memory grows
with the chunk size, not with the number of customers.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from server.generate.catalog import Catalog, build_catalog
from server.generate.customers import build_profiles, customer_ids
from server.generate.orders import build_order_lines
from server.generate.parameters import GeneratorParameters
from server.generate.purchases import simulate_purchases
from server.generate.subscriptions import build_subscriptions
from server.generate.writer import ChunkWriter, FileFormat

logger = logging.getLogger(__name__)

FILES = ("customers", "products", "order_lines", "subscriptions")
DEFAULT_CHUNK_CUSTOMERS = 50_000
# An estimate of about 22 GB of CSV at the default parameters, scaled from the 45 MB
# that 20,000 customers write.
MAX_CUSTOMERS = 10_000_000
# The first number of a random stream's spawn key: one stream for the catalog, and one
# per block of customers.
_CATALOG_STREAM = 0
_BLOCK_STREAM = 1


@dataclass(frozen=True)
class GeneratedData:
    """Paths and row counts of a generated data set."""

    paths: dict[str, Path]
    customers: int
    order_lines: int
    orders: int
    subscriptions: int
    seconds: float

    def summary(self) -> str:
        return (
            f"generated {self.customers} customers, {self.orders} orders in "
            f"{self.order_lines} order lines and {self.subscriptions} subscriptions "
            f"in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class BlockTables:
    """The rows of one block of customers, ready to write."""

    customers: pa.Table
    order_lines: pa.Table
    subscriptions: pa.Table
    orders: int


def block_rng(seed: int, stream: int, number: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, number)))


def generate_block(
    seed: int,
    block: int,
    count: int,
    id_width: int,
    catalog: Catalog,
    parameters: GeneratorParameters,
    first_ids: tuple[int, int, int],
) -> BlockTables:
    """Generate the `count` customers of block number `block`.

    `first_ids` are the first order id, line id and subscription id of the block, so
    ids run on from the blocks before it.
    """
    rng = block_rng(seed, _BLOCK_STREAM, block)
    ids = customer_ids(block * parameters.block_customers, count, id_width)
    profiles = build_profiles(rng, ids)
    purchases = simulate_purchases(rng, count, parameters)
    first_order, first_line, first_subscription = first_ids
    lines = build_order_lines(
        rng, purchases, profiles, catalog, parameters, first_order, first_line
    )
    subscriptions = build_subscriptions(rng, purchases, ids, parameters, first_subscription)
    return BlockTables(profiles, lines, subscriptions, len(purchases.owner))


def generate(
    out_dir: str | Path,
    customers: int,
    seed: int,
    file_format: FileFormat = "csv",
    parameters: GeneratorParameters | None = None,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
) -> GeneratedData:
    """Write customers, products, order_lines and subscriptions files to `out_dir`.

    `out_dir` is created if missing, and files of the same names in it are replaced
    only once every file is complete. `customers` may be from 1 to MAX_CUSTOMERS.
    `chunk_customers` is rounded up to whole blocks; it sets memory use, never the data.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be from 1 to {MAX_CUSTOMERS:,}, got {customers:,}")
    if chunk_customers < 1:
        raise ValueError(f"chunk_customers must be at least 1, got {chunk_customers}")
    if not str(out_dir).strip():
        raise ValueError("the output folder is empty; name a folder such as data/generated")
    parameters = parameters or GeneratorParameters()
    started = time.perf_counter()
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    logger.info("generating %s customers with seed %s into %s", customers, seed, out)

    # The files are written beside `out` and moved into it once all are complete, so an
    # error or an interrupt leaves no partial files in `out`.
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        written = _write_files(partial, customers, seed, file_format, parameters, chunk_customers)
        out.mkdir(exist_ok=True)
        paths = {name: out / path.name for name, path in written.paths.items()}
        for name, path in written.paths.items():
            path.replace(paths[name])
    finally:
        shutil.rmtree(partial, ignore_errors=True)

    result = dataclasses.replace(written, paths=paths, seconds=time.perf_counter() - started)
    logger.info("%s", result.summary())
    return result


def _write_files(
    folder: Path,
    customers: int,
    seed: int,
    file_format: FileFormat,
    parameters: GeneratorParameters,
    chunk_customers: int,
) -> GeneratedData:
    paths = {name: folder / f"{name}.{file_format}" for name in FILES}
    catalog = build_catalog(
        block_rng(seed, _CATALOG_STREAM), parameters.products, parameters.zipf_exponent
    )
    with ChunkWriter(paths["products"], file_format) as products:
        products.write(catalog.table)

    orders = 0
    with ExitStack() as stack:
        writers = {
            name: stack.enter_context(ChunkWriter(paths[name], file_format))
            for name in ("customers", "order_lines", "subscriptions")
        }
        for chunk in iter_chunks(customers, seed, catalog, parameters, chunk_customers):
            writers["customers"].write(chunk.customers)
            writers["order_lines"].write(chunk.order_lines)
            writers["subscriptions"].write(chunk.subscriptions)
            orders += chunk.orders

    return GeneratedData(
        paths=paths,
        customers=customers,
        order_lines=writers["order_lines"].rows,
        orders=orders,
        subscriptions=writers["subscriptions"].rows,
        seconds=0.0,
    )


def iter_chunks(
    customers: int,
    seed: int,
    catalog: Catalog,
    parameters: GeneratorParameters,
    chunk_customers: int,
) -> Iterator[BlockTables]:
    """Yield the blocks of customers grouped into chunks of about `chunk_customers`."""
    size = parameters.block_customers
    blocks = -(-customers // size)
    blocks_per_chunk = -(-chunk_customers // size)
    id_width = max(7, len(str(customers)))
    next_ids = (1, 1, 1)

    for chunk_start in range(0, blocks, blocks_per_chunk):
        parts = []
        for block in range(chunk_start, min(chunk_start + blocks_per_chunk, blocks)):
            count = min(size, customers - block * size)
            part = generate_block(seed, block, count, id_width, catalog, parameters, next_ids)
            next_ids = (
                next_ids[0] + part.orders,
                next_ids[1] + part.order_lines.num_rows,
                next_ids[2] + part.subscriptions.num_rows,
            )
            parts.append(part)
        yield BlockTables(
            customers=pa.concat_tables([part.customers for part in parts]),
            order_lines=pa.concat_tables([part.order_lines for part in parts]),
            subscriptions=pa.concat_tables([part.subscriptions for part in parts]),
            orders=sum(part.orders for part in parts),
        )
