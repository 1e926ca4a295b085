"""Config evidence: formats, notable settings, parse errors as findings, diffs, and secrets
that never reach the report."""

from __future__ import annotations

import json

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.configs.analyze import (
    ConfigReport,
    Notable,
    analyze_config,
    describe_config,
    looks_like_config,
    summarize_config,
)
from tests.samples.configs import DEPLOYMENT, HELM_VALUES


def notable(report: ConfigReport, path: str) -> Notable:
    matches = [n for n in report.notable if n.path == path]
    assert matches, f"{path} not in {[n.path for n in report.notable]}"
    return matches[0]


def test_kubernetes_manifest_flags_latest_image_missing_limits_and_probes() -> None:
    report = analyze_config("deployment.yaml", DEPLOYMENT)
    assert report.kind == "config" and report.format == "yaml" and report.documents == 2
    assert [(o.kind, o.name) for o in report.objects] == [
        ("Deployment", "checkout"),
        ("Service", "checkout"),
    ]
    containers = "spec.template.spec.containers[app]"
    image = notable(report, f"{containers}.image")
    assert image.warn and image.value == "acme/checkout:latest" and image.why.startswith("latest")
    resources = notable(report, f"{containers}.resources")
    assert resources.warn and resources.why == "no resource requests or limits"
    probes = notable(report, containers)
    assert probes.warn and probes.value is None and "no liveness or readiness probe" in probes.why
    assert notable(report, "spec.replicas").why == "single replica: no redundancy"
    env = notable(report, f"{containers}.env")
    assert env.value == "DB_HOST, DB_POOL_SIZE, DB_PASSWORD, STRIPE_KEY (secret checkout-secrets)"
    assert notable(report, f"{containers}.env[DB_POOL_SIZE].value").why == "pool size"
    assert notable(report, f"{containers}.ports").value == "http 8080"
    assert notable(report, "spec.ports").value == "http 80→8080 (ClusterIP)"
    # The Service selects the Deployment's pods and targets a declared port: no warning.
    assert not any(n.warn for n in report.notable if n.object == "Service/checkout")
    assert summarize_config(report) == (
        "deployment.yaml: Kubernetes YAML, 2 objects (Deployment checkout, Service checkout); "
        "image acme/checkout:latest (latest tag), no resource requests or limits on container "
        "app, replicas 1, no liveness or readiness probe on container app, +1 more warning; "
        "masked 1 password"
    )
    lines = describe_config(report, limit=3)
    assert lines[0] == (
        f"⚠ Deployment/checkout {containers}.image = acme/checkout:latest (latest tag: not pinned)"
    )
    assert lines[-1].startswith("…and ") and len(lines) == 4


def test_plain_secret_in_a_manifest_env_is_flagged_and_masked() -> None:
    report = analyze_config("deployment.yaml", DEPLOYMENT)
    secret = notable(report, "spec.template.spec.containers[app].env[DB_PASSWORD].value")
    assert secret.warn and secret.value is not None and secret.value.startswith("[password:")
    assert "hunter2" not in report.model_dump_json()


def test_helm_values_pool_sizes_timeouts_and_masked_password() -> None:
    report = analyze_config("values.yaml", HELM_VALUES)
    assert report.flavor == "Helm values YAML" and not report.objects
    assert {n.path: n.why for n in report.notable if not n.warn}.items() >= {
        "database.pool.size": "pool size",
        "database.pool.maxOverflow": "limit",
        "database.connectTimeout": "timeout",
        "redis.maxConnections": "connection limit",
        "redis.commandTimeout": "timeout",
        "http.retries": "retries",
        "database.host": "host",
        "database.port": "port",
        "database.url": "URL",
        "features.newCheckoutFlow": "feature flag",
        "database.password": "secret (masked)",
    }.items()
    assert notable(report, "database.pool.size").value == "5"
    assert (notable(report, "database.password").value or "").startswith("[password:")
    url = notable(report, "database.url").value
    assert url is not None and url.startswith("postgresql://checkout:[password:")
    # 1.10 unquoted is the float 1.1; resources: {} means no requests or limits.
    tag = notable(report, "image")
    assert tag.warn and tag.value == "registry.acme.io/checkout:1.1" and "YAML number" in tag.why
    assert notable(report, "resources").why == "no resource requests or limits"
    assert notable(report, "replicaCount").warn
    as_json = report.model_dump_json()
    assert "S3cr3t-values-pw" not in as_json and "Pa55w0rd-in-url" not in as_json
    assert report.redactions == {"password": 2}
    assert summarize_config(report).endswith("; masked 2 passwords")


def test_broken_yaml_is_a_finding_with_line_and_column() -> None:
    broken = b"""\
replicaCount: 2
image:
  repository: acme/checkout
  tag: "1.42"
service:
  annotations:
    description: Checkout: handles payments
"""
    report = analyze_config("values.yaml", broken)
    error = "YAML error at line 7, column 26: mapping values are not allowed here"
    assert report.parse_error == error
    assert (report.error_line, report.error_column) == (7, 26)
    assert report.error_excerpt == "description: Checkout: handles payments"
    assert summarize_config(report) == f"values.yaml: {error}"
    assert describe_config(report)[0] == (
        f"{error} — line 7: description: Checkout: handles payments"
    )


def test_yaml_structure_error_names_where_the_block_started() -> None:
    broken = b'image:\n  repository: acme/checkout\n  tag: "1.42" pullPolicy: Always\n'
    report = analyze_config("values.yaml", broken)
    assert report.parse_error == (
        "YAML error at line 3, column 15: expected <block end>, but found '<scalar>' "
        "(while parsing a block mapping at line 2)"
    )


def test_yaml_error_in_a_later_document_keeps_the_earlier_ones() -> None:
    text = DEPLOYMENT + b"---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: 1\n\tb: 2\n"
    report = analyze_config("all.yaml", text)
    assert report.parse_error is not None and report.parse_error.startswith("YAML error at line")
    assert report.error_line == DEPLOYMENT.count(b"\n") + 6 and len(report.objects) == 2
    assert "read 2 documents before the error" in report.notes


def test_broken_line_with_a_secret_is_masked_in_the_excerpt() -> None:
    report = analyze_config("values.yaml", b"db:\n  password: hunter2pw: x\n")
    assert report.error_line == 2 and report.error_excerpt is not None
    assert "hunter2pw" not in report.model_dump_json()


def test_json_app_config() -> None:
    app = {
        "service": "checkout",
        "listen": {"port": 8080},
        "database": {
            "host": "db.internal",
            "user": "checkout",
            "password": "json-pw-123456",
            "maxConnections": 50,
            "poolSize": 10,
        },
        "httpClient": {"timeoutMs": 1500, "retries": 2, "baseUrl": "https://payments.internal"},
        "featureFlags": {"newPricing": True, "legacyCart": False},
        "apiKey": "sk_live_abcdefghijklmnop",
    }
    report = analyze_config("app.json", json.dumps(app, indent=2).encode())
    assert report.format == "json" and report.flavor == "JSON" and report.keys == 13
    whys = {n.path: n.why for n in report.notable}
    assert whys["database.maxConnections"] == "connection limit"
    assert whys["database.poolSize"] == "pool size"
    assert whys["httpClient.timeoutMs"] == "timeout"
    assert whys["httpClient.baseUrl"] == "URL"
    assert whys["featureFlags.legacyCart"] == "feature flag"
    assert whys["apiKey"] == "secret (masked)"
    as_json = report.model_dump_json()
    assert "json-pw-123456" not in as_json and "sk_live_abcdefghijklmnop" not in as_json
    assert summarize_config(report) == (
        "app.json: JSON, 13 settings; listen.port 8080, database.host db.internal, "
        "database.maxConnections 50; masked 1 password, 1 secret"
    )


def test_json_error_position() -> None:
    report = analyze_config("app.json", b'{\n  "a": 1,\n  "b": 2\n  "c": 3\n}\n')
    assert report.parse_error == "JSON error at line 4, column 3: Expecting ',' delimiter"


def test_toml_settings_and_error_position() -> None:
    toml = b"""\
[project]
name = "checkout"

[database]
url = "postgresql://svc:toml-secret-pw@db:5432/orders"
pool_size = 20
statement_timeout_ms = 5000

[features]
async_checkout = false
"""
    report = analyze_config("settings.toml", toml)
    assert report.format == "toml" and report.parse_error is None
    assert notable(report, "database.pool_size").value == "20"
    assert notable(report, "database.statement_timeout_ms").why == "timeout"
    assert notable(report, "features.async_checkout").why == "feature flag"
    assert "toml-secret-pw" not in report.model_dump_json()

    broken = analyze_config("settings.toml", b"[server]\nport = 8080\nhost = \n")
    assert broken.parse_error == "TOML error at line 3, column 8: Invalid value"


def test_dotenv_secrets_are_masked_and_never_in_the_report() -> None:
    env = b"""\
# checkout production
DATABASE_URL=postgres://checkout:env-url-pw@db:5432/orders
DB_PASSWORD='p@ss w0rd from env'
export STRIPE_SECRET_KEY=sk_live_51HxEnvSecretValue
SLACK_BOT_TOKEN=xoxb-123456789012-abcdefghijkl
GITHUB_TOKEN="ghp_notarealtokenbutlongenough1234"
REDIS_POOL_MAX=32
HTTP_TIMEOUT=30
FEATURE_NEW_UI=true
DEBUG=false
LOG_LEVEL=info
HTTP_TIMEOUT=45
"""
    report = analyze_config(".env.production", env)
    assert report.format == "env" and report.flavor == ".env" and report.parse_error is None
    as_json = report.model_dump_json()
    for secret in (
        "env-url-pw",
        "p@ss w0rd",
        "sk_live_51HxEnvSecretValue",
        "xoxb-123456789012",
        "ghp_notarealtoken",
    ):
        assert secret not in as_json
    for key in ("DB_PASSWORD", "STRIPE_SECRET_KEY", "SLACK_BOT_TOKEN", "GITHUB_TOKEN"):
        shown = notable(report, key).value
        assert shown is not None and shown.startswith("[") and shown.endswith("]")
    assert notable(report, "REDIS_POOL_MAX").value == "32"
    assert notable(report, "FEATURE_NEW_UI").why == "feature flag"
    duplicate = notable(report, "HTTP_TIMEOUT")
    assert duplicate.warn and "line 12" in duplicate.why
    url = notable(report, "DATABASE_URL").value
    assert url is not None and url.startswith("postgres://checkout:[password:")
    assert url.endswith("]@db:5432/orders")


def test_dotenv_bad_line_is_reported_and_the_rest_is_read() -> None:
    report = analyze_config(".env", b"A_HOST=db\nthis is not an assignment\nB_TIMEOUT=5\n")
    assert report.parse_error == ".env error at line 2: expected KEY=VALUE"
    assert report.keys == 2
    assert summarize_config(report).startswith(
        ".env: .env error at line 2: expected KEY=VALUE; 2 settings read"
    )


def test_ini_sections() -> None:
    ini = b"""\
[server]
port = 8080
workers = 4

[database]
host = db.internal
password = ini-secret-pw
max_connections = 100
connect_timeout = 5

[features]
enable_new_cart = yes
"""
    report = analyze_config("app.ini", ini)
    assert report.format == "ini" and report.keys == 7
    assert notable(report, "server.workers").why == "concurrency"
    assert notable(report, "database.max_connections").value == "100"
    assert notable(report, "database.connect_timeout").why == "timeout"
    assert notable(report, "features.enable_new_cart").why == "feature flag"
    assert notable(report, "database.password").why == "secret (masked)"
    assert "ini-secret-pw" not in report.model_dump_json()
    broken = analyze_config("app.ini", b"[server]\nport = 8080\nthis is not ini\n")
    assert broken.parse_error == "INI error at line 3: expected 'key = value' or a [section] header"


def test_conf_files_fall_back_to_key_value_lines_or_stay_unparsed() -> None:
    redis = analyze_config("redis.conf", b"maxmemory 2gb\ntimeout 300\nrequirepass foobared99\n")
    assert redis.format == "properties" and notable(redis, "maxmemory").why == "limit"
    assert "foobared99" not in redis.model_dump_json()
    nginx = analyze_config("nginx.conf", b"http {\n  server {\n    listen 80;\n  }\n}\n")
    assert nginx.format == "unknown" and nginx.parse_error is None


def test_service_selecting_no_pods_and_wrong_target_port() -> None:
    text = DEPLOYMENT.replace(b"    app: checkout\n  ports:", b"    app: checkout-v2\n  ports:")
    report = analyze_config("deployment.yaml", text)
    selector = notable(report, "spec.selector")
    assert selector.warn and selector.object == "Service/checkout"
    assert selector.why == "selector matches no pod template in this file"
    text = DEPLOYMENT.replace(b"targetPort: 8080", b"targetPort: 9090")
    port = notable(analyze_config("deployment.yaml", text), "spec.ports[http].targetPort")
    assert port.warn and port.why == "no container of Deployment/checkout declares port 9090"


def test_memory_limit_below_request_and_short_liveness_probe() -> None:
    text = DEPLOYMENT.replace(
        b"          ports:\n",
        b"          resources:\n"
        b"            requests: {cpu: 250m, memory: 1Gi}\n"
        b"            limits: {cpu: 500m, memory: 512Mi}\n"
        b"          livenessProbe:\n"
        b"            httpGet: {path: /healthz, port: http}\n"
        b"            initialDelaySeconds: 0\n"
        b"            timeoutSeconds: 1\n"
        b"          ports:\n",
        1,
    )
    report = analyze_config("deployment.yaml", text)
    containers = "spec.template.spec.containers[app]"
    resources = notable(report, f"{containers}.resources")
    assert resources.value == "requests cpu 250m, memory 1Gi; limits cpu 500m, memory 512Mi"
    assert resources.why == "memory limit 512Mi below request 1Gi"
    liveness = notable(report, f"{containers}.livenessProbe")
    assert liveness.warn and liveness.why == (
        "liveness checks start at 0s with no startupProbe; liveness timeout 1s"
    )
    assert liveness.value == "HTTP /healthz port http, delay 0s, timeout 1s, period 10s, failures 3"
    assert notable(report, f"{containers}.readinessProbe").why == "no readiness probe"


def test_kubectl_list_output_and_secret_objects() -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "checkout-secrets",
                    "namespace": "prod",
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": (
                            '{"data":{"stripe-key":"c2tfbGl2ZV9sZWFrZWQ="}}'
                        )
                    },
                },
                "data": {"stripe-key": "c2tfbGl2ZV9sZWFrZWQ="},
            },
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "checkout", "namespace": "prod"},
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": "checkout"},
                    "minReplicas": 4,
                    "maxReplicas": 4,
                },
            },
        ],
    }
    report = analyze_config("kubectl-get.json", json.dumps(listing).encode())
    assert report.flavor == "Kubernetes JSON"
    assert [o.ref for o in report.objects] == [
        "Secret/checkout-secrets (prod)",
        "HorizontalPodAutoscaler/checkout (prod)",
    ]
    assert notable(report, "data").value == "stripe-key"
    assert "c2tfbGl2ZV9sZWFrZWQ" not in report.model_dump_json()
    assert "HPA checkout cannot scale" in summarize_config(report)


def test_helm_template_is_not_reported_as_broken_yaml() -> None:
    template = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "checkout.fullname" . }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
"""
    report = analyze_config("templates/deployment.yaml", template)
    assert report.parse_error is None
    assert any("helm template" in note for note in report.notes)


def test_duplicate_yaml_keys_are_flagged() -> None:
    report = analyze_config("values.yaml", b"resources:\n  limits: {memory: 1Gi}\nresources: {}\n")
    duplicate = notable(report, "resources")
    assert duplicate.warn and duplicate.why.startswith("duplicate key at line 3")


def test_binary_and_empty_uploads_are_rejected() -> None:
    with pytest.raises(EvidenceRejected, match="looks binary"):
        analyze_config("values.yaml", b"\x00\x01\x02\x03" * 100)
    with pytest.raises(EvidenceRejected):
        analyze_config("values.yaml", b"")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deployment.yaml", "apiVersion: v1\nkind: Service\n"),
        ("values.yml", "replicaCount: 1\n"),
        ("app.json", '{\n  "database": {"host": "db"}\n}\n'),
        ("pyproject.toml", "[project]\nname = 'x'\n"),
        (".env", "A=1\n"),
        (".env.production", "A=1\n"),
        ("app.ini", "[s]\na = 1\n"),
        ("setup.cfg", "[metadata]\nname = x\n"),
        ("postgresql.conf", "max_connections = 100\n"),
        ("application.properties", "server.port=8080\n"),
        ("pasted.txt", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"),
    ],
)
def test_looks_like_config_claims_configs(name: str, text: str) -> None:
    assert looks_like_config(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "app.log",
            '{"ts":"2026-11-21T14:02:01Z","level":"error","msg":"pool exhausted"}\n'
            '{"ts":"2026-11-21T14:02:02Z","level":"info","msg":"retrying"}\n',
        ),
        (
            "logs.json",
            '{"time":"2026-11-21T14:02:01Z","level":"error","msg":"pool exhausted"}\n'
            '{"time":"2026-11-21T14:02:02Z","level":"info","msg":"retrying"}\n',
        ),
        (
            "otlp.json",
            '{"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": []}]}',
        ),
        ("jaeger.json", '{"data": [{"traceID": "4bf92f3577b34da6", "spans": []}]}'),
        (
            "zipkin.json",
            '[{"traceId": "4bf92f3577b34da6", "id": "00f067aa0ba902b7", "name": "get"}]',
        ),
        (
            "query.json",
            '{"status": "success", "data": {"resultType": "matrix", "result": []}}',
        ),
        ("export.json", '[{"@timestamp": "2026-11-21T14:02:01Z", "message": "boom"}]'),
        ("app.log", "2026-11-21 14:02:01 ERROR checkout: pool exhausted\n"),
        ("notes.txt", "checkout is down since 14:00\n"),
    ],
)
def test_looks_like_config_leaves_logs_traces_and_queries(name: str, text: str) -> None:
    assert not looks_like_config(name, text)
