"""How the settings loader reads YAML and reports problems: one line, never a secret's value.

* :data:`SettingsLoader`: YAML's safe loader without the implicit timestamp rule. With it, an impossible
  date (``2024-02-30``) in the file or an environment variable raised ``ValueError`` inside PyYAML (a
  traceback); without it every date is a string that pydantic checks and reports like any other value.
* :func:`secret_looking`: a key that names a secret by its spelling (``*secret*``, ``*password*``,
  ``*token*``, ``*key``...): matched by pattern, so ``edfi.apiToken`` or ``kafka.saslPassphrase`` are caught
  as well as the keys the contract names. The product's own settings that match (``clientSecretEnv``,
  ``tokenRefreshMarginSeconds``, ``sslKeyfile``) are declared fields and are never secrets.
* :func:`describe_validation`: a pydantic ``ValidationError`` as one line, ``path: message`` per problem;
  the offending value is quoted only for a declared setting (never for an unknown or secret-looking key).
* :func:`describe_yaml_error`: the YAML problem and its position, without the text of the line (which may
  hold a secret).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

SECRET_PATTERN = re.compile(r"secret|passw|passphrase|pwd|token|credential|bearer|key$")
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
VALUE_SHOWN_MAX = 40
PROBLEMS_SHOWN_MAX = 5


class SettingsLoader(yaml.SafeLoader):
    """Safe YAML without the timestamp rule (dates stay strings; pydantic validates them)."""


SettingsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SettingsLoader)


def norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").replace(".", "").lower()


def secret_looking(key: str) -> bool:
    return bool(SECRET_PATTERN.search(norm(key)))


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{problem}{where}"


def declared_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The normalised path of every declared setting of ``model`` (nested models included)."""
    out: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        path = (*prefix, norm(field.alias or name))
        out.add(path)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= declared_paths(ann, path)
    return out


def describe_validation(exc: ValidationError, declared: set[tuple[str, ...]]) -> str:
    """``declared``: :func:`declared_paths` of the model (their values may be quoted: never secrets)."""
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error.get("loc", ()))
        path = ".".join(loc) or "(top level)"
        if error.get("type") == "extra_forbidden":
            problems.append(f"{path}: not a setting")
            continue
        message = str(error.get("msg", "invalid"))
        shown = ""
        value = error.get("input")
        if tuple(norm(p) for p in loc) in declared and isinstance(value, str | int | float | bool):
            text = str(value)
            shown = f" (got '{text[:VALUE_SHOWN_MAX]}{'...' if len(text) > VALUE_SHOWN_MAX else ''}')"
        problems.append(f"{path}: {message}{shown}")
    more = len(problems) - PROBLEMS_SHOWN_MAX
    line = "; ".join(problems[:PROBLEMS_SHOWN_MAX]) + (f"; and {more} more" if more > 0 else "")
    return " ".join(line.split())  # one line, whatever the messages hold
