"""SQLModel tables of the fixed schema.

Output entities are not here: each is a table created at run time by the
prediction that writes it, and listed in `OutputEntityRecord`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field, SQLModel

from server.names import name_key

# Case folding turns one character into at most three ("ΐ" into three code points),
# so a key is at most three times as long as the 128-character name it folds.
NAME_KEY_LENGTH = 384


def utc_now() -> datetime:
    return datetime.now(UTC)


def key_of(column: str) -> Callable[[DefaultExecutionContext], str]:
    """Return an INSERT default that stores `name_key` of the row's value in `column`.

    SQLAlchemy runs it only on INSERT. An UPDATE that changes the name must set the key
    itself.
    """

    def default(context: DefaultExecutionContext) -> str:
        return name_key(context.get_current_parameters()[column])

    return default


class Customer(SQLModel, table=True):
    """The customer profile: one row per customer, keyed by CustomerId."""

    __tablename__ = "customer"

    customer_id: str = Field(primary_key=True, max_length=64)
    source: str = Field(index=True, max_length=64)
    segment: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=128)
    state: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=64)


class OrderLine(SQLModel, table=True):
    """One purchased (or, with a negative amount, returned) line of an order."""

    __tablename__ = "order_line"
    __table_args__ = (
        Index("ix_order_line_source_customer", "source", "customer_id", "order_date"),
        Index("ux_order_line_source_line_key", "source", "line_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    customer_id: str = Field(max_length=64)
    order_id: str | None = Field(default=None, max_length=64)
    order_date: date
    product_id: str | None = Field(default=None, max_length=64)
    quantity: float = 1.0
    amount: float
    # The line's key in its source (such as "#1001/2"), repeated by later exports of
    # the same line so a load can update it; None for sources without line keys.
    line_key: str | None = Field(default=None, max_length=128)


class Prediction(SQLModel, table=True):
    """A configured model of one kind, with its parameters and latest results."""

    __tablename__ = "prediction"
    __table_args__ = (
        Index("ux_prediction_name_key", "name_key", unique=True),
        Index("ux_prediction_output_entity_key", "output_entity_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=128)
    # `name_key(name)`: two predictions whose names differ only in case share it.
    name_key: str = Field(max_length=NAME_KEY_LENGTH, sa_column_kwargs={"default": key_of("name")})
    kind: str = Field(max_length=32)
    status: str = Field(default="DRAFT", max_length=16)
    output_entity_name: str = Field(unique=True, max_length=63)
    # `name_key(output_entity_name)`. Entity names are ASCII, so this is the lower-cased
    # name that the entity's table is named after.
    output_entity_key: str = Field(
        max_length=63, sa_column_kwargs={"default": key_of("output_entity_name")}
    )
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    # Retrain every `schedule_days` days; null means only when someone runs it.
    schedule_days: int | None = None
    next_run_at: datetime | None = None


class PredictionRun(SQLModel, table=True):
    """One training and scoring of a prediction."""

    __tablename__ = "prediction_run"

    id: int | None = Field(default=None, primary_key=True)
    prediction_id: int = Field(foreign_key="prediction.id", index=True, ondelete="CASCADE")
    status: str = Field(default="QUEUED", max_length=16)
    # MANUAL when a person asked for the run, SCHEDULE when the retraining schedule did.
    trigger: str = Field(default="MANUAL", max_length=16)
    queued_at: datetime | None = None
    # The step the run is in or last reached, such as "training".
    step: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    metrics: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    row_count: int | None = None
    error: str | None = None


class OutputEntityRecord(SQLModel, table=True):
    """The registry of output entities: which table contains which prediction's results."""

    __tablename__ = "output_entity"

    name: str = Field(primary_key=True, max_length=63)
    table_name: str = Field(unique=True, max_length=63)
    # "output" for a prediction's results, "profile" for customer attributes from a source.
    role: str = Field(default="output", max_length=16)
    prediction_id: int | None = Field(
        default=None, foreign_key="prediction.id", index=True, ondelete="SET NULL"
    )
    row_count: int = 0
    version: int = 0
    updated_at: datetime = Field(default_factory=utc_now)


class Segment(SQLModel, table=True):
    """A named set of customers defined by rules over entity attributes."""

    __tablename__ = "segment"
    __table_args__ = (Index("ux_segment_name_key", "name_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=128)
    # `name_key(name)`: two segments whose names differ only in case share it.
    name_key: str = Field(max_length=NAME_KEY_LENGTH, sa_column_kwargs={"default": key_of("name")})
    description: str | None = None
    prediction_id: int | None = Field(
        default=None, foreign_key="prediction.id", index=True, ondelete="SET NULL"
    )
    entity_name: str = Field(max_length=63)
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    member_count: int = 0
    created_at: datetime = Field(default_factory=utc_now)
    last_evaluated_at: datetime = Field(default_factory=utc_now)


class SegmentMember(SQLModel, table=True):
    """A customer who belongs to a segment."""

    __tablename__ = "segment_member"

    segment_id: int = Field(foreign_key="segment.id", primary_key=True, ondelete="CASCADE")
    customer_id: str = Field(primary_key=True, max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token; only the SHA-256 hash of the secret is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class Subscription(SQLModel, table=True):
    """A customer's subscription, renewed every `recurrence_months` until `end_date`."""

    __tablename__ = "subscription"

    subscription_id: str = Field(primary_key=True, max_length=64)
    source: str = Field(index=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    start_date: date
    # Empty while the subscription is active.
    end_date: date | None = None
    recurrence_months: int
    # Charged once per recurrence, in the currency of the source.
    recurring_amount: float
    is_recurring: bool = True
    # The day a cancellation was requested (Stripe's "Canceled At"). With no end_date
    # the subscription is still active until its paid period ends. Null: never requested.
    cancel_requested_at: date | None = None


metadata = SQLModel.metadata


def table_of(model: type[SQLModel]) -> Table:
    """Return the Core table of a SQLModel class, typed for SQLAlchemy Core queries."""
    return model.__table__  # type: ignore[attr-defined]


class SegmentEntity(SQLModel, table=True):
    """An entity that a segment's rules read; an entity in use here must not be deleted."""

    __tablename__ = "segment_entity"

    segment_id: int = Field(foreign_key="segment.id", primary_key=True, ondelete="CASCADE")
    entity_name: str = Field(primary_key=True, index=True, max_length=63)


class SegmentEvaluation(SQLModel, table=True):
    """One evaluation of a segment's rules: when it ran and how many members it found."""

    __tablename__ = "segment_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", index=True, ondelete="CASCADE")
    evaluated_at: datetime = Field(default_factory=utc_now)
    member_count: int


class AuditEvent(SQLModel, table=True):
    """A record of one change and its time; the actor is a token id and name, never its secret."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utc_now, index=True)
    # Null for changes made by a local command such as `lookahead tokens create`.
    actor_token_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=128)
    action: str = Field(max_length=16)
    target_type: str = Field(max_length=16)
    target_id: str = Field(max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Product(SQLModel, table=True):
    """A product of a source's catalog; `attributes` contains the catalog's other columns."""

    __tablename__ = "product"

    source: str = Field(primary_key=True, max_length=64)
    product_id: str = Field(primary_key=True, max_length=64)
    name: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=128)
    sub_category: str | None = Field(default=None, max_length=128)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
