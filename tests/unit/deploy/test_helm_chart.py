"""The Helm chart, rendered by Helm's own template engine (PyPI helm-python-sdk), checked object by object;
the manifests validated against Kubernetes 1.30 schemas (kubernetes-validate --strict) and by yamllint.

Without the tools these tests skip, and fail when EDFI_STREAM_REQUIRE_DEPLOY_TOOLS=1 (CI)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.config import load_settings
from tests.unit.deploy.deploy_tools import CHART, DEPLOY, RULES, require

REQUIRE = "EDFI_STREAM_REQUIRE_DEPLOY_TOOLS"
K8S_VERSION = "1.30.0"
YAMLLINT_CONFIG = DEPLOY / "yamllint.yaml"


def tool(module: str, what: str) -> None:
    require(what, REQUIRE, importlib.util.find_spec(module) is not None)


@pytest.fixture(scope="module")
def helm() -> Any:
    tool("helm_python", "helm-python-sdk (pip)")
    import helm_python

    return helm_python


def render_raw(helm: Any, values: dict[str, Any] | None = None) -> dict[str, str]:
    chart = helm.Chart.load(str(CHART))
    try:
        out: dict[str, str] = chart.render(values or {}, name="district", namespace="edfi")
    finally:
        chart.close()
    return out


def render(helm: Any, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name, text in sorted(render_raw(helm, values).items()):
        if name.endswith(".yaml"):
            docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    c: dict[str, Any] = containers[0]
    return c


def env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(docs)["env"]}


def test_lint(helm: Any) -> None:
    result = helm.lint(str(CHART))
    assert result["errors"] == [], result


def test_lint_reports_bad_values(helm: Any) -> None:
    assert helm.lint(str(CHART), {"replicaCount": 0})["errors"]


def test_default_render(helm: Any) -> None:
    docs = render(helm)
    assert sorted(d["kind"] for d in docs) == [
        "ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount"]
    deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    c = container(docs)
    assert deployment["spec"]["replicas"] == 2
    assert c["command"] + c["args"] == ["edfi-stream", "worker"]
    assert c["image"] == "edfi-stream:0.1.0"
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert "resources" not in c
    assert c["ports"] == [{"name": "http", "containerPort": 6066, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"

    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = one(docs, "Service")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 6066, "targetPort": "http", "protocol": "TCP"}]
    for selector in (service["spec"]["selector"], deployment["spec"]["selector"]["matchLabels"],
                     one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]):
        assert selector and selector.items() <= pod_labels.items()
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert pod["serviceAccountName"] == one(docs, "ServiceAccount")["metadata"]["name"]


def test_config_map_is_the_contract_config_the_worker_reads(helm: Any, tmp_path: Path) -> None:
    docs = render(helm, {"config": {
        "schoolYear": {"startDate": "2024-07-01", "endDate": "2025-06-30", "endYear": 2025},
        "assessmentKeys": {"State Mathematics Assessment": "Math"},
        "edfi": {"baseUrl": "https://ods.district.example/api"},
        "kafka": {"bootstrapServers": "kafka-0:9093,kafka-1:9093", "topicPartitions": 6}}})
    config_map = one(docs, "ConfigMap")
    c = container(docs)
    assert env(docs)["EDFI_STREAM_CONFIG"] == "/etc/edfi-stream/config.yaml"
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/etc/edfi-stream")
    volume = next(v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
                  if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]

    path = tmp_path / "config.yaml"
    path.write_text(config_map["data"]["config.yaml"], encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.school_year.end_year == 2025
    assert settings.assessment_keys == {"State Mathematics Assessment": "Math"}
    assert settings.edfi.base_url == "https://ods.district.example/api"
    assert settings.edfi.client_id_env == "EDFI_CLIENT_ID"  # chart defaults merged with the override
    assert settings.kafka.bootstrap_servers == "kafka-0:9093,kafka-1:9093"
    assert settings.kafka.topic_partitions == 6
    assert settings.worker.web_port == 6066
    data_dir = next(m for m in c["volumeMounts"] if m["name"] == "data")["mountPath"]
    assert settings.worker.data_dir == data_dir


def test_chart_made_secret(helm: Any) -> None:
    docs = render(helm, {"secrets": {"edfiClientId": "district-key", "edfiClientSecret": "s3cret"}})
    secret = one(docs, "Secret")
    assert secret["stringData"] == {"edfiClientId": "district-key", "edfiClientSecret": "s3cret"}
    variables = env(docs)
    for name, key in [("EDFI_CLIENT_ID", "edfiClientId"), ("EDFI_CLIENT_SECRET", "edfiClientSecret"),
                      ("EDFI_STREAM_KAFKA_SASL_USERNAME", "kafkaSaslUsername"),
                      ("EDFI_STREAM_KAFKA_SASL_PASSWORD", "kafkaSaslPassword")]:
        assert variables[name]["secretKeyRef"]["name"] == secret["metadata"]["name"]
        assert variables[name]["secretKeyRef"]["key"] == key
    assert variables["EDFI_STREAM_KAFKA_SASL_PASSWORD"]["secretKeyRef"]["optional"] is True
    assert "s3cret" not in one(docs, "ConfigMap")["data"]["config.yaml"]
    assert all("s3cret" not in str(e) for e in container(docs)["env"])

    kafka = {"secrets": {"kafkaSaslUsername": "u", "kafkaSaslPassword": "p"}}
    with_kafka = one(render(helm, kafka), "Secret")
    assert with_kafka["stringData"]["kafkaSaslUsername"] == "u"
    assert with_kafka["stringData"]["kafkaSaslPassword"] == "p"


def test_existing_secret(helm: Any) -> None:
    docs = render(helm, {"secrets": {"existingSecret": "edfi-creds",
                                     "existingSecretKeys": {"edfiClientSecret": "client_secret"}}})
    assert not [d for d in docs if d["kind"] == "Secret"]
    variables = env(docs)
    assert variables["EDFI_CLIENT_SECRET"]["secretKeyRef"] == {"name": "edfi-creds", "key": "client_secret"}
    assert variables["EDFI_CLIENT_ID"]["secretKeyRef"] == {"name": "edfi-creds", "key": "EDFI_CLIENT_ID"}
    assert variables["EDFI_STREAM_KAFKA_SASL_USERNAME"]["secretKeyRef"]["name"] == "edfi-creds"


def test_env_names_follow_the_config(helm: Any) -> None:
    docs = render(helm, {"config": {"edfi": {"baseUrl": "http://ods", "clientIdEnv": "ODS_KEY",
                                             "clientSecretEnv": "ODS_SECRET"},
                                    "kafka": {"bootstrapServers": "k:9092"}}})
    assert {"ODS_KEY", "ODS_SECRET"} <= set(env(docs))
    assert "EDFI_CLIENT_ID" not in env(docs)


def test_monitoring_objects_off_by_default_and_on_when_asked(helm: Any) -> None:
    docs = render(helm, {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus"}},
                         "prometheusRule": {"enabled": True}})
    monitor = one(docs, "ServiceMonitor")
    service = one(docs, "Service")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s",
                                            "scrapeTimeout": "10s"}]
    rule = one(docs, "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]

    only_rules = render(helm, {"prometheusRule": {"enabled": True}})
    assert [d["kind"] for d in only_rules].count("ServiceMonitor") == 0
    assert [d["kind"] for d in only_rules].count("PrometheusRule") == 1


def ingress_of(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    policy = one(docs, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= \
        one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"].items()
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    peers: list[dict[str, Any]] = rule["from"]
    return peers


def test_network_policy_admits_only_the_release_by_default(helm: Any) -> None:
    docs = render(helm)
    own = one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    assert ingress_of(docs) == [{"podSelector": {"matchLabels": own}}]


def test_network_policy_admits_the_namespaces_and_pods_named(helm: Any) -> None:
    docs = render(helm, {"networkPolicy": {"namespaces": ["monitoring", "ingress-nginx"],
                                           "pods": [{"app": "console"}],
                                           "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}})
    peers = ingress_of(docs)
    assert peers[1:] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
        {"podSelector": {"matchLabels": {"app": "console"}}},
        {"ipBlock": {"cidr": "10.0.0.0/8"}}]
    assert not [d for d in render(helm, {"networkPolicy": {"enabled": False}}) if d["kind"] == "NetworkPolicy"]


def test_web_credentials_come_from_the_secret(helm: Any, tmp_path: Path) -> None:
    docs = render(helm, {"secrets": {"webViewerToken": "view-t", "webOperatorUser": "ops",
                                     "webOperatorPassword": "op-pw"}})
    secret = one(docs, "Secret")
    assert {k: v for k, v in secret["stringData"].items() if k.startswith("web")} == {
        "webViewerToken": "view-t", "webOperatorUser": "ops", "webOperatorPassword": "op-pw"}
    variables = env(docs)
    for name, key in [("EDFI_STREAM_WEB_VIEWER_TOKEN", "webViewerToken"),
                      ("EDFI_STREAM_WEB_OPERATOR_PASSWORD", "webOperatorPassword"),
                      ("EDFI_STREAM_WEB_OPERATOR_TOKEN", "webOperatorToken")]:
        assert variables[name]["secretKeyRef"] == {"name": secret["metadata"]["name"], "key": key, "optional": True}
    assert all("op-pw" not in str(e) for e in container(docs)["env"])
    assert "op-pw" not in one(docs, "ConfigMap")["data"]["config.yaml"]

    existing = env(render(helm, {"secrets": {"existingSecret": "creds",
                                             "existingSecretKeys": {"webViewerToken": "viewer_token"}}}))
    assert existing["EDFI_STREAM_WEB_VIEWER_TOKEN"]["secretKeyRef"]["key"] == "viewer_token"
    assert existing["EDFI_STREAM_WEB_OPERATOR_USER"]["secretKeyRef"]["key"] == "EDFI_STREAM_WEB_OPERATOR_USER"
    renamed = env(render(helm, {"config": {"edfi": {"baseUrl": "http://ods"}, "kafka": {"bootstrapServers": "k"},
                                           "web": {"viewerTokenEnv": "STEWARD_TOKEN"}}}))
    assert renamed["STEWARD_TOKEN"]["secretKeyRef"]["key"] == "webViewerToken"


def test_workers_advertise_their_pod_address(helm: Any) -> None:
    variables = env(render(helm))
    assert variables["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert variables["EDFI_STREAM_WORKER__ADVERTISED_URL"] == "http://$(POD_IP):6066"
    names = [e["name"] for e in container(render(helm))["env"]]
    assert names.index("POD_IP") < names.index("EDFI_STREAM_WORKER__ADVERTISED_URL")  # defined before use


def test_allowed_hosts_are_the_service_names_and_those_given(helm: Any, tmp_path: Path) -> None:
    docs = render(helm, {"config": {"edfi": {"baseUrl": "https://ods"}, "kafka": {"bootstrapServers": "k"},
                                    "web": {"allowedHosts": ["edfi.district.example"], "timeZone": "America/Denver"}}})
    path = tmp_path / "config.yaml"
    path.write_text(one(docs, "ConfigMap")["data"]["config.yaml"], encoding="utf-8")
    settings = load_settings(path, environ={})
    service = one(docs, "Service")["metadata"]["name"]
    assert settings.web.allowed_hosts == ["localhost", service, f"{service}.edfi", f"{service}.edfi.svc",
                                          f"{service}.edfi.svc.cluster.local", "edfi.district.example"]
    assert settings.web.time_zone == "America/Denver"


def test_replicas_never_exceed_partitions(helm: Any) -> None:
    assert one(render(helm, {"replicaCount": 4}), "Deployment")["spec"]["replicas"] == 4
    refused = r"replicaCount \(5\) must not exceed config.kafka.topicPartitions \(4\)"
    with pytest.raises(helm.HelmError, match=refused):
        render_raw(helm, {"replicaCount": 5})
    more = {"replicaCount": 8, "config": {"edfi": {"baseUrl": "http://ods"},
                                          "kafka": {"bootstrapServers": "k:9092", "topicPartitions": 8}}}
    assert one(render(helm, more), "Deployment")["spec"]["replicas"] == 8


@pytest.mark.parametrize(("values", "message"), [
    ({"replicaCount": 0}, "/replicaCount"),
    ({"replicaCount": "two"}, "/replicaCount"),
    ({"replicas": 2}, "replicas"),
    ({"config": {"edfi": {"baseUrl": "http://ods", "clientSecret": "x"}, "kafka": {"bootstrapServers": "k"}}},
     "clientSecret"),
    ({"config": {"edfi": {"baseUrl": "ods.example"}, "kafka": {"bootstrapServers": "k"}}}, "baseUrl"),
    ({"config": {"kafka": {"bootstrapServers": "k", "saslPassword": "p"}}}, "saslPassword"),
    ({"config": {"edfi": {"baseUrl": "http://ods", "apiToken": "t"}, "kafka": {"bootstrapServers": "k"}}},
     "apiToken"),
    ({"config": {"kafka": {"bootstrapServers": "k", "saslPassphrase": "p"}}}, "saslPassphrase"),
    ({"config": {"kafka": {"bootstrapServers": "k", "topicPartitions": 0}}}, "topicPartitions"),
    ({"serviceMonitor": {"enabled": "yes"}}, "/serviceMonitor/enabled"),
    ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    ({"networkPolicy": {"enabled": "yes"}}, "/networkPolicy/enabled"),
    ({"networkPolicy": {"namespaces": ["Monitoring"]}}, "/networkPolicy/namespaces"),
    ({"networkPolicy": {"allowAll": True}}, "allowAll"),
    ({"networkPolicy": {"pods": [{}]}}, "/networkPolicy/pods"),
    ({"config": {"edfi": {"baseUrl": "http://ods"}, "kafka": {"bootstrapServers": "k"},
                 "web": {"password": "x"}}}, "password"),
    ({"config": {"edfi": {"baseUrl": "http://ods"}, "kafka": {"bootstrapServers": "k"},
                 "web": {"allowedHosts": ["http://x"]}}}, "allowedHosts"),
])
def test_schema_rejects_bad_values(helm: Any, values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=message):
        render_raw(helm, values)


def test_notes_warn_without_credentials(helm: Any) -> None:
    assert "WARNING: no Ed-Fi client secret" in render_raw(helm)["edfi-stream/templates/NOTES.txt"]
    notes = render_raw(helm, {"secrets": {"existingSecret": "creds"}})["edfi-stream/templates/NOTES.txt"]
    assert "WARNING" not in notes and "Secret creds (existing)" in notes
    assert "WARNING: no web credentials" in render_raw(helm)["edfi-stream/templates/NOTES.txt"]
    with_web = render_raw(helm, {"secrets": {"edfiClientSecret": "s", "webViewerToken": "t"}})
    assert "WARNING" not in with_web["edfi-stream/templates/NOTES.txt"]


def manifests(helm: Any, tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "manifests.yaml"
    rendered = render_raw(helm, values)
    path.write_text("".join(f"---\n# Source: {name}\n{text.strip()}\n"
                            for name, text in sorted(rendered.items())
                            if name.endswith(".yaml") and text.strip()), encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120,
                          check=False)


ALL_ON = {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True},
          "networkPolicy": {"namespaces": ["monitoring"], "pods": [{"app": "ingress"}],
                            "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
          "secrets": {"existingSecret": "creds"},
          "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}


@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["default", "all-on"])
def test_manifests_pass_kubernetes_schemas(helm: Any, tmp_path: Path, values: dict[str, Any]) -> None:
    tool("kubernetes_validate", "kubernetes-validate (pip)")
    result = run("kubernetes_validate", "-k", K8S_VERSION, "--strict", str(manifests(helm, tmp_path, values)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed for resource deployment/district-edfi-stream" in result.stdout + result.stderr


def test_kubernetes_validate_catches_a_bad_field(tmp_path: Path) -> None:
    """The check above can fail: --strict refuses a field Kubernetes does not know."""
    tool("kubernetes_validate", "kubernetes-validate (pip)")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
                                   "spec": {"ports": [{"port": 6066}], "enableServiceLinks": False}}))
    assert run("kubernetes_validate", "-k", K8S_VERSION, "--strict", str(bad)).returncode != 0


@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["default", "all-on"])
def test_manifests_pass_yamllint(helm: Any, tmp_path: Path, values: dict[str, Any]) -> None:
    tool("yamllint", "yamllint (pip)")
    result = run("yamllint", "--strict", "-c", str(YAMLLINT_CONFIG), str(manifests(helm, tmp_path, values)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_yaml_files_pass_yamllint() -> None:
    tool("yamllint", "yamllint (pip)")
    files = [CHART / "Chart.yaml", CHART / "values.yaml", *CHART.joinpath("files").glob("*.yaml"),
             *DEPLOY.joinpath("prometheus").rglob("*.yaml")]
    result = run("yamllint", "--strict", "-c", str(YAMLLINT_CONFIG), *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("flag", ["1", "0"])
def test_missing_tool_fails_only_when_required(monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    monkeypatch.setenv(REQUIRE, flag)
    expected = pytest.fail.Exception if flag == "1" else pytest.skip.Exception
    with pytest.raises(expected):
        tool("edfi_stream_no_such_module_xyz", "a missing tool")


def test_the_topics_and_registry_values_reach_the_worker(helm: Any, tmp_path: Path) -> None:
    docs = render(helm, {"config": {
        "topics": {"testScores": "campus.campus.dbo.TestScore", "enrollments": "campus.campus.dbo.Enrollment"},
        "schemaRegistry": {"url": "https://schema-registry:8081", "tokenEnv": "REGISTRY_TOKEN"},
        "sis": {"timeZone": "America/Denver"}}})
    path = tmp_path / "config.yaml"
    path.write_text(one(docs, "ConfigMap")["data"]["config.yaml"], encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.topic_map().kafka("sis.test_scores") == "campus.campus.dbo.TestScore"
    assert settings.topic_map().kafka("sis.students") == "sis.students"
    assert settings.schema_registry.url == "https://schema-registry:8081"
    assert settings.sis.time_zone == "America/Denver"
    with pytest.raises(Exception, match="topics"):
        render(helm, {"config": {"topics": {"scores": "x"}}})  # the schema knows the table keys
