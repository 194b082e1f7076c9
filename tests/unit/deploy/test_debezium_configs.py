"""deploy/debezium/: the connector configurations and the topics: settings that go with them agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from streams.config import Settings
from streams.topics import SIS_TABLE_NAMES, SIS_TABLES

DEPLOY = Path(__file__).parents[3] / "deploy" / "debezium"


@pytest.mark.parametrize(("connector", "example"), [("postgres-connector.json", "postgres"),
                                                    ("sqlserver-connector.json", "sqlserver")])
def test_each_connector_captures_the_seven_tables_under_the_topics_the_settings_name(connector: str,
                                                                                      example: str) -> None:
    config = json.loads((DEPLOY / connector).read_text())["config"]
    settings = Settings.model_validate(yaml.safe_load((DEPLOY / "edfi-stream-topics.yaml").read_text())[example])
    topics = settings.topic_map()
    captured = config["table.include.list"].split(",")
    assert sorted(t.split(".")[-1] for t in captured) == sorted(SIS_TABLE_NAMES.values())
    database = f"{config['database.names']}." if "database.names" in config else ""  # SQL Server adds it
    for table in SIS_TABLES:
        schema_table = next(c for c in captured if c.split(".")[-1] == SIS_TABLE_NAMES[table])
        assert topics.kafka(table) == f"{config['topic.prefix']}.{database}{schema_table}"
    # what edfi-stream needs from Debezium: deletes with tombstones, truncates visible, a snapshot first
    assert config["snapshot.mode"] == "initial" and config["skipped.operations"] == "none"
    assert config["tombstones.on.delete"] == "true"
    assert config["database.password"].startswith("${file:")  # the secret comes from a config provider
