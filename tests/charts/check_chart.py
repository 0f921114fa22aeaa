#!/usr/bin/python3
"""Renders the Helm chart under many value sets and checks every object.

For each scenario: values are validated against values.schema.json (as Helm
does), the templates are rendered by render/ (Go text/template + sprig, the
engine Helm uses), and every rendered object is
  * checked strictly against the Kubernetes API models of python3-kubernetes
    (unknown fields and wrong types fail; required fields must be present),
  * checked against the admission rules our users' policies enforce
    (non-root, read-only root filesystem, no privilege escalation, all
    capabilities dropped, seccomp RuntimeDefault, resource limits, pinned image),
  * linted with yamllint.
Negative scenarios must fail with a message that names the bad value.

Each rendered daemon config is also validated by the real
`prescale check-config`, so the chart and the daemon agree on the schema.

Usage: check_chart.py CHART_DIR RENDER_BINARY [PRESCALE_BINARY]
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import kubernetes.client as k8s
import yaml

CHART, RENDER = sys.argv[1], sys.argv[2]
PRESCALE = sys.argv[3] if len(sys.argv) > 3 else None
failures = []


def fail(scenario, message):
    failures.append(f"[{scenario}] {message}")


def deep_merge(base, overlay):
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# ---- strict model check ------------------------------------------------------

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object,
              "datetime": str, "date": str}
# Kinds that are CRDs (no python3-kubernetes model): the spec fields we use.
CRD_SPEC_FIELDS = {
    ("cert-manager.io/v1", "Issuer"): {"selfSigned", "ca"},
    ("cert-manager.io/v1", "Certificate"): {"secretName", "duration", "dnsNames", "issuerRef"},
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {"selector", "endpoints"},
}


def model_name(api_version, kind):
    version = api_version.split("/")[-1]
    return version[0].upper() + version[1:] + kind


def check_model(value, type_name, path, scenario):
    if value is None:
        return
    if type_name.startswith("list["):
        if not isinstance(value, list):
            fail(scenario, f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_model(item, type_name[5:-1], f"{path}[{i}]", scenario)
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            fail(scenario, f"{path}: expected a map")
            return
        inner = type_name[type_name.index(",") + 1:-1].strip()
        for k, v in value.items():
            check_model(v, inner, f"{path}.{k}", scenario)
        return
    if type_name in PRIMITIVES:
        expected = PRIMITIVES[type_name]
        if type_name == "int" and isinstance(value, bool):
            fail(scenario, f"{path}: expected int, got bool")
        elif not isinstance(value, expected):
            fail(scenario, f"{path}: expected {type_name}, got {type(value).__name__} ({value!r})")
        return
    klass = getattr(k8s, type_name, None)
    if klass is None:
        fail(scenario, f"{path}: no model {type_name}")
        return
    if not isinstance(value, dict):
        fail(scenario, f"{path}: expected an object ({type_name})")
        return
    by_json = {json_key: attr for attr, json_key in klass.attribute_map.items()}
    for key, child in value.items():
        if key not in by_json:
            fail(scenario, f"{path}.{key}: unknown field for {type_name}")
            continue
        check_model(child, klass.openapi_types[by_json[key]], f"{path}.{key}", scenario)


def check_object(obj, scenario):
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    where = f"{kind}/{obj.get('metadata', {}).get('name')}"
    if not api_version or not kind:
        fail(scenario, f"{where}: apiVersion and kind are required")
        return
    crd = CRD_SPEC_FIELDS.get((api_version, kind))
    if crd is not None:
        check_model(obj.get("metadata"), "V1ObjectMeta", f"{where}.metadata", scenario)
        unknown = set(obj.get("spec", {})) - crd
        if unknown:
            fail(scenario, f"{where}.spec: unknown fields {sorted(unknown)}")
        return
    name = model_name(api_version, kind)
    if getattr(k8s, name, None) is None:
        fail(scenario, f"{where}: unknown kind {api_version} {kind}")
        return
    check_model(obj, name, where, scenario)
    # Required fields, as the client's own deserializer enforces them.
    try:
        k8s.ApiClient()._ApiClient__deserialize(obj, name)
    except (ValueError, TypeError) as error:
        fail(scenario, f"{where}: {error}")


# ---- admission policy --------------------------------------------------------

def check_policy(obj, scenario):
    if obj.get("kind") != "Deployment":
        return
    pod = obj["spec"]["template"]["spec"]
    where = f"Deployment/{obj['metadata']['name']}"
    pod_sc = pod.get("securityContext", {})
    if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(scenario, f"{where}: pod seccompProfile must be RuntimeDefault")
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        cname = f"{where} container {container['name']}"
        sc = container.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            fail(scenario, f"{cname}: runAsNonRoot must be true")
        if sc.get("runAsUser", pod_sc.get("runAsUser", 0)) == 0:
            fail(scenario, f"{cname}: must run with a fixed non-zero UID")
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(scenario, f"{cname}: readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(scenario, f"{cname}: allowPrivilegeEscalation must be false")
        if sc.get("privileged"):
            fail(scenario, f"{cname}: privileged is not allowed")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            fail(scenario, f"{cname}: capabilities must drop ALL")
        limits = container.get("resources", {}).get("limits", {})
        if "cpu" not in limits or "memory" not in limits:
            fail(scenario, f"{cname}: cpu and memory limits are required")
        image = container.get("image", "")
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            fail(scenario, f"{cname}: image {image!r} must be pinned to a version or digest")
        for probe in ("readinessProbe", "livenessProbe"):
            http = container.get(probe, {}).get("httpGet", {})
            if http.get("scheme") != "HTTPS":
                fail(scenario, f"{cname}: {probe} must use HTTPS")


# ---- scenarios ---------------------------------------------------------------

with open(os.path.join(CHART, "values.yaml")) as f:
    DEFAULTS = yaml.safe_load(f)
with open(os.path.join(CHART, "values.schema.json")) as f:
    SCHEMA = json.load(f)

TARGET = {"metric": "payments-rps-forecast", "namespace": "payments", "labels": {"app": "payments"},
          "query": 'sum(rate(http_requests_total{app="payments"}[1m]))', "step": "1m",
          "history": "35d", "leadTime": "5m", "quantile": 0.9, "capacityPerReplica": 120}

SCENARIOS = {
    "defaults": {},
    "with-calendars": {"config": {"calendars": {"nyse": {"timezone": "America/New_York",
                                                          "sessions": [{"name": "market-open", "start": "09:30", "end": "16:00"}]}},
                                  "targets": [dict(TARGET, calendars=["nyse"])]}},
    "cert-manager": {"tls": {"mode": "certManager"}},
    "cert-manager-issuer": {"tls": {"mode": "certManager",
                                    "certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}}},
    "existing-secret": {"tls": {"mode": "secret", "existingSecret": "prescale-tls", "caBundle": "Q0E="}},
    "insecure-apiservice": {"apiService": {"insecureSkipTLSVerify": True}},
    "no-apiservice": {"apiService": {"create": False}},
    "service-monitor": {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}}},
    "network-policy": {"networkPolicy": {"enabled": True, "apiServerCIDRs": ["10.0.0.1/32"],
                                         "prometheusPeers": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]}},
    "no-pdb-no-spread": {"podDisruptionBudget": {"enabled": False},
                         "topologySpreadConstraints": {"enabled": False}},
    "external-service-account": {"serviceAccount": {"create": False, "name": "platform-sa"}},
    "digest": {"image": {"digest": "sha256:" + "a" * 64}},
    "keda": {"keda": {"enabled": True}, "apiService": {"create": False}},
    "scheduling": {"nodeSelector": {"pool": "system"}, "priorityClassName": "system-cluster-critical",
                   "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}],
                   "imagePullSecrets": [{"name": "regcred"}], "podAnnotations": {"team": "platform"}},
}
# Must be refused, with the message naming the bad value (regex).
NEGATIVE = {
    "latest-tag": ({"image": {"tag": "latest"}}, r"latest"),
    "bad-tls-mode": ({"tls": {"mode": "letsencrypt"}}, r"tls\.mode|letsencrypt"),
    "secret-without-ca": ({"tls": {"mode": "secret", "existingSecret": "x"}}, r"caBundle"),
    "secret-without-name": ({"tls": {"mode": "secret", "caBundle": "Q0E="}}, r"existingSecret"),
    "bad-replicas": ({"replicaCount": "two"}, r"replicaCount|'two'"),
    "unknown-key": ({"replicas": 3}, r"replicas"),
    "bad-duration": ({"config": {"targets": [dict(TARGET, leadTime="5 minutes")]}}, r"5 minutes"),
    "no-sa-name": ({"serviceAccount": {"create": False}}, r"serviceAccount\.name"),
    "no-targets": ({}, r"config\.targets"),
    "keda-low-port": ({"keda": {"enabled": True, "port": 80}}, r"keda\.port|80"),
}


# Every scenario but "no-targets" carries one target: the chart (like the
# daemon) refuses a config without targets.
BASE = {"config": {"targets": [TARGET]}}


def validate_and_render(name, overlay):
    if name != "no-targets":
        overlay = deep_merge(BASE, overlay)
    values = deep_merge(DEFAULTS, overlay)
    try:
        jsonschema.validate(values, SCHEMA)
    except jsonschema.ValidationError as error:
        path = ".".join(str(p) for p in error.absolute_path)
        return None, f"values.schema.json: {path}: {error.message}"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(overlay, f)
        overlay_file = f.name
    try:
        result = subprocess.run([RENDER, "-chart", CHART, "-f", overlay_file],
                                capture_output=True, text=True)
        notes = subprocess.run([RENDER, "-chart", CHART, "-f", overlay_file, "-notes"],
                               capture_output=True, text=True)
    finally:
        os.unlink(overlay_file)
    if result.returncode != 0:
        return None, result.stderr.strip()
    if notes.returncode != 0 or "kubectl get --raw" not in notes.stdout:
        return None, "NOTES.txt: " + notes.stderr.strip()
    return result.stdout, None


YAMLLINT_CONFIG = "{extends: default, rules: {line-length: {max: 200, allow-non-breakable-inline-mappings: true}, document-start: {present: true}, comments: {min-spaces-from-content: 1}, comments-indentation: disable, truthy: {check-keys: false}}}"

for name, overlay in SCENARIOS.items():
    rendered, error = validate_and_render(name, overlay)
    if error:
        fail(name, f"render failed: {error}")
        continue
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = sorted(d["kind"] for d in docs)
    for doc in docs:
        check_object(doc, name)
        check_policy(doc, name)
    lint = subprocess.run(["yamllint", "-d", YAMLLINT_CONFIG, "-"], input=rendered,
                          capture_output=True, text=True)
    if lint.returncode != 0:
        fail(name, "yamllint:\n" + lint.stdout)
    if PRESCALE:
        config_text = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.yaml"]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(config_text)
            config_file = f.name
        check = subprocess.run([PRESCALE, "check-config", config_file], capture_output=True, text=True)
        os.unlink(config_file)
        if check.returncode != 0:
            fail(name, "prescale check-config refuses the rendered config: " + check.stderr.strip())
    # What each toggle promises.
    has = lambda kind: kind in kinds
    if name == "defaults":
        for kind in ["Deployment", "Service", "ConfigMap", "ServiceAccount", "APIService", "Secret",
                     "ClusterRole", "ClusterRoleBinding", "RoleBinding", "PodDisruptionBudget"]:
            if not has(kind):
                fail(name, f"missing {kind}")
        apiservice = next(d for d in docs if d["kind"] == "APIService")
        if not apiservice["spec"].get("caBundle") or apiservice["spec"].get("insecureSkipTLSVerify"):
            fail(name, "APIService must carry the generated caBundle and verify TLS")
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        if deployment["spec"]["replicas"] != 2:
            fail(name, "two replicas by default")
    if name == "no-apiservice" and has("APIService"):
        fail(name, "apiService.create=false still renders an APIService")
    if name == "insecure-apiservice":
        spec = next(d for d in docs if d["kind"] == "APIService")["spec"]
        if spec.get("insecureSkipTLSVerify") is not True or "caBundle" in spec:
            fail(name, "insecureSkipTLSVerify must be set alone")
    if name.startswith("cert-manager"):
        if not has("Certificate") or has("Secret"):
            fail(name, "cert-manager mode renders a Certificate and no generated Secret")
        if (name == "cert-manager") != has("Issuer"):
            fail(name, "a self-signed Issuer only when no issuerRef is given")
    if name == "service-monitor" and not has("ServiceMonitor"):
        fail(name, "missing ServiceMonitor")
    if name == "network-policy" and not has("NetworkPolicy"):
        fail(name, "missing NetworkPolicy")
    if name == "no-pdb-no-spread":
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        if has("PodDisruptionBudget") or "topologySpreadConstraints" in deployment["spec"]["template"]["spec"]:
            fail(name, "PDB and topology spread must be off")
    if name == "external-service-account":
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        if has("ServiceAccount") or deployment["spec"]["template"]["spec"]["serviceAccountName"] != "platform-sa":
            fail(name, "must use the given ServiceAccount and not create one")
    if name == "keda":
        config = yaml.safe_load(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.yaml"])
        service = next(d for d in docs if d["kind"] == "Service")
        if config["server"].get("keda", {}).get("address") != "0.0.0.0:9443" or has("APIService"):
            fail(name, "keda.enabled must configure server.keda, and no APIService is wanted here")
        if 9443 not in [p["port"] for p in service["spec"]["ports"]]:
            fail(name, "the Service must expose the KEDA gRPC port")
    if name == "defaults":
        config = yaml.safe_load(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.yaml"])
        if config["targets"][0]["metric"] != "payments-rps-forecast" or "tlsCertFile" not in config["server"]:
            fail(name, "the daemon config must carry the targets and the chart's server section")
    print(f"ok   {name}: {len(docs)} objects ({', '.join(kinds)})")

for name, (overlay, pattern) in NEGATIVE.items():
    rendered, error = validate_and_render(name, overlay)
    if rendered is not None:
        fail(name, "rendered, but must be refused")
    elif not re.search(pattern, error):
        fail(name, f"refused, but the message does not name the problem: {error}")
    else:
        print(f"ok   {name}: refused: {error.splitlines()[0][:120]}")

if failures:
    print("\n".join(failures))
    print(f"{len(failures)} chart check(s) failed")
    sys.exit(1)
print(f"chart: {len(SCENARIOS)} value sets rendered and checked, {len(NEGATIVE)} refused")
