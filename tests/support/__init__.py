"""Helpers that tests of more than one folder share (a scenario district, an in-memory Schema Registry)."""
