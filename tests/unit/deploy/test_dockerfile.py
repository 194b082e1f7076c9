"""The worker image's Dockerfile (no Docker engine here to build it): base, user, entrypoint, context."""

from __future__ import annotations

import json
import re

import yaml

from tests.unit.deploy.deploy_tools import CHART, DEPLOY, REPO

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_base_images_are_python_311_slim() -> None:
    bases = [rest.split()[0] for kw, rest in instructions() if kw == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases)


def test_runs_edfi_stream_worker_as_the_charts_non_root_user() -> None:
    steps = instructions()
    final = steps[max(i for i, (kw, _) in enumerate(steps) if kw == "FROM"):]
    users = [rest for kw, rest in final if kw == "USER"]
    assert users, "the runtime stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)
    assert json.loads(next(rest for kw, rest in final if kw == "ENTRYPOINT")) == ["edfi-stream"]
    assert json.loads(next(rest for kw, rest in final if kw == "CMD")) == ["worker"]
    assert any(kw == "EXPOSE" and rest == "6066" for kw, rest in final)


def test_copy_sources_exist_in_the_build_context() -> None:
    for kw, rest in instructions():
        if kw == "COPY" and not rest.startswith("--from"):
            *sources, _dest = rest.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository root"
