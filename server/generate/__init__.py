"""Seeded synthetic customer data at any scale, for benchmarks and tests.

`generate(out_dir, customers=100_000, seed=1)` writes customers, products, order_lines
and subscriptions files. `server.generate.mapping.GENERATED` is the mapping that loads
the order lines; it is not imported here, so generating needs no ingestion code.
"""

from server.generate.generator import FILES, MAX_CUSTOMERS, GeneratedData, generate
from server.generate.parameters import GeneratorParameters

__all__ = ["FILES", "MAX_CUSTOMERS", "GeneratedData", "GeneratorParameters", "generate"]
