"""The column mapping that loads generated order lines with `load_orders`.

It is the built-in mapping "generated", so `lookahead ingest orders` also recognises
the generated order_lines file from its header.
"""

from __future__ import annotations

from server.ingestion.builtin import GENERATED

__all__ = ["GENERATED"]
