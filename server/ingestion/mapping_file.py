"""Saving a column mapping as a small JSON file, and reading it back.

The file holds the mapping's fields by name, with `reader`, `profile` and each
exclusion as nested objects, for example::

    {"name": "my-shop", "customer_id": "Client", "order_date": "Date",
     "date_format": "%d.%m.%Y", "amount": "Total", "order_id": "Invoice",
     "reader": {"separator": ";", "decimal": ",", "thousands": "."}}

Fields left out take their defaults, so a file stays short.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

from server.ingestion.mapping import ColumnMapping, Exclusion, ProfileColumns, ReaderOptions

_Dataclass = TypeVar("_Dataclass")


def mapping_to_dict(mapping: ColumnMapping) -> dict[str, Any]:
    """Return the fields of `mapping` that differ from their defaults, as JSON values."""
    values = _changed_fields(mapping)
    for nested in ("reader", "profile"):
        if nested in values:
            values[nested] = _changed_fields(getattr(mapping, nested))
    if "exclusions" in values:
        values["exclusions"] = [dataclasses.asdict(item) for item in mapping.exclusions]
    return json.loads(json.dumps(values))


def mapping_from_dict(values: dict[str, Any]) -> ColumnMapping:
    """Build a ColumnMapping from `values`; ValueError names an unknown or invalid field."""
    fields = dict(values)
    if "reader" in fields:
        fields["reader"] = _build(ReaderOptions, fields["reader"], "reader")
    if "profile" in fields:
        fields["profile"] = _build(ProfileColumns, fields["profile"], "profile")
    if "exclusions" in fields:
        fields["exclusions"] = tuple(
            _build(Exclusion, item, f"exclusions.{index}")
            for index, item in enumerate(fields["exclusions"])
        )
    return _build(ColumnMapping, fields, "mapping")


def save_mapping(mapping: ColumnMapping, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(mapping_to_dict(mapping), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping saved by `save_mapping` or written by hand.

    Raises ValueError naming the file for invalid JSON or an invalid field, and
    OSError when the file cannot be read.
    """
    path = Path(path)
    values = _read_object(path)
    try:
        return mapping_from_dict(values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"mapping file {path.name}: {error}") from None


def read_record_mapping(path: str | Path, cls: type[_Dataclass]) -> _Dataclass:
    """Read a customer, product or subscription mapping: `cls`'s fields by name.

    A nested `reader` object becomes ReaderOptions and `profile` ProfileColumns.
    Raises ValueError naming the file for invalid JSON or an invalid field.
    """
    path = Path(path)
    values = _read_object(path)
    try:
        if "reader" in values:
            values["reader"] = _build(ReaderOptions, values["reader"], "reader")
        if "profile" in values:
            values["profile"] = _build(ProfileColumns, values["profile"], "profile")
        return _build(cls, values, "mapping")
    except (TypeError, ValueError) as error:
        raise ValueError(f"mapping file {path.name}: {error}") from None


def _read_object(path: Path) -> dict[str, Any]:
    try:
        values = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ValueError(f"mapping file {path.name} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"mapping file {path.name} must contain one JSON object")
    values.setdefault("name", path.stem)
    return values


def _changed_fields(instance: Any) -> dict[str, Any]:
    defaults = _defaults(type(instance))
    changed = {}
    for item in dataclasses.fields(instance):
        value = getattr(instance, item.name)
        if item.name not in defaults or defaults[item.name] != value:
            changed[item.name] = list(value) if isinstance(value, tuple) else value
    return changed


def _defaults(cls: type) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = item.default_factory()
    return defaults


def _build(cls: type[_Dataclass], values: Any, where: str) -> _Dataclass:
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a JSON object")
    known = {item.name: item for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r} in {where}; valid fields: " + ", ".join(known)
        )
    converted = {
        name: tuple(value) if isinstance(value, list) else value for name, value in values.items()
    }
    return cls(**converted)
