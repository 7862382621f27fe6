"""Item-to-item similarity from co-purchases, kept sparse with the top neighbours per product."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

SIMILARITY_BLOCK_PRODUCTS = 2048
"""Products whose co-purchase counts are computed at once; bounds the peak memory."""


def _padded_rows(
    matrix: sp.csr_matrix, rows: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Copy `rows` of `matrix` into dense (values, columns) arrays `width` wide.

    Places past a row's last entry hold -inf and column -1.
    """
    lengths = np.diff(matrix.indptr)[rows]
    local_rows = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    sources = np.repeat(matrix.indptr[rows], lengths) + offsets

    values = np.full((len(rows), width), -np.inf)
    columns = np.full((len(rows), width), -1, dtype=np.int64)
    values[local_rows, offsets] = matrix.data[sources]
    columns[local_rows, offsets] = matrix.indices[sources]
    return values, columns


def top_per_row(
    matrix: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the `k` largest entries of each row as (rows, columns, values, ranks).

    The entries come sorted by row and then by value, largest first, and ranks start
    at 0. Only stored entries are candidates, so a row with fewer than `k` of them
    returns fewer. Rows are grouped by their number of entries, rounded up to a power
    of two, and each group is padded to a dense block for `np.argpartition`, so the
    padding at most doubles the memory of the entries.
    """
    lengths = np.diff(matrix.indptr)
    widths = np.maximum(k, 2 ** np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    for width in np.unique(widths[lengths > 0]):
        rows = np.flatnonzero((widths == width) & (lengths > 0))
        values, columns = _padded_rows(matrix, rows, int(width))
        if width > k:
            chosen = np.argpartition(-values, k - 1, axis=1)[:, :k]
            values = np.take_along_axis(values, chosen, axis=1)
            columns = np.take_along_axis(columns, chosen, axis=1)
        order = np.argsort(-values[:, :k], axis=1, kind="stable")
        values = np.take_along_axis(values[:, :k], order, axis=1)
        columns = np.take_along_axis(columns[:, :k], order, axis=1)

        ranks = np.broadcast_to(np.arange(values.shape[1]), values.shape)
        present = columns >= 0
        parts.append(
            (
                np.broadcast_to(rows[:, None], values.shape)[present],
                columns[present],
                values[present],
                ranks[present],
            )
        )

    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=matrix.dtype), empty
    rows, columns, values, ranks = (np.concatenate(items) for items in zip(*parts, strict=True))
    order = np.argsort(rows * k + ranks, kind="stable")
    return rows[order], columns[order], values[order].astype(matrix.dtype), ranks[order]


def item_similarity(bought: sp.csr_matrix, *, shrinkage: float, neighbours: int) -> sp.csr_matrix:
    """Return the shrunk cosine similarity of products, keeping `neighbours` per row.

    `bought` is a binary customer x product matrix. The similarity of products i and
    j is c_ij / (sqrt(n_i * n_j) + shrinkage), where c_ij counts customers who bought
    both and n_i those who bought i. The shrinkage pulls pairs with few common buyers
    towards 0, because one shared customer tells little about two rare products. A
    product is never its own neighbour. Row i lists the products to recommend to a
    buyer of i.
    """
    buyers = np.asarray(bought.sum(axis=0), dtype=np.float64).ravel()
    by_product = bought.T.tocsr()
    products = bought.shape[1]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    for start in range(0, products, SIMILARITY_BLOCK_PRODUCTS):
        stop = min(start + SIMILARITY_BLOCK_PRODUCTS, products)
        together = (by_product[start:stop] @ bought).tocsr()
        rows = np.repeat(np.arange(start, stop), np.diff(together.indptr))
        columns = together.indices
        cosine = together.data / (np.sqrt(buyers[rows] * buyers[columns]) + shrinkage)
        cosine[columns == rows] = 0.0

        block = sp.csr_matrix(
            (cosine.astype(np.float32), columns, together.indptr), shape=together.shape
        )
        block.eliminate_zeros()
        top_rows, top_columns, values, _ = top_per_row(block, neighbours)
        parts.append((top_rows + start, top_columns, values))

    rows = np.concatenate([part[0] for part in parts]) if parts else np.empty(0, np.int64)
    columns = np.concatenate([part[1] for part in parts]) if parts else np.empty(0, np.int64)
    values = np.concatenate([part[2] for part in parts]) if parts else np.empty(0, np.float32)
    return sp.csr_matrix((values, (rows, columns)), shape=(products, products), dtype=np.float32)
