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
The values files under charts/prescale/ci/ (one per mode) are rendered and
checked the same way, each alone, as `helm install -f` would use them.

Each rendered daemon config is also validated by the real
`prescale check-config`, so the chart and the daemon agree on the schema.

Certificates across upgrades: the chart is rendered again with the first
render's objects as `lookup` returns them (an upgrade), and must keep the
same CA, caBundle and serving certificate; near expiry or when told it
renews, and every certificate it makes verifies (real openssl) against the
bundle it publishes.

The chart's version follows CHANGELOG.md and `prescale version`.

Usage: check_chart.py CHART_DIR RENDER_BINARY [PRESCALE_BINARY]
"""
import base64
import copy
import datetime
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
    ("cert-manager.io/v1", "Certificate"): {"secretName", "duration", "renewBefore", "dnsNames", "issuerRef",
                                            "isCA", "commonName", "privateKey", "usages"},
    ("keda.sh/v1alpha1", "TriggerAuthentication"): {"secretTargetRef"},
    ("keda.sh/v1alpha1", "ClusterTriggerAuthentication"): {"secretTargetRef"},
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {"selector", "endpoints"},
    ("monitoring.coreos.com/v1", "PrometheusRule"): {"groups"},
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
        # Probes go to the plain-HTTP probe port (its own thread and
        # connection budget), so a flood of the HTTPS port cannot fail them.
        for probe in ("readinessProbe", "livenessProbe"):
            http = container.get(probe, {}).get("httpGet", {})
            if http.get("port") != "probes" or http.get("scheme") != "HTTP":
                fail(scenario, f"{cname}: {probe} must use the plain-HTTP probe port")


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
    "grafana-dashboard": {"grafanaDashboard": {"enabled": True, "namespace": "monitoring", "folder": "Platform"}},
    "prometheus-rule": {"prometheusRule": {"enabled": True, "labels": {"release": "kps"},
                                           "runbookBaseURL": "https://git.example.com/prescale/-/blob/main/"}},
    "network-policy": {"networkPolicy": {"enabled": True, "apiServerCIDRs": ["10.0.0.1/32"],
                                         "prometheusPeers": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]}},
    "no-pdb-no-spread": {"podDisruptionBudget": {"enabled": False},
                         "topologySpreadConstraints": {"enabled": False}},
    "external-service-account": {"serviceAccount": {"create": False, "name": "platform-sa"}},
    "digest": {"image": {"digest": "sha256:" + "a" * 64}},
    "keda": {"keda": {"enabled": True}, "apiService": {"create": False}},
    "keda-user-client-ca": {"keda": {"enabled": True, "mutualTLS": True},
                            "config": {"server": {"keda": {"clientCAFile": "/etc/prescale/keda-ca/ca.crt"}}}},
    "scheduling": {"nodeSelector": {"pool": "system"}, "priorityClassName": "platform-critical",
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
    "bad-rotate": ({"tls": {"rotate": "everything"}}, r"rotate|everything"),
    "keda-namespaced-auth-without-namespaces": (
        {"keda": {"enabled": True, "triggerAuthentication": {"kind": "TriggerAuthentication"}}},
        r"keda\.triggerAuthentication\.namespaces"),
    "keda-cert-manager-without-secret": ({"tls": {"mode": "certManager"}, "keda": {"enabled": True}},
                                         r"keda\.triggerAuthentication\.existingSecret"),
    "keda-mtls-secret-mode-without-ca": (
        {"tls": {"mode": "secret", "existingSecret": "x", "caBundle": "Q0E="},
         "keda": {"enabled": True, "mutualTLS": True, "triggerAuthentication": {"existingSecret": "k"}}},
        r"clientCAFile"),
    "mount-without-path": ({"extraVolumeMounts": [{"name": "x"}]}, r"mountPath"),
    "self-service-without-keda": ({"keda": {"selfService": {"enabled": True}}}, r"keda\.enabled"),
    "self-service-bad-timeout": ({"keda": {"enabled": True, "selfService": {"idleTimeout": "an hour"}}},
                                 r"idleTimeout|an hour"),
    "args-not-strings": ({"extraArgs": [3]}, r"extraArgs|3"),
}


# Every scenario but "no-targets" carries one target: the chart (like the
# daemon) refuses a config without targets.
BASE = {"config": {"targets": [TARGET]}}


def validate_and_render(name, overlay, base=True, lookup=None, sets=()):
    if base and name != "no-targets":
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
    extra = [arg for s in sets for arg in ("--set", s)]
    if lookup is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(lookup)
            lookup_file = f.name
        extra += ["-lookup", lookup_file]
    try:
        result = subprocess.run([RENDER, "-chart", CHART, "-f", overlay_file, *extra],
                                capture_output=True, text=True)
        notes = subprocess.run([RENDER, "-chart", CHART, "-f", overlay_file, "-notes"],
                               capture_output=True, text=True)
    finally:
        os.unlink(overlay_file)
        if lookup is not None:
            os.unlink(lookup_file)
    if result.returncode != 0:
        return None, result.stderr.strip()
    if notes.returncode != 0 or "kubectl get --raw" not in notes.stdout:
        return None, "NOTES.txt: " + notes.stderr.strip()
    return result.stdout, None


YAMLLINT_CONFIG = "{extends: default, rules: {line-length: {max: 200, allow-non-breakable-inline-mappings: true}, document-start: {present: true}, comments: {min-spaces-from-content: 1}, comments-indentation: disable, truthy: {check-keys: false}}}"

# ---- what each ci/ values file and toggle promises ---------------------------

def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}{' ' + name if name else ''}, found {len(found)}")
    return found[0]


def config_map(docs):
    """The daemon's ConfigMap (the dashboard's is another)."""
    found = [d for d in docs if d["kind"] == "ConfigMap" and "config.yaml" in d.get("data", {})]
    if len(found) != 1:
        raise AssertionError(f"expected one ConfigMap with config.yaml, found {len(found)}")
    return found[0]


def pod_spec(docs):
    return one(docs, "Deployment")["spec"]["template"]["spec"]


def daemon_config(docs):
    return yaml.safe_load(config_map(docs)["data"]["config.yaml"])


def b64(text):
    return base64.b64decode(text).decode()


def pem_certificates(bundle):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", bundle, re.S)


def verifies(bundle_pem, cert_pem, purpose):
    """Real openssl: does cert_pem chain to a CA in bundle_pem for this purpose?"""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "ca.crt"), "w") as f:
            f.write(bundle_pem)
        with open(os.path.join(tmp, "leaf.crt"), "w") as f:
            f.write(cert_pem)
        result = subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile",
                                 os.path.join(tmp, "ca.crt"), os.path.join(tmp, "leaf.crt")],
                                capture_output=True, text=True)
        return result.returncode == 0


def key_matches(cert_pem, key_pem):
    def public_key(args, text):
        return subprocess.run(["openssl", *args], input=text, capture_output=True, text=True).stdout.strip()
    cert_key = public_key(["x509", "-noout", "-pubkey"], cert_pem)
    return cert_key != "" and cert_key == public_key(["pkey", "-pubout"], key_pem)


def san_names(cert_pem):
    text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=cert_pem,
                          capture_output=True, text=True).stdout
    return set(re.findall(r"DNS:([^,\s]+)", text))


def expect(condition, name, message):
    if not condition:
        fail(name, message)


def check_self_signed(name, docs):
    ca_secret, serving = one(docs, "Secret", "prescale-ca"), one(docs, "Secret", "prescale-tls")
    bundle = b64(serving["data"]["ca.crt"])
    cert, key = b64(serving["data"]["tls.crt"]), b64(serving["data"]["tls.key"])
    expect(b64(ca_secret["data"]["ca.crt"]) == bundle, name, "the CA Secret and the serving Secret disagree on ca.crt")
    expect(verifies(bundle, cert, "sslserver"), name, "the serving certificate does not verify against ca.crt")
    expect(key_matches(cert, key), name, "tls.key is not the serving certificate's key")
    expect("prescale.prescale.svc" in san_names(cert), name, "the serving certificate lacks <svc>.<ns>.svc")
    apiservice = [d for d in docs if d["kind"] == "APIService"]
    if apiservice:
        expect(b64(apiservice[0]["spec"]["caBundle"]) == bundle, name, "the caBundle is not the Secret's ca.crt")
    # The pods never mount the CA's key.
    volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
    expect(volumes["tls"]["secret"]["secretName"] == "prescale-tls", name, "pods must mount the serving Secret only")
    expect("checksum/tls" in one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"], name,
           "selfSigned mode: pods roll on a certificate rotation (checksum/tls)")


def check_cert_manager_chain(name, docs):
    issuers = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Issuer"}
    certificates = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Certificate"}
    expect(issuers.get("prescale-selfsigned") == {"selfSigned": {}}, name, "missing the self-signed root Issuer")
    ca = certificates.get("prescale-ca", {})
    expect(ca.get("isCA") is True and ca.get("issuerRef", {}).get("name") == "prescale-selfsigned", name,
           "the CA Certificate must be isCA and signed by the self-signed root")
    expect(ca.get("privateKey", {}).get("rotationPolicy") == "Never", name,
           "the CA's key must not rotate (renewals keep signed certificates valid)")
    expect(issuers.get("prescale-ca") == {"ca": {"secretName": "prescale-ca"}}, name,
           "missing the CA Issuer over the CA's Secret")
    serving = certificates.get("prescale", {})
    expect(serving.get("issuerRef", {}).get("name") == "prescale-ca", name,
           "the serving Certificate must be issued by the CA Issuer, not self-signed")
    expect("prescale.prescale.svc" in serving.get("dnsNames", []) and serving.get("secretName") == "prescale-tls",
           name, "the serving Certificate must cover <svc>.<ns>.svc into the mounted Secret")
    apiservice = [d for d in docs if d["kind"] == "APIService"]
    if apiservice:
        annotations = apiservice[0]["metadata"].get("annotations", {})
        expect(annotations.get("cert-manager.io/inject-ca-from") == "prescale/prescale", name,
               "the APIService needs the cainjector annotation naming the serving Certificate")
        expect("caBundle" not in apiservice[0]["spec"], name, "the cainjector fills caBundle; the chart must not")


def check_cert_manager_issuer(name, docs):
    expect(not [d for d in docs if d["kind"] == "Issuer"], name, "no Issuer when tls.certManager.issuerRef is given")
    serving = one(docs, "Certificate")["spec"]
    expect({k: serving["issuerRef"].get(k) for k in ("name", "kind")} == {"name": "corp-ca", "kind": "ClusterIssuer"}, name,
           "the serving Certificate must use the given issuerRef")


def check_keda_self_service(name, docs):
    config = daemon_config(docs)
    self_service = config["server"]["keda"].get("selfService", {})
    expect(self_service == {"enabled": True, "idleTimeout": "30m", "maxPerNamespace": 5, "maxTargets": 20,
                            "namespaces": ["shop", "checkout"]}, name,
           f"keda.selfService must reach server.keda.selfService (got {self_service})")
    expect(not config.get("targets"), name, "a config of trigger targets only renders without targets")


def check_keda_mtls(name, docs):
    config = daemon_config(docs)
    keda = config["server"].get("keda", {})
    expect(keda.get("address") == "0.0.0.0:9443" and keda.get("clientCAFile") == "/etc/prescale/tls/ca.crt", name,
           "keda.mutualTLS must serve on the KEDA port and require clients of the chart's CA")
    expect("APIService" not in [d["kind"] for d in docs], name, "no APIService where KEDA owns the group")
    service = one(docs, "Service")
    expect(9443 in [p["port"] for p in service["spec"]["ports"]], name, "the Service must expose the gRPC port")
    auth = one(docs, "ClusterTriggerAuthentication", "prescale")
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    expect(set(refs) == {"caCert", "tlsClientCert", "tlsClientKey"}, name,
           f"the ClusterTriggerAuthentication must give caCert, tlsClientCert, tlsClientKey (has {sorted(refs)})")
    secret = one(docs, "Secret", refs["caCert"]["name"])
    expect(secret["metadata"]["namespace"] == "keda", name, "a ClusterTriggerAuthentication's Secret lives in KEDA's namespace")
    serving = one(docs, "Secret", "prescale-tls")
    bundle = b64(serving["data"]["ca.crt"])
    expect(b64(secret["data"]["caCert"]) == bundle, name, "KEDA's caCert must be the CA of the serving certificate")
    client_cert, client_key = b64(secret["data"]["tlsClientCert"]), b64(secret["data"]["tlsClientKey"])
    expect(verifies(bundle, client_cert, "sslclient"), name, "KEDA's client certificate must verify against the CA the daemon requires")
    expect(key_matches(client_cert, client_key), name, "KEDA's client key does not match its certificate")
    policy = one(docs, "NetworkPolicy")["spec"]
    grpc_rules = [r for r in policy["ingress"] if {"port": "keda-grpc", "protocol": "TCP"} in r.get("ports", [])]
    expect(grpc_rules and grpc_rules[0]["from"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
        "podSelector": {"matchLabels": {"app": "keda-operator"}}}], name,
        "the NetworkPolicy must admit KEDA's operator pods (and only them) to the gRPC port")


def check_keda_cert_manager(name, docs):
    auths = [d for d in docs if d["kind"] == "TriggerAuthentication"]
    expect(sorted(d["metadata"]["namespace"] for d in auths) == ["checkout", "payments"], name,
           "one TriggerAuthentication per listed namespace")
    for auth in auths:
        expect(auth["spec"]["secretTargetRef"] == [{"parameter": "caCert", "name": "prescale-keda-ca", "key": "caCert"}],
               name, "the TriggerAuthentication must read caCert from the given Secret")
    expect(not [d for d in docs if d["kind"] == "Secret"], name, "certManager mode: the chart writes no Secret")


def check_escape_hatches(name, docs):
    kinds = [d["kind"] for d in docs]
    expect(not {"ClusterRole", "ClusterRoleBinding", "RoleBinding"} & set(kinds), name, "rbac.create=false renders no RBAC")
    spec = pod_spec(docs)
    container = spec["containers"][0]
    expect(spec.get("priorityClassName") == "platform-critical", name, "priorityClassName not applied")
    expect({"name": "prometheus-auth", "secret": {"secretName": "prometheus-basic-auth"}} in spec["volumes"], name,
           "extraVolumes not applied")
    expect({"name": "prometheus-auth", "mountPath": "/etc/prescale/prometheus", "readOnly": True}
           in container["volumeMounts"], name, "extraVolumeMounts not applied")
    expect(container.get("env") == [{"name": "PRESCALE_KERNEL", "value": "avx2"}], name, "env not applied")
    expect(container.get("envFrom") == [{"configMapRef": {"name": "prescale-env"}}], name, "envFrom not applied")
    expect(container["args"][-1] == "--fit-threads=2", name, "extraArgs must follow the chart's arguments")
    expect(one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"].get("team") == "platform", name,
           "podAnnotations not applied")
    config = daemon_config(docs)
    expect(config["prometheus"]["basicAuth"]["passwordFile"].startswith("/etc/prescale/prometheus/"), name,
           "the config's file keys point into the extra mount")


def check_existing_configmap(name, docs):
    expect("ConfigMap" not in [d["kind"] for d in docs], name, "existingConfigMap: the chart renders no ConfigMap")
    spec = pod_spec(docs)
    volumes = {v["name"]: v for v in spec["volumes"]}
    expect(volumes["config"]["configMap"]["name"] == "prescale-config", name, "the pods must mount existingConfigMap")
    expect("checksum/config-restart" not in one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"],
           name, "no config checksum for a ConfigMap the chart does not render")


def check_defaults_priority(name, docs):
    expect(pod_spec(docs).get("priorityClassName") == "system-cluster-critical", name,
           "metrics adapters run system-cluster-critical by default")


def check_keda_user_keys_kept(name, docs):
    keda = daemon_config(docs)["server"]["keda"]
    expect(keda.get("clientCAFile") == "/etc/prescale/keda-ca/ca.crt" and keda.get("address") == "0.0.0.0:9443", name,
           "the chart must merge into server.keda, keeping the user's clientCAFile")


def check_prometheus_rule(name, docs):
    """The PrometheusRule carries files/prometheus-rules.yaml (promtool-tested in
    tests/monitoring) unchanged but for the runbook URLs, made absolute."""
    rule = one(docs, "PrometheusRule")
    with open(os.path.join(CHART, "files", "prometheus-rules.yaml")) as f:
        shipped = yaml.safe_load(f)["groups"]
    base = "https://git.example.com/prescale/-/blob/main/"
    expected = copy.deepcopy(shipped)
    for group in expected:
        for r in group["rules"]:
            r["annotations"]["runbook_url"] = base + r["annotations"]["runbook_url"]
    expect(rule["spec"]["groups"] == expected, name,
           "the PrometheusRule's groups must be files/prometheus-rules.yaml with runbook URLs prefixed")
    expect(rule["metadata"]["labels"].get("release") == "kps", name,
           "prometheusRule.labels must reach the PrometheusRule (Prometheus selects rules by them)")
    alerts = sorted({r["alert"] for g in shipped for r in g["rules"]})
    with open(os.path.join(CHART, "..", "..", "docs", "operate.md")) as f:
        runbooks = f.read()
    for alert in alerts:
        expect(f"### {alert}" in runbooks, name, f"docs/operate.md has no runbook section '### {alert}'")


def check_grafana_dashboard(name, docs):
    """A ConfigMap Grafana's sidecar picks up: its label, the folder annotation,
    the namespace the sidecar watches, and the dashboard JSON unchanged."""
    dashboard = one(docs, "ConfigMap", "prescale-dashboard")
    meta = dashboard["metadata"]
    expect(meta["labels"].get("grafana_dashboard") == "1", name, "the sidecar's label grafana_dashboard: \"1\"")
    expect(meta.get("namespace") == "monitoring", name, "grafanaDashboard.namespace must place the ConfigMap")
    expect(meta.get("annotations", {}).get("grafana_folder") == "Platform", name,
           "grafanaDashboard.folder must become the grafana_folder annotation")
    with open(os.path.join(CHART, "files", "grafana-dashboard.json")) as f:
        shipped = json.load(f)
    expect(json.loads(dashboard["data"]["prescale.json"]) == shipped, name,
           "the ConfigMap must carry files/grafana-dashboard.json unchanged")
    expect(shipped.get("uid") and shipped.get("panels"), name, "the dashboard needs a uid and panels")


TOGGLE_CHECKS = {
    "grafana-dashboard": [check_grafana_dashboard],
    "prometheus-rule": [check_prometheus_rule],
    "defaults": [check_self_signed, check_defaults_priority],
    "cert-manager": [check_cert_manager_chain],
    "cert-manager-issuer": [check_cert_manager_issuer],
    "keda-user-client-ca": [check_keda_user_keys_kept],
    "ci/self-signed-values.yaml": [check_self_signed],
    "ci/cert-manager-values.yaml": [check_cert_manager_chain],
    "ci/cert-manager-issuer-values.yaml": [check_cert_manager_issuer],
    "ci/keda-values.yaml": [check_self_signed, check_keda_mtls],
    "ci/keda-self-service-values.yaml": [check_keda_mtls, check_keda_self_service],
    "ci/keda-cert-manager-values.yaml": [check_keda_cert_manager],
    "ci/escape-hatches-values.yaml": [check_escape_hatches],
    "ci/existing-configmap-values.yaml": [check_existing_configmap],
}


def check_rendered(name, rendered):
    """Every object checked; then what the scenario's toggles promise."""
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = sorted(d["kind"] for d in docs)
    for doc in docs:
        check_object(doc, name)
        check_policy(doc, name)
    configmaps = [d for d in docs if d["kind"] == "ConfigMap" and "config.yaml" in d.get("data", {})]
    if configmaps and "Deployment" in kinds:
        ports = {p["name"]: p["containerPort"] for p in pod_spec(docs)["containers"][0].get("ports", [])}
        config = yaml.safe_load(configmaps[0]["data"]["config.yaml"])
        probe_address = (config.get("server") or {}).get("probeAddress")
        expect(probe_address == f"0.0.0.0:{ports.get('probes')}", name,
               f"config server.probeAddress {probe_address!r} must open the probes port {ports.get('probes')}")
    lint = subprocess.run(["yamllint", "-d", YAMLLINT_CONFIG, "-"], input=rendered,
                          capture_output=True, text=True)
    if lint.returncode != 0:
        fail(name, "yamllint:\n" + lint.stdout)
    if PRESCALE and configmaps:
        config_text = configmaps[0]["data"]["config.yaml"]
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
    if name == "defaults" and has("PrometheusRule"):
        fail(name, "the PrometheusRule needs prometheus-operator's CRD: only with prometheusRule.enabled")
    if name == "defaults" and len([d for d in docs if d["kind"] == "ConfigMap"]) != 1:
        fail(name, "the dashboard's ConfigMap only with grafanaDashboard.enabled")
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
        config = yaml.safe_load(config_map(docs)["data"]["config.yaml"])
        service = next(d for d in docs if d["kind"] == "Service")
        if config["server"].get("keda", {}).get("address") != "0.0.0.0:9443" or has("APIService"):
            fail(name, "keda.enabled must configure server.keda, and no APIService is wanted here")
        if 9443 not in [p["port"] for p in service["spec"]["ports"]]:
            fail(name, "the Service must expose the KEDA gRPC port")
    if name == "defaults":
        config = yaml.safe_load(config_map(docs)["data"]["config.yaml"])
        if config["targets"][0]["metric"] != "payments-rps-forecast" or "tlsCertFile" not in config["server"]:
            fail(name, "the daemon config must carry the targets and the chart's server section")
    for check in TOGGLE_CHECKS.get(name, []):
        check(name, docs)
    print(f"ok   {name}: {len(docs)} objects ({', '.join(kinds)})")
    return docs


def render_and_check(name, overlay, **kwargs):
    rendered, error = validate_and_render(name, overlay, **kwargs)
    if error:
        fail(name, f"render failed: {error}")
        return None, None
    try:
        return rendered, check_rendered(name, rendered)
    except (AssertionError, KeyError, StopIteration) as problem:
        fail(name, f"check failed: {problem!r}")
        return rendered, None


for name, overlay in SCENARIOS.items():
    render_and_check(name, overlay)

# One values file per mode, each alone (as `helm install -f ci/<file>`).
CI_FILES = sorted(f for f in os.listdir(os.path.join(CHART, "ci")) if f.endswith("-values.yaml"))
for file_name in CI_FILES:
    with open(os.path.join(CHART, "ci", file_name)) as f:
        render_and_check(f"ci/{file_name}", yaml.safe_load(f), base=False)
for mode in ["self-signed", "cert-manager", "existing-secret", "keda", "escape-hatches", "existing-configmap"]:
    if f"{mode}-values.yaml" not in CI_FILES:
        fail("ci", f"charts/prescale/ci/{mode}-values.yaml is missing")


# ---- certificates across upgrades --------------------------------------------

UPGRADES = 0


def upgrade(name, overlay, previous, sets=()):
    """Renders again with `previous` as the cluster state lookup sees."""
    global UPGRADES
    UPGRADES += 1
    rendered, docs = render_and_check(name, overlay, lookup=previous, sets=sets)
    return rendered, docs


def tls_state(docs):
    serving = one(docs, "Secret", "prescale-tls")
    apiservice = [d for d in docs if d["kind"] == "APIService"]
    return {"bundle": b64(serving["data"]["ca.crt"]), "cert": b64(serving["data"]["tls.crt"]),
            "caBundle": b64(apiservice[0]["spec"]["caBundle"]) if apiservice else None,
            "checksum": one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/tls"]}


def with_annotation(rendered, secret_name, key, value):
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    for d in docs:
        if d["kind"] == "Secret" and d["metadata"]["name"] == secret_name:
            d["metadata"]["annotations"][key] = value
    return yaml.safe_dump_all(docs)


def rfc3339(days_from_now):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_upgrades():
    name = "upgrade"
    first, docs = render_and_check("install", {})
    if docs is None:
        return
    installed = tls_state(docs)
    # An upgrade (and any later render with the Secrets present) keeps everything.
    second, docs = upgrade("upgrade-keeps", {}, first)
    if docs is None:
        return
    kept = tls_state(docs)
    expect(kept == installed, name, "an upgrade changed the CA, caBundle, serving certificate or checksum/tls")
    expect(second == first, name, "a second render with the Secrets present differs from the first")
    third, docs = upgrade("upgrade-keeps-again", {}, second)
    expect(docs is not None and tls_state(docs) == installed, name, "a third render changed the certificates")

    # Near expiry (within renewBeforeDays): a new serving certificate, same CA.
    _, docs = upgrade("upgrade-renews", {}, with_annotation(first, "prescale-tls", "prescale.dev/not-after", rfc3339(10)))
    renewed = tls_state(docs)
    expect(renewed["bundle"] == installed["bundle"] and renewed["caBundle"] == installed["caBundle"], name,
           "renewing the serving certificate must keep the CA and caBundle")
    expect(renewed["cert"] != installed["cert"] and renewed["checksum"] != installed["checksum"], name,
           "a serving certificate within renewBeforeDays of expiry must be renewed (and the pods rolled)")
    expect(verifies(renewed["bundle"], renewed["cert"], "sslserver"), name, "the renewed certificate does not verify")
    # Told to: the same, with tls.rotate=certificate.
    _, docs = upgrade("upgrade-rotate-certificate", {}, first, sets=["tls.rotate=certificate"])
    told = tls_state(docs)
    expect(told["caBundle"] == installed["caBundle"] and told["cert"] != installed["cert"], name,
           "tls.rotate=certificate must replace the serving certificate under the same CA")
    # A new CA (told, or the CA near its own expiry): both CAs trusted meanwhile.
    for label, source, sets in [
            ("upgrade-rotate-ca", first, ["tls.rotate=ca"]),
            ("upgrade-ca-expiring", with_annotation(first, "prescale-ca", "prescale.dev/not-after", rfc3339(5)), [])]:
        _, docs = upgrade(label, {}, source, sets=sets)
        rotated = tls_state(docs)
        cas = pem_certificates(rotated["caBundle"])
        expect(len(cas) == 2 and cas[1].strip() == installed["bundle"].strip(), label,
               "a new CA must be published beside the previous one (old pods keep verifying)")
        expect(verifies(rotated["caBundle"], rotated["cert"], "sslserver"), label,
               "the new serving certificate must verify against the new bundle")
        expect(verifies(rotated["caBundle"], installed["cert"], "sslserver"), label,
               "the previous serving certificate must still verify against the bundle during the rollout")
        expect(not verifies(installed["bundle"], rotated["cert"], "sslserver"), label,
               "the new serving certificate must come from a new CA")
    # Upgrading from a chart that kept no CA Secret (0.1.0) makes a CA once.
    legacy = yaml.safe_dump_all([d for d in yaml.safe_load_all(first) if d and d["metadata"]["name"] != "prescale-ca"])
    _, docs = upgrade("upgrade-from-0.1", {}, legacy)
    fresh = tls_state(docs)
    expect(fresh["bundle"] != installed["bundle"] and verifies(fresh["bundle"], fresh["cert"], "sslserver"), name,
           "without the CA's Secret the chart must make a new CA and sign with it")

    # KEDA with mutual TLS: the client certificate KEDA holds is kept too.
    keda_values = {"apiService": {"create": False}, "keda": {"enabled": True, "mutualTLS": True}}
    keda_first, docs = render_and_check("keda-install", keda_values)
    if docs is None:
        return
    client = one(docs, "Secret", "prescale-keda-auth")["data"]
    _, docs = upgrade("keda-upgrade-keeps", keda_values, keda_first)
    expect(docs is not None and one(docs, "Secret", "prescale-keda-auth")["data"] == client, name,
           "an upgrade must keep KEDA's caCert and client certificate")


check_upgrades()


# ---- config edits: hot-reloaded, not rolled ------------------------------------

def check_config_rollout():
    """A config edit the daemon hot-reloads (targets, prometheus, calendars)
    leaves the pod template as it was, so `helm upgrade` rolls no pod (each
    would re-read its history and refit); a server or decisions edit, which
    the daemon applies only at start-up, changes it."""
    def template(overlay):
        rendered, error = validate_and_render("config-rollout", overlay)
        if error:
            fail("config-rollout", f"render failed: {error}")
            return None, None
        docs = [d for d in yaml.safe_load_all(rendered) if d]
        configmap = one(docs, "ConfigMap")["data"]["config.yaml"]
        pod = one(docs, "Deployment")["spec"]["template"]
        # A render without the cluster's Secrets makes new certificates each
        # time (the upgrade checks above cover keeping them).
        pod["metadata"]["annotations"].pop("checksum/tls", None)
        return pod, configmap
    base, base_config = template({})
    if base is None:
        return
    expect("checksum/config-restart" in base["metadata"]["annotations"], "config-rollout",
           "the pod template must carry checksum/config-restart")
    second = dict(TARGET, metric="orders-rps-forecast", query="sum(rate(orders_total[1m]))")
    reloaded = {
        "a target added": {"config": {"targets": [TARGET, second]}},
        "prometheus changed": {"config": {"prometheus": {"url": "http://thanos-query.monitoring.svc:9090",
                                                         "timeout": "20s"}}},
    }
    for what, overlay in reloaded.items():
        pod, config = template(overlay)
        expect(config != base_config, "config-rollout", f"{what}: the ConfigMap must change")
        expect(pod == base, "config-rollout", f"{what}: the pod template changed, so every pod would restart "
                                              "for an edit the daemon hot-reloads")
    restarted = {
        "server.authorization changed": {"config": {"server": {"authorization": {"mode": "always-allow"}}}},
        "decisions changed": {"config": {"decisions": {"keep": 500}}},
    }
    for what, overlay in restarted.items():
        pod, _ = template(overlay)
        expect(pod is not None and pod != base, "config-rollout",
               f"{what}: the daemon applies it only at start-up, so the pods must roll")
    print("ok   config-rollout: target and prometheus edits keep the pod template; server and decisions edits roll it")


check_config_rollout()


# ---- the chart's version follows the changelog and the daemon ------------------

def check_versions():
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    changelog = os.path.join(CHART, "..", "..", "CHANGELOG.md")
    if not os.path.exists(changelog):
        fail("version", "CHANGELOG.md is missing")
        return
    with open(changelog) as f:
        headings = re.findall(r"(?m)^## \[?([0-9]+\.[0-9]+\.[0-9]+)", f.read())
    if not headings:
        fail("version", "CHANGELOG.md has no '## <version>' heading")
        return
    expect(chart["version"] == headings[0], "version",
           f"Chart.yaml version {chart['version']} is not the newest CHANGELOG.md entry {headings[0]}")
    expect(chart["appVersion"] == headings[0], "version",
           f"Chart.yaml appVersion {chart['appVersion']} is not the newest CHANGELOG.md entry {headings[0]}")
    if PRESCALE:
        out = subprocess.run([PRESCALE, "version"], capture_output=True, text=True).stdout
        expect(headings[0] in out, "version", f"prescale version ({out.strip()}) is not {headings[0]}")
    print(f"ok   version: chart, appVersion, CHANGELOG.md and prescale version say {headings[0]}")


check_versions()

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
print(f"chart: {len(SCENARIOS)} value sets and {len(CI_FILES)} ci/ values files rendered and checked, "
      f"{len(NEGATIVE)} refused, certificates kept and renewed across {UPGRADES} upgrades")
