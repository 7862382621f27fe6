"""Keying customers by their id, or by their e-mail address when an export has no id."""

from __future__ import annotations

import hashlib
from typing import Protocol

import pandas as pd

from server.ingestion.cells import limit_length
from server.ingestion.row_messages import RowMessages
from server.ingestion.targets import CUSTOMER_TABLE, max_length

EMAIL_KEY_PREFIX = "email:"
"""The CustomerId prefix of customers keyed by e-mail, before 40 hex digits of SHA-1."""


def email_key(email: str) -> str:
    """Return the CustomerId for an e-mail address: a hash of its trimmed lowercase form.

    The hash keeps addresses out of ids, logs and segment exports, while the same
    address always gives the same id. SHA-1 serves as a fingerprint, not as a secret.
    """
    normalised = email.strip().lower()
    return EMAIL_KEY_PREFIX + hashlib.sha1(normalised.encode("utf-8")).hexdigest()


class CustomerKeyColumns(Protocol):
    """The columns that key a file's customers, as an order or customer mapping names them."""

    @property
    def customer_id(self) -> str | None: ...

    @property
    def customer_email(self) -> str | None: ...

    @property
    def anonymous_customer_ids(self) -> tuple[str, ...]: ...


def customer_keys(
    cells: pd.DataFrame, mapping: CustomerKeyColumns, problems: RowMessages
) -> pd.Series:
    """Return each row's CustomerId: the id column, else the e-mail key, else a problem.

    Ids listed in `anonymous_customer_ids` (such as WooCommerce's 0 for a guest) count
    as missing, so those rows fall back to the e-mail address.
    """
    empty = pd.Series("", index=cells.index, dtype=object)
    ids = cells[mapping.customer_id] if mapping.customer_id is not None else empty
    if mapping.anonymous_customer_ids:
        ids = ids.mask(ids.isin(list(mapping.anonymous_customer_ids)), "")
    emails = cells[mapping.customer_email] if mapping.customer_email is not None else empty

    unique_emails = emails[(ids == "") & (emails != "")].unique()
    hashed = emails.map({email: email_key(email) for email in unique_emails})
    keys = ids.where(ids != "", hashed.fillna(""))

    column = mapping.customer_id or mapping.customer_email
    assert column is not None
    if mapping.customer_id is not None and mapping.customer_email is not None:
        missing = f"the customer id and the e-mail in {mapping.customer_email!r} are empty"
    elif mapping.customer_id is not None:
        missing = "the customer id is empty"
    else:
        missing = "the customer's e-mail is empty"
    problems.add(
        keys == "",
        cells[column],
        column,
        lambda row, _value: (
            f"Row {row}, column {column!r}: {missing}. Fill it in or remove the row."
        ),
    )
    if mapping.customer_id is not None:
        length = max_length(CUSTOMER_TABLE, "customer_id")
        if length is not None:
            limit_length(ids, mapping.customer_id, length, problems)
    return keys
