"""The identity map over the Faust ``identity`` table: bytes keys, compact JSON bytes values, and values
written by earlier versions (JSON dicts) still readable."""

from __future__ import annotations

import json

import pytest

from agents.egress import TableIdentityMap
from streams.edfi.identity import IdentityEntry


def test_entries_are_stored_as_compact_json_bytes_and_read_back() -> None:
    table: dict[bytes, object] = {}
    identity = TableIdentityMap(table)
    entry = IdentityEntry("0f3c", "hash-1", "ASMT|uri://ed-fi.org|SAID-1|1001")
    identity["SAID-1"] = entry
    raw = table[b"SAID-1"]
    assert isinstance(raw, bytes) and b" " not in raw
    assert json.loads(raw) == {"id": "0f3c", "h": "hash-1", "k": "ASMT|uri://ed-fi.org|SAID-1|1001"}
    assert identity["SAID-1"] == entry
    assert list(identity) == ["SAID-1"] and len(identity) == 1


def test_a_value_from_an_older_changelog_as_a_dict_is_still_understood() -> None:
    table: dict[bytes, object] = {b"SAID-2": {"id": "77", "h": None, "k": ""}}
    assert TableIdentityMap(table)["SAID-2"] == IdentityEntry("77", None, "")


def test_missing_and_deleted_entries_raise_key_error() -> None:
    identity = TableIdentityMap({})
    with pytest.raises(KeyError):
        identity["nope"]
    identity["SAID-3"] = IdentityEntry("1", "h", "k")
    del identity["SAID-3"]
    with pytest.raises(KeyError):
        del identity["SAID-3"]
    assert identity.get("SAID-3") is None
