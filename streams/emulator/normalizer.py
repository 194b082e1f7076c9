"""The studentAssessment schema compiled once into one function per schema node, for :func:`.validation.normalize`.

Why: the ODS's reader rules (unknown members dropped, numeric and boolean strings converted, dates stored as
they read back, integers out of range refused) were applied by walking the schema for every value of every
body: resolving each ``$ref`` (a copy of the definition), looking up its type and format, and building
each leaf's path and label, a message it would only need on an error. In ``simulate`` that walk was the
largest single part of the emulator's cost per write (docs/performance.md, "simulate beside the rules").
Compiled, each node's rule is decided once; a body's walk does only what its values need, and a path or a
label is built only for a message. The verdicts and the stored values are the walk's (the emulator's
tests: tests/unit/emulator/test_validation.py, test_contract.py, test_normalizer.py).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from streams.emulator import datetimes

Errors = dict[str, list[str]]
Rule = Callable[[Any, Errors, str], Any]

ROOT = "edFi_studentAssessment"
NEVER_STORED = ("link", "_etag", "_lastModifiedDate")
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
INTEGER_TEXT = re.compile(r"^\s*[-+]?\d+\s*$")


def _label(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    return name[:1].upper() + name[1:]


def _same(value: Any, errors: Errors, path: str) -> Any:
    return value


class Compiler:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self._definitions = definitions
        self._rules: dict[str, Rule] = {}

    def root(self) -> Rule:
        return self._definition(ROOT)

    def _definition(self, name: str) -> Rule:
        rule = self._rules.get(name)
        if rule is None:
            # a placeholder first, so that a definition that (indirectly) refers to itself compiles
            holder: list[Rule] = []
            self._rules[name] = lambda value, errors, path: holder[0](value, errors, path)
            holder.append(self._node(self._definitions[name]))
            rule = self._rules[name] = holder[0]
        return rule

    def node(self, node: dict[str, Any]) -> Rule:
        """An empty node means the root, as :func:`.validation.normalize` reads ``node or root``."""
        return self._node(node) if node else self.root()

    def _node(self, node: dict[str, Any]) -> Rule:
        ref = node.get("$ref")
        if ref:
            return self._definition(ref.rsplit("/", 1)[-1])
        kind = node.get("type")
        if kind == "object":
            return self._object(node)
        if kind == "array":
            return self._array(node)
        if kind == "integer":
            return _integer(node.get("format"))
        if kind == "number":
            return _number
        if kind == "boolean":
            return _boolean
        if kind == "string" and node.get("format") in ("date", "date-time"):
            return _date(node["format"] == "date-time")
        return _same

    def _object(self, node: dict[str, Any]) -> Rule:
        properties = {name: self.node(child) for name, child in node.get("properties", {}).items()
                      if name not in NEVER_STORED}

        def rule(value: Any, errors: Errors, path: str) -> Any:
            if not isinstance(value, dict):
                return value
            return {k: properties[k](v, errors, f"{path}.{k}") for k, v in value.items() if k in properties}

        return rule

    def _array(self, node: dict[str, Any]) -> Rule:
        item = self.node(node.get("items", {}))

        def rule(value: Any, errors: Errors, path: str) -> Any:
            if not isinstance(value, list):
                return value
            return [item(v, errors, f"{path}[{i}]") for i, v in enumerate(value)]

        return rule


def _integer(form: str | None) -> Rule:
    low, high = INT_RANGES.get(form or "int64", INT_RANGES["int64"])
    system = "System.Int32" if form == "int32" else "System.Int64"

    def rule(value: Any, errors: Errors, path: str) -> Any:
        if isinstance(value, str) and INTEGER_TEXT.match(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            errors.setdefault(path, []).append(f"Error converting value {value} to type '{system}'.")
        return value

    return rule


def _number(value: Any, errors: Errors, path: str) -> Any:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    return value


def _boolean(value: Any, errors: Errors, path: str) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    return value


def _date(with_time: bool) -> Rule:
    def rule(value: Any, errors: Errors, path: str) -> Any:
        if not isinstance(value, str):
            return value
        # stored as the ODS reads it back (datetimes.py); what its reader refuses is a 400
        stored = datetimes.read_back(value, with_time)
        if stored is None:
            errors.setdefault(path, []).append(f"The value '{value}' is not valid for {_label(path)}.")
            return value
        return stored

    return rule
