"""Debezium / Kafka Connect logical types -> the contract's row values (ISO dates, decimal strings, bools).

A column's type is described by :class:`ColumnType` (the Connect type, the logical type's name and its
scale), read from the Connect schema embedded by the JSON converter (``schemas.enable=true``) or from the
``connect.name`` annotations of Debezium's Avro writer schema. :func:`converter_for` turns it into a
function of one value, built once per schema (see :mod:`streams.codec.debezium`), never per record.

Values that cannot be converted raise :class:`ColumnError`; the decoder adds the table's name.

Without a schema (``schemas.enable=false``) the row parser reads dates itself (ISO string, or int days or
epoch milli/micro/nanoseconds, told apart by magnitude: streams/sis/rows.py).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EPOCH = dt.date(1970, 1, 1)
Convert = Callable[[Any], Any]

DAYS = frozenset({"io.debezium.time.Date", "org.apache.kafka.connect.data.Date"})
MILLIS = frozenset({"io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp"})
MICROS = frozenset({"io.debezium.time.MicroTimestamp"})
NANOS = frozenset({"io.debezium.time.NanoTimestamp"})
ISO_DATE = frozenset({"io.debezium.time.IsoDate"})
# a timestamp without a zone, written as ISO text with a "Z": its own date part is the wall-clock day
ISO_LOCAL = frozenset({"io.debezium.time.IsoTimestamp"})
ZONED = frozenset({"io.debezium.time.ZonedTimestamp"})
DECIMAL = frozenset({"org.apache.kafka.connect.data.Decimal"})
VARIABLE_DECIMAL = frozenset({"io.debezium.data.VariableScaleDecimal"})
# logical types whose values are used as they are (their base type is what the rules read)
PLAIN = frozenset({"io.debezium.data.Enum", "io.debezium.data.Json", "io.debezium.data.Uuid",
                   "io.debezium.data.Xml", "io.debezium.data.Bits"})


class ColumnError(ValueError):
    """A value of a column cannot be read as its Debezium type says (``reason`` for the dead letter)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ColumnType:
    """One column: the Connect base type (``int32``, ``string``, ``bytes``...), the logical type name."""

    field: str
    base: str
    name: str | None = None
    scale: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name or self.base}"


def _days(value: int) -> str:
    return (EPOCH + dt.timedelta(days=value)).isoformat()


def _epoch_day(value: int, per_second: int) -> str:
    # Debezium writes a zone-less DATETIME as if it were UTC: the UTC calendar day is the wall-clock day
    return (EPOCH + dt.timedelta(days=value // (86400 * per_second))).isoformat()


def _iso_date(value: str) -> str:
    return dt.date.fromisoformat(value[:10]).isoformat()


def _zoned(zone: zoneinfo.ZoneInfo) -> Convert:
    def convert(value: str) -> str:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(zone).date().isoformat()
    return convert


def _unscaled(raw: Any) -> int:
    if isinstance(raw, str):
        raw = base64.b64decode(raw, validate=True)
    if isinstance(raw, bytes | bytearray):
        return int.from_bytes(raw, "big", signed=True)
    raise TypeError(f"{type(raw).__name__}")


def _decimal_text(unscaled: int, scale: int) -> str:
    return str(decimal.Decimal(unscaled).scaleb(-scale))


def _decimal(scale: int) -> Convert:
    def convert(value: Any) -> str:
        if isinstance(value, decimal.Decimal):  # fastavro decodes Avro's decimal logical type itself
            return str(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # decimal.handling.mode=double
        if isinstance(value, str) and not _looks_base64(value):
            return str(decimal.Decimal(value))  # decimal.handling.mode=string
        return _decimal_text(_unscaled(value), scale)
    return convert


def _looks_base64(value: str) -> bool:
    return not value.replace(".", "", 1).lstrip("-").isdigit()


def _variable_decimal(value: Any) -> str:
    if not isinstance(value, dict):
        raise TypeError(f"{type(value).__name__}")
    return _decimal_text(_unscaled(value["value"]), int(value["scale"]))


def _typed(check: type | tuple[type, ...], convert: Convert) -> Convert:
    def guarded(value: Any) -> Any:
        if not isinstance(value, check) or isinstance(value, bool):
            raise TypeError(f"{type(value).__name__}")
        return convert(value)
    return guarded


def converter_for(column: ColumnType, zone: zoneinfo.ZoneInfo) -> Convert | None:
    """The conversion of one column's values, or None when they are used as they are."""
    name = column.name
    if name is None or name in PLAIN:
        return None
    if name in DAYS:
        return _typed(int, _days)
    if name in MILLIS:
        return _typed(int, lambda v: _epoch_day(v, 1000))
    if name in MICROS:
        return _typed(int, lambda v: _epoch_day(v, 1_000_000))
    if name in NANOS:
        return _typed(int, lambda v: _epoch_day(v, 1_000_000_000))
    if name in ISO_DATE or name in ISO_LOCAL:
        return _typed(str, _iso_date)
    if name in ZONED:
        return _typed(str, _zoned(zone))
    if name in DECIMAL:
        return _decimal(column.scale or 0)
    if name in VARIABLE_DECIMAL:
        return _variable_decimal
    return _unsupported(column)


def _unsupported(column: ColumnType) -> Convert:
    def convert(value: Any) -> Any:
        raise ColumnError("unsupported_type", f"column '{column.field}': Debezium type {column.label} "
                                              f"({column.base}) is not one the product reads")
    return convert


def guarded(column: ColumnType, convert: Convert) -> Convert:
    """``convert`` with its failures as :class:`ColumnError` naming the column and its Debezium type."""
    def run(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.date):  # fastavro decodes Avro's date / timestamp-* logical types itself
            return (value.astimezone(dt.UTC) if isinstance(value, dt.datetime) and value.tzinfo else value
                    ).isoformat()[:10]
        try:
            return convert(value)
        except ColumnError:
            raise
        except (TypeError, ValueError, KeyError, OverflowError, binascii.Error, decimal.InvalidOperation) as exc:
            raise ColumnError("bad_column", f"column '{column.field}': {value!r:.60} is not a valid "
                                            f"{column.label} ({column.base}): {exc}") from exc
    return run


__all__ = ["ColumnError", "ColumnType", "converter_for", "guarded"]
