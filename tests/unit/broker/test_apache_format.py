"""The Kafka node's storage formats whatever cluster id is drawn (one in 64 random ids starts with "-")."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.broker import apache
from streams.broker.apache import ApacheKafka
from streams.broker.jars import kafka_classpath

pytestmark = pytest.mark.integration


def test_cluster_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([b"\xfb" + bytes(15), bytes(16)])  # the first encodes to "-w...", the second to "AAAA..."
    monkeypatch.setattr(apache.uuid, "uuid4", lambda: apache.uuid.UUID(bytes=next(draws)))
    cid = apache._cluster_id()
    assert not cid.startswith("-") and cid == "A" * 22


def test_storage_formats_with_an_id_that_starts_with_a_dash(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    kafka_classpath()  # the jars are fetched by `make kafka`; this raises with that hint when they are absent
    monkeypatch.setattr(apache, "_cluster_id", lambda: "-wAAAAAAAAAAAAAAAAAAAA")
    node = ApacheKafka(workdir=tmp_path)
    node._format(node._write_config())
    meta = (tmp_path / "data" / "meta.properties").read_text()
    assert "cluster.id=-wAAAAAAAAAAAAAAAAAAAA" in meta
