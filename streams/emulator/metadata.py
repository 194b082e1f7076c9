"""The metadata an Ed-Fi bulk loader reads before it sends (API-BEHAVIOUR.md 5): the OpenAPI index, the
dependency order, minimal but valid OpenAPI 3 documents of the resources and descriptors this emulator
knows, and the descriptor values.

Why: tools such as lightbeam (the JSONL loader districts use) start by reading the discovery document,
``/metadata/data/v3/dependencies`` (which resources exist, in which order) and, to validate, the
Resources and Descriptors swagger and every descriptor's values. Serving them lets such a tool run against
the emulator unchanged (benchmarks/egress_vs_lightbeam.py).

The Resources document reuses the packaged StudentAssessment schema (an extract of the Ed-Fi DS 5.0
resources specification) and adds the identity-only schemas of the resources we seed (student, school,
staff, assessment); the Descriptors document has one path and one schema per descriptor the emulated ODS
holds (every descriptor resource has the same shape in Ed-Fi).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from streams.emulator.reference import OdsReference

# Dependency order of what the emulator stores (API-BEHAVIOUR.md 1.9); descriptors come first in an ODS.
RESOURCES: tuple[str, ...] = ("schools", "students", "staffs", "assessments", "objectiveAssessments",
                              "assessmentItems", "studentAssessments")
# The identity of each seeded resource (name, type): enough for a loader to resolve references.
SEEDED_IDENTITY: dict[str, tuple[str, dict[str, Any]]] = {
    "schools": ("edFi_school", {"schoolId": {"type": "integer", "format": "int64"}}),
    "students": ("edFi_student", {"studentUniqueId": {"type": "string", "maxLength": 32}}),
    "staffs": ("edFi_staff", {"staffUniqueId": {"type": "string", "maxLength": 32}}),
    "assessments": ("edFi_assessment", {"assessmentIdentifier": {"type": "string", "maxLength": 60},
                                        "namespace": {"type": "string", "maxLength": 255}}),
    "objectiveAssessments": ("edFi_objectiveAssessment", {
        "identificationCode": {"type": "string", "maxLength": 60},
        "assessmentReference": {"type": "object", "required": ["assessmentIdentifier", "namespace"],
                                "properties": {"assessmentIdentifier": {"type": "string", "maxLength": 60},
                                               "namespace": {"type": "string", "maxLength": 255}}}}),
}
SEEDED_IDENTITY["assessmentItems"] = ("edFi_assessmentItem", SEEDED_IDENTITY["objectiveAssessments"][1])
PAGING_PARAMETERS: list[dict[str, Any]] = [
    {"name": "offset", "in": "query", "schema": {"type": "integer", "format": "int32"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32", "maximum": 500}},
    {"name": "totalCount", "in": "query", "schema": {"type": "boolean"}},
]


def discovery(base_url: str) -> dict[str, Any]:
    """``GET /``: the ODS's VersionController answer (``ApiVersionConstants``: application name, version
    7.3, informational version 7.3.2, suite 3; ``VersionControllerTests`` requires the ``urls`` listed)."""
    base = base_url.rstrip("/")
    return {
        "version": "7.3", "applicationName": "Ed-Fi Alliance ODS/API", "informationalVersion": "7.3.2",
        "suite": "3", "build": "7.3.0.0",
        "dataModels": [{"name": "Ed-Fi", "version": "5.2.0", "informationalVersion": "5.2.0"}],
        "urls": {
            "dependencies": f"{base}/metadata/data/v3/dependencies",
            "openApiMetadata": f"{base}/metadata/",
            "oauth": f"{base}/oauth/token",
            "dataManagementApi": f"{base}/data/v3/",
            "xsdMetadata": f"{base}/metadata/xsd",
            "changeQueries": f"{base}/changeQueries/v1/",
            "composites": f"{base}/composites/v1/",
            "identity": f"{base}/identity/v2/",
        },
    }


def index(base_url: str) -> list[dict[str, str]]:
    """``GET /metadata/``: where the OpenAPI documents are (the ODS shape)."""
    base = base_url.rstrip("/")
    return [{"name": "Enrollment", "endpointUri": f"{base}/metadata/composites/v1/ed-fi/enrollment/swagger.json",
             "prefix": "Composites"},
            {"name": "Identity", "endpointUri": f"{base}/metadata/identity/v2/swagger.json", "prefix": "Other"},
            {"name": "Descriptors", "endpointUri": f"{base}/metadata/data/v3/descriptors/swagger.json",
             "prefix": ""},
            {"name": "Resources", "endpointUri": f"{base}/metadata/data/v3/resources/swagger.json", "prefix": ""}]


def descriptor_resource(name: str) -> str:
    """``AssessmentReportingMethodDescriptor`` -> ``assessmentReportingMethodDescriptors``."""
    return name[0].lower() + name[1:] + "s"


@cache
def ods_dependencies() -> tuple[dict[str, Any], ...]:
    """What an ODS/API 7.3 on DS 5.2 answers on ``/metadata/data/v3/dependencies`` (its approved file)."""
    text = resources.files("streams.emulator").joinpath("data/dependencies-ds-5.2.approved.json").read_text(
        encoding="utf-8-sig")
    return tuple(json.loads(text))


@cache
def _ed_fi_descriptor_resources() -> frozenset[str]:
    """Lower-cased names of every descriptor resource of Data Standard 5.2."""
    return frozenset(d["resource"].rsplit("/", 1)[-1].lower() for d in ods_dependencies()
                     if d["resource"].endswith("Descriptors"))


def descriptor_name(resource: str, reference: OdsReference) -> str | None:
    """``performanceLevelDescriptors`` -> ``PerformanceLevelDescriptor`` when the emulated ODS has such a
    descriptor resource (a Data Standard descriptor, or one loaded, such as Kansas's), else None."""
    lowered = resource.lower()
    for name in reference.descriptors:
        if descriptor_resource(name).lower() == lowered:
            return name
    if lowered in _ed_fi_descriptor_resources():
        return resource[0].upper() + resource[1:-1]
    return None


def dependencies(reference: OdsReference) -> list[dict[str, Any]]:
    """``GET /metadata/data/v3/dependencies``: the ODS's entries (order and operations as its approved file
    gives them) for every resource the emulator serves, and order 1 for descriptors it holds that the Data
    Standard has not (Kansas's)."""
    served = {f"/ed-fi/{r}" for r in RESOURCES}
    out = [dict(d) for d in ods_dependencies() if d["resource"] in served or d["resource"].endswith("Descriptors")]
    known = {d["resource"].lower() for d in out}
    out += [{"resource": f"/ed-fi/{descriptor_resource(name)}", "order": 1, "operations": ["Create", "Update"]}
            for name in sorted(reference.descriptors) if f"/ed-fi/{descriptor_resource(name)}".lower() not in known]
    return sorted(out, key=lambda d: (d["order"], d["resource"]))


@cache
def _student_assessment_schemas() -> dict[str, Any]:
    text = resources.files("streams.emulator").joinpath("data/studentAssessment.schema.json").read_text()
    # the packaged extract uses JSON-schema "#/definitions/"; OpenAPI 3 keeps schemas in components
    text = text.replace('"#/definitions/', '"#/components/schemas/')
    return dict(json.loads(text)["definitions"])


def _operations(resource: str, schema: str, identity: list[str]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": ref}}}}
    filters = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in identity]
    return {
        f"/ed-fi/{resource}": {
            "get": {"operationId": f"get{resource}", "tags": [resource], "parameters": PAGING_PARAMETERS + filters,
                    "responses": {"200": ok}},
            "post": {"operationId": f"post{resource}", "tags": [resource],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                     "responses": {"200": {"description": "Updated"}, "201": {"description": "Created"}}},
        },
        f"/ed-fi/{resource}/{{id}}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": f"get{resource}ById", "tags": [resource],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}},
            "delete": {"operationId": f"delete{resource}ById", "tags": [resource],
                       "responses": {"204": {"description": "Deleted"}}},
        },
    }


def _document(title: str, paths: dict[str, Any], schemas: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Ed-Fi {title} (edfi-stream emulator)", "version": "5.0.0"},
        "servers": [{"url": f"{base_url.rstrip('/')}/data/v3"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"oauth2_client_credentials": {
            "type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": f"{base_url.rstrip('/')}/oauth/token",
                                                              "scopes": {}}}}}},
        "security": [{"oauth2_client_credentials": []}],
    }


def resources_swagger(base_url: str) -> dict[str, Any]:
    schemas = copy.deepcopy(_student_assessment_schemas())
    paths = _operations("studentAssessments", "edFi_studentAssessment",
                        ["studentAssessmentIdentifier", "assessmentIdentifier", "namespace", "studentUniqueId"])
    for resource, (schema, identity) in SEEDED_IDENTITY.items():
        schemas[schema] = {"type": "object", "required": list(identity), "properties": {
            "id": {"type": "string"},
            **{k: {**v, "x-Ed-Fi-isIdentity": True} for k, v in identity.items()}}}
        query = [k for k, v in identity.items() if v["type"] != "object"]
        if resource in ("objectiveAssessments", "assessmentItems"):
            query += ["assessmentIdentifier", "namespace"]
        paths.update(_operations(resource, schema, query))
    return _document("Resources", paths, schemas, base_url)


def _descriptor_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["codeValue", "namespace", "shortDescription"], "properties": {
        "id": {"type": "string"},
        "codeValue": {"type": "string", "maxLength": 50, "x-Ed-Fi-isIdentity": True},
        "namespace": {"type": "string", "maxLength": 255, "x-Ed-Fi-isIdentity": True},
        "shortDescription": {"type": "string", "maxLength": 75},
        "description": {"type": "string", "maxLength": 1024}}}


def descriptors_swagger(reference: OdsReference, base_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name in sorted(reference.descriptors):
        schema = f"edFi_{name[0].lower()}{name[1:]}"
        schemas[schema] = _descriptor_schema()
        paths.update(_operations(descriptor_resource(name), schema, ["codeValue", "namespace"]))
    return _document("Descriptors", paths, schemas, base_url)


def serve(reference: OdsReference, base_url: str, lowered: str) -> tuple[int, Any]:
    """Route a ``/metadata...`` path (lower-cased): (status, JSON body)."""
    path = lowered.rstrip("/")
    if path.endswith("/dependencies"):
        return 200, dependencies(reference)
    if path.endswith("/resources/swagger.json"):
        return 200, resources_swagger(base_url)
    if path.endswith("/descriptors/swagger.json"):
        return 200, descriptors_swagger(reference, base_url)
    if path.endswith(("/enrollment/swagger.json", "/identity/v2/swagger.json")):
        # listed as the ODS lists them; the emulator serves none of their operations
        return 200, _document("Enrollment" if "enrollment" in path else "Identity", {}, {}, base_url)
    if path == "/metadata":
        return 200, index(base_url)
    return 404, {"message": "The specified metadata could not be found."}
