"""SIS change records as any producer writes them -> the contract's envelope (contract sections 1 and 1a).

One decoder reads, per record and with no setting to tell them apart:

* the contract's JSON and its fixed-id Avro (``schemas/ids.json``), through :mod:`streams.codec`;
* Debezium's JSON converter with ``schemas.enable=true``: ``{"schema": ..., "payload": ...}``; the
  embedded Connect schema gives each column's logical type (days, epoch times, zoned times, decimals);
* Debezium's JSON with ``schemas.enable=false``: the bare envelope (dates read by the row parser);
* Confluent wire-format Avro whose schema id a Schema Registry assigned (Debezium's Avro converter): the
  writer schema is fetched by id (:mod:`streams.codec.registry`), its ``connect.name`` annotations give
  the logical types.

What comes out is the contract's envelope: ``op``, ``ts_ms``, ``before``/``after`` rows with ISO dates,
decimal strings and booleans, and ``source`` as it came (its position gives the order:
:mod:`streams.sis.position`). Only the columns of the contract's tables are kept.

Decoding is cached per *schema*, not per record: a Connect JSON record's schema text (its first part, the
same bytes for every record of a table version) is the key of a ready-made normaliser, so only the small
``payload`` is parsed; a registry id is the key for Avro. Failures raise :class:`DecodeError` naming the
table, the column and its Debezium type; an unreachable registry raises :class:`RegistryUnavailable`.
"""

from __future__ import annotations

import io
import json
import struct
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import fastavro

import schemas
from streams.codec import MAGIC, Bytes, codec_for
from streams.codec.connect_types import ColumnError, ColumnType, converter_for, guarded
from streams.codec.registry import RegistryUnavailable, SchemaRegistry
from streams.errors import DecodeError
from streams.topics import SIS_TABLE_NAMES

Normalise = Callable[[Mapping[str, Any]], dict[str, Any]]
_PREFIX = b'{"schema":'
_MAGIC_BYTE = bytes([MAGIC])
_SPLIT = b',"payload":'


@cache
def contract_columns(table: str) -> frozenset[str]:
    """The row fields of a contract table (from its Avro schema in schemas/)."""
    envelope = schemas.load(f"{table}-value")
    before = next(f for f in envelope["fields"] if f["name"] == "before")
    record = next(t for t in before["type"] if isinstance(t, dict))
    return frozenset(f["name"] for f in record["fields"])


def _connect_columns(struct_schema: Mapping[str, Any]) -> list[ColumnType]:
    columns = []
    for f in struct_schema.get("fields") or ():
        params = f.get("parameters") or {}
        scale = params.get("scale")
        columns.append(ColumnType(str(f.get("field")), str(f.get("type")), f.get("name"),
                                  int(scale) if scale is not None else None))
    return columns


def _avro_columns(record: Mapping[str, Any]) -> list[ColumnType]:
    columns = []
    for f in record.get("fields") or ():
        kind: Any = f.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if isinstance(kind, dict):
            params = kind.get("connect.parameters") or {}
            scale = params.get("scale", kind.get("scale"))
            columns.append(ColumnType(str(f["name"]), str(kind.get("type")), kind.get("connect.name"),
                                      int(scale) if scale is not None else None))
        else:
            columns.append(ColumnType(str(f["name"]), str(kind)))
    return columns


class RowNormaliser:
    """One table version's row conversion: contract columns only, logical types converted."""

    def __init__(self, table: str, columns: list[ColumnType], zone: zoneinfo.ZoneInfo) -> None:
        self.table = table
        wanted = contract_columns(table)
        self.columns = [c for c in columns if c.field in wanted]
        self.names = tuple(c.field for c in self.columns)
        self.name_set = frozenset(self.names)
        # (column, its last results, its conversion) for each column whose values are converted: a district's
        # dates and decimals repeat, so most values are found in the memo (per schema, bounded)
        self.convert: list[tuple[str, dict[Any, Any], Callable[[Any], Any]]] = []
        for column in self.columns:
            convert = converter_for(column, zone)
            if convert is not None:
                self.convert.append((column.field, {}, guarded(column, convert)))

    def __call__(self, row: Any) -> dict[str, Any] | None:
        """The row with only the contract's columns, converted. A ``dict`` is taken as the caller's own (fresh
        from a parser): it may be changed in place and returned."""
        if row is None:
            return None
        if row.__class__ is dict and row.keys() == self.name_set:
            out = row  # exactly the contract's columns, fresh from the parser: converted in place
        elif isinstance(row, Mapping):
            get = row.get
            out = {name: get(name) for name in self.names}
        else:
            raise DecodeError("bad_envelope", f"{self._name}: a row is {type(row).__name__}, not an object")
        try:
            for name, memo, convert in self.convert:
                value = out[name]
                if value is None:
                    continue
                if value.__class__ in _MEMO_TYPES:  # hashable, and never equal to a value of another type
                    found = memo.get(value, _FAILED)
                    if found is _FAILED:
                        found = convert(value)  # ColumnError propagates, never remembered
                        if len(memo) < _MEMO_SIZE:
                            memo[value] = found
                    out[name] = found
                else:
                    out[name] = convert(value)
        except ColumnError as exc:
            raise DecodeError(exc.reason, f"{self._name}: {exc.detail}") from exc
        return out

    @property
    def _name(self) -> str:
        return SIS_TABLE_NAMES.get(self.table, self.table)


_MEMO_TYPES = (int, str, bytes)  # exact classes (not bool, not float: 1 == 1.0 == True)
_MEMO_SIZE = 8192  # results remembered per column of a schema


def envelope_normaliser(table: str, row_columns: list[ColumnType] | None, zone: zoneinfo.ZoneInfo) -> Normalise:
    rows = RowNormaliser(table, row_columns, zone) if row_columns is not None else None

    def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload.__class__ is dict:
            out: dict[str, Any] = payload  # type: ignore[assignment]  # fresh from the parser: changed in place
        elif isinstance(payload, Mapping):
            out = dict(payload)
        else:
            raise DecodeError("not_an_object", f"{table}: payload is {type(payload).__name__}, not an object")
        if rows is not None:
            before, after = out.get("before"), out.get("after")
            out["before"] = None if before is None else rows(before)
            out["after"] = None if after is None else rows(after)
        return out
    return normalise


def _row_struct(fields: Any, pick: Callable[[Mapping[str, Any]], str | None]) -> Mapping[str, Any] | None:
    for f in fields or ():
        if pick(f) in ("after", "before"):
            return f
    return None


class SisDecoder:
    """Decode the key and value of one SIS record (any of the formats above) into contract form."""

    def __init__(self, time_zone: str = "America/Chicago", registry: SchemaRegistry | None = None) -> None:
        self.zone = zoneinfo.ZoneInfo(time_zone)
        self.registry = registry
        # table -> [(bytes a record starts with: its schema, normaliser)], most recent first: the Connect JSON
        # schemas seen (:func:`_remember`)
        self._connect: dict[str, list[tuple[bytes, Normalise | None]]] = {}
        self._connect_keys: dict[str, list[tuple[bytes, Normalise | None]]] = {}
        self._avro: dict[tuple[str, int], tuple[Any, Normalise | None]] = {}

    # ---- registry schemas (the worker fetches them in a thread before decoding: agents/ingest.py)
    def missing_schema_ids(self, table: str, *data: Bytes | None) -> list[int]:
        """Registry schema ids in ``data`` (a key, a value) that are neither fixed nor fetched yet."""
        if self.registry is None:
            return []
        fixed = {codec_for(table).key.schema_id, codec_for(table).value.schema_id}
        out = []
        for raw in data:
            if raw is not None and len(raw) >= 5 and raw[0] == MAGIC:
                (schema_id,) = struct.unpack_from(">I", bytes(raw[:5]), 1)
                if schema_id not in fixed and self.registry.cached(schema_id) is None:
                    out.append(schema_id)
        return out

    def fetch_schema(self, schema_id: int) -> None:
        """Fetch a writer schema (blocking); RegistryUnavailable or DecodeError."""
        assert self.registry is not None
        self.registry.fetch(schema_id)

    # ---- values
    def decode_value(self, table: str, data: Bytes | None) -> dict[str, Any] | None:
        """The contract envelope of one value, ``None`` for a tombstone. Raises DecodeError (poison) or
        RegistryUnavailable (retry)."""
        if data is None:
            return None
        if data.__class__ is not bytes:
            data = bytes(data)
        if not data:
            raise DecodeError("empty", f"{table}: zero bytes")
        if data[0] == MAGIC:
            return self._avro_value(table, data)
        if data.startswith(_PREFIX):
            payload, normalise = _known_payload(data, self._connect.get(table, ()))
            if payload is not _FAILED:
                assert normalise is not None
                return None if payload is None else normalise(payload)
            return self._connect_json(table, data)
        value = codec_for(table).value.decode(data)
        if value is not None and "payload" in value and "schema" in value and "op" not in value:
            return self._connect_doc(table, value, None)
        return value

    def decode_key(self, table: str, data: Bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        if data.__class__ is not bytes:
            data = bytes(data)
        if data[:1] == _MAGIC_BYTE and len(data) >= 5:
            (schema_id,) = struct.unpack_from(">I", data, 1)
            if schema_id != codec_for(table).key.schema_id and self.registry is not None:
                parsed, _ = self._registry_schema(table, schema_id)
                record = self._read_avro(table, parsed, data)
                return record
        if data.startswith(_PREFIX):
            payload, _ = _known_payload(data, self._connect_keys.get(table, ()))
            if payload is not _FAILED:
                return payload if payload.__class__ is dict else None
        key = codec_for(table).key.decode(data)
        if key is not None and "payload" in key and "schema" in key:
            text = _schema_text(data, key["schema"])
            if text is not None:
                _remember(self._connect_keys, table, text, None)
            payload = key["payload"]
            return payload if isinstance(payload, dict) else None
        return key

    # ---- Connect JSON (schemas.enable=true)
    def _connect_json(self, table: str, data: bytes) -> dict[str, Any] | None:
        """A Connect JSON record whose schema is not one seen yet (else :meth:`decode_value` read it)."""
        doc = codec_for(table).decode_value(data)  # the whole record: DecodeError if it is not JSON
        if doc is None:
            return None
        return self._connect_doc(table, doc, data)

    def _connect_doc(self, table: str, doc: Mapping[str, Any], data: bytes | None) -> dict[str, Any] | None:
        schema, payload = doc.get("schema"), doc.get("payload")
        if not isinstance(schema, Mapping) or schema.get("type") != "struct":
            raise DecodeError("bad_schema", f"{table}: the embedded Connect schema is not a struct")
        row = _row_struct(schema.get("fields"), lambda f: f.get("field"))
        normalise = envelope_normaliser(table, _connect_columns(row) if row is not None else None, self.zone)
        text = _schema_text(data, schema) if data is not None else None
        if text is not None:  # later records of this table version start with these bytes: reuse it
            _remember(self._connect, table, text, normalise)
        return normalise(payload) if payload is not None else None

    # ---- Avro
    def _avro_value(self, table: str, data: bytes) -> dict[str, Any] | None:
        if len(data) < 5:
            raise DecodeError("bad_avro", f"{table}: {len(data)} bytes is too short for the wire format")
        (schema_id,) = struct.unpack_from(">I", data, 1)
        side = codec_for(table).value
        if schema_id == side.schema_id or self.registry is None:
            return side.decode(data)  # the contract's fixed ids (DecodeError for any other without registry)
        parsed, normalise = self._registry_schema(table, schema_id)
        record = self._read_avro(table, parsed, data)
        return normalise(record) if normalise is not None else record

    def _registry_schema(self, table: str, schema_id: int) -> tuple[Any, Normalise | None]:
        found = self._avro.get((table, schema_id))
        if found is not None:
            return found
        assert self.registry is not None
        parsed, raw = self.registry.fetch(schema_id)  # RegistryUnavailable / DecodeError propagate
        normalise: Normalise | None = None
        if isinstance(raw, Mapping) and raw.get("type") == "record":
            row = _row_struct(raw.get("fields"), lambda f: f.get("name"))
            if row is not None:
                kind = row.get("type")
                record = next((k for k in kind if isinstance(k, dict)), None) if isinstance(kind, list) else kind
                columns = _avro_columns(record) if isinstance(record, Mapping) else None
                normalise = envelope_normaliser(table, columns, self.zone)
        self._avro[(table, schema_id)] = (parsed, normalise)
        return parsed, normalise

    def _read_avro(self, table: str, parsed: Any, data: bytes) -> dict[str, Any]:
        stream = io.BytesIO(data)
        stream.seek(5)
        try:
            record = fastavro.schemaless_reader(stream, parsed, None)
        except Exception as exc:  # fastavro raises many types on damaged input: all mean "bad Avro"
            raise DecodeError("bad_avro", f"{table}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(record, dict):
            raise DecodeError("not_an_object", f"{table}: Avro value is not a record")
        return record


_FAILED: Any = object()
_CLOSE = ord("}")
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in its __init__ (CPython)
_PER_TABLE = 8  # schema versions remembered per table (a table has a handful over its life)


def _known_payload(data: bytes, known: Iterable[tuple[bytes, Normalise | None]]) -> tuple[Any, Normalise | None]:
    """The parsed payload of ``data`` and the normaliser of its schema if ``data`` is ``<prefix>...}`` for
    one of the ``known`` prefixes (:func:`_remember`: ``{"schema":<schema text>,"payload":``), else
    ``(_FAILED, None)``.

    Each schema text was checked to be a complete JSON value (:func:`_schema_text`), so a record that starts
    with exactly these bytes has that schema; only the payload, a fraction of the record, is parsed."""
    if data[-1] == _CLOSE:
        for prefix, normalise in known:
            if data.startswith(prefix):
                payload = _parse_slice(data, len(prefix), len(data) - 1)
                if payload is not _FAILED:
                    return payload, normalise
    return _FAILED, None


def _scan_slice(data: bytes, start: int, stop: int) -> Any:
    """The JSON value of ``data[start:stop]`` (the whole slice) by the standard library, else _FAILED."""
    try:  # the C scanner directly: json.loads adds an encoding probe and a whitespace regex per call
        text = data[start:stop].decode("utf-8")
        value, end = _SCAN(text, 0)
    except (ValueError, RecursionError, StopIteration):
        return _FAILED  # then the whole record is parsed (and its error, if any, reported)
    return value if end == len(text) else _FAILED


def _orjson_slice(data: bytes, start: int, stop: int) -> Any:
    """:func:`_scan_slice` by orjson (about 2.5 times faster on Debezium's payloads). What it refuses and
    the standard library might accept (integers beyond 64 bits, NaN, lone surrogates) gives _FAILED: the
    whole record is then parsed by the standard library, so a record decodes the same either way."""
    try:
        return _orjson_loads(memoryview(data)[start:stop])
    except ValueError:  # orjson.JSONDecodeError
        return _FAILED


try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; without it the standard library does it all
    _parse_slice = _scan_slice
    PAYLOAD_PARSER = "json"
else:
    _parse_slice = _orjson_slice
    PAYLOAD_PARSER = "orjson"


def _schema_text(data: bytes, schema: Any) -> bytes | None:
    """The exact bytes of ``schema`` at the start of ``data``, or None when they cannot be told apart."""
    if not data.startswith(_PREFIX):
        return None
    cut = data.find(_SPLIT)
    if cut <= 0:
        return None
    text = data[len(_PREFIX):cut]
    try:
        return text if json.loads(text) == schema else None
    except (ValueError, RecursionError):
        return None


def _remember(cache: dict[str, list[tuple[bytes, Normalise | None]]], table: str, text: bytes,
              normalise: Normalise | None) -> None:
    """Remember the schema ``text`` of ``table`` as the bytes a record with it starts with."""
    prefix = _PREFIX + text + _SPLIT
    known = cache.setdefault(table, [])
    known[:] = [(prefix, normalise), *[k for k in known if k[0] != prefix]][:_PER_TABLE]


def decoder_for_settings(settings: Any) -> SisDecoder:
    """The decoder the settings ask for (a registry client when ``schemaRegistry.url`` is set)."""
    registry = SchemaRegistry(settings.schema_registry) if settings.schema_registry.url else None
    return SisDecoder(settings.sis.time_zone, registry)


__all__ = ["RegistryUnavailable", "RowNormaliser", "SisDecoder", "contract_columns", "decoder_for_settings"]
