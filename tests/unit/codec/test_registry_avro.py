"""Confluent wire-format Avro whose ids a Schema Registry assigned: fetched by id over HTTP (with the
credentials of the settings), cached, decoded with Debezium's connect.name logical types; a registry that
does not answer is retryable, never poison."""

from __future__ import annotations

import base64
import io
import struct
from typing import Any

import fastavro
import pytest

from streams.codec.debezium import SisDecoder
from streams.codec.registry import RegistryUnavailable, SchemaRegistry
from streams.config import SchemaRegistrySettings
from streams.errors import DecodeError
from streams.sis.events import parse_change
from tests.support.registry import Registry

# Debezium's Avro writer schema for a TestScore change, as its converter (Confluent AvroData) writes it
VALUE = {"type": "record", "name": "Envelope", "namespace": "sis.public.TestScore", "fields": [
    {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
        {"name": "scoreID", "type": "int"}, {"name": "personID", "type": "int"}, {"name": "testID", "type": "int"},
        {"name": "date", "type": ["null", {"type": "int", "connect.version": 1,
                                            "connect.name": "io.debezium.time.Date"}], "default": None},
        {"name": "scaleScore", "type": ["null", "string"], "default": None},
        {"name": "percent", "type": ["null", {"type": "bytes", "scale": 2, "precision": 5, "connect.version": 1,
                                               "connect.parameters": {"scale": "2"},
                                               "connect.name": "org.apache.kafka.connect.data.Decimal",
                                               "logicalType": "decimal"}], "default": None}],
        "connect.name": "sis.public.TestScore.Value"}], "default": None},
    {"name": "after", "type": ["null", "Value"], "default": None},
    {"name": "source", "type": {"type": "record", "name": "Source", "namespace": "io.debezium.connector.postgresql",
                                "fields": [{"name": "lsn", "type": ["null", "long"], "default": None},
                                           {"name": "table", "type": "string"}]}},
    {"name": "op", "type": "string"}, {"name": "ts_ms", "type": ["null", "long"], "default": None}]}
KEY = {"type": "record", "name": "Key", "namespace": "sis.public.TestScore",
       "fields": [{"name": "scoreID", "type": "int"}]}


def framed(schema_id: int, schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def change(**after: Any) -> dict[str, Any]:
    import decimal

    row = {"scoreID": 17, "personID": 1001, "testID": 9001, "date": 19815, "scaleScore": "512",
           "percent": decimal.Decimal("87.50"), **after}
    return {"before": None, "after": row, "source": {"lsn": 26686080, "table": "TestScore"}, "op": "c",
            "ts_ms": 1796149298590}


def test_registry_ids_are_fetched_once_and_decoded_with_debeziums_logical_types() -> None:
    import json

    with Registry(require_auth="Basic " + base64.b64encode(b"reader:s3cret").decode()) as registry:
        key_id = registry.register("sis.public.TestScore-key", json.dumps(KEY))
        value_id = registry.register("sis.public.TestScore-value", json.dumps(VALUE))
        settings = SchemaRegistrySettings(url=registry.url)
        client = SchemaRegistry(settings, environ={settings.username_env: "reader",
                                                   settings.password_env: "s3cret"})
        decoder = SisDecoder(registry=client)
        key = framed(key_id, KEY, {"scoreID": 17})
        for _ in range(3):
            value = decoder.decode_value("sis.test_scores", framed(value_id, VALUE, change()))
        event = parse_change("sis.test_scores", decoder.decode_key("sis.test_scores", key), value or {})
        assert (event.key, str(event.after.date), event.after.percent) == (17, "2024-04-02", "87.50")  # type: ignore[union-attr]
        assert event.seq == 26686080
        fetched = [path for _, path in registry.requests if path.startswith("/schemas/ids/")]
        assert sorted(fetched) == sorted({f"/schemas/ids/{key_id}", f"/schemas/ids/{value_id}"})  # cached


def test_wrong_credentials_and_an_outage_are_retryable_an_unknown_id_is_poison() -> None:
    with Registry(require_auth="Bearer right") as registry:
        settings = SchemaRegistrySettings(url=registry.url)
        wrong = SisDecoder(registry=SchemaRegistry(settings, environ={settings.token_env: "wrong"}))
        with pytest.raises(RegistryUnavailable):
            wrong.decode_value("sis.test_scores", framed(1, VALUE, change()))
        decoder = SisDecoder(registry=SchemaRegistry(settings, environ={settings.token_env: "right"}))
        with pytest.raises(DecodeError) as caught:
            decoder.decode_value("sis.test_scores", framed(1, VALUE, change()))
        assert caught.value.reason == "unknown_schema_id"
        import json

        schema_id = registry.register("sis.public.TestScore-value", json.dumps(VALUE))
        registry.down = True
        with pytest.raises(RegistryUnavailable):
            decoder.decode_value("sis.test_scores", framed(schema_id, VALUE, change()))
        registry.down = False  # back: the same record now decodes (nothing was lost)
        assert decoder.decode_value("sis.test_scores", framed(schema_id, VALUE, change()))["op"] == "c"  # type: ignore[index]


def test_a_registry_that_does_not_listen_is_retryable() -> None:
    settings = SchemaRegistrySettings(url="http://127.0.0.1:9", timeout_seconds=1)
    decoder = SisDecoder(registry=SchemaRegistry(settings, environ={}))
    assert decoder.missing_schema_ids("sis.test_scores", framed(42, VALUE, change())) == [42]
    with pytest.raises(RegistryUnavailable):
        decoder.fetch_schema(42)


def test_without_a_registry_other_ids_stay_unknown_schema_ids() -> None:
    with pytest.raises(DecodeError) as caught:
        SisDecoder().decode_value("sis.test_scores", framed(5, VALUE, change()))
    assert caught.value.reason == "unknown_schema_id"
