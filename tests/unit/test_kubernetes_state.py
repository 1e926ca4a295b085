"""Kubernetes state as evidence: kubectl describe / get / events / top and live -o yaml.

Real outputs are read at run time from ../shared/data/k8s-troubleshooting/ (HolmesGPT
evaluation fixtures, captured from real clusters) and ../shared/data/real-incidents/k8s-faults
(real Kubernetes error strings); the tests skip when the data is absent. Failure states the
real cases lack (OOMKilled, image pulls, scheduling...) are small synthetic snippets below.
"""

# kubectl pads its columns to the widest value: the snippets below are as wide as it prints them.
# ruff: noqa: E501

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.kubernetes.analyze import analyze_kubernetes
from engine.evidence.kubernetes.detect import looks_like_kubernetes, sniff
from engine.evidence.kubernetes.kind import KUBERNETES
from engine.evidence.kubernetes.report import KubeReport

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "data" / "k8s-troubleshooting"
FAULTS = ROOT.parent / "shared" / "data" / "real-incidents" / "k8s-faults"


def real(case: str, file: str) -> tuple[str, bytes]:
    path = CASES / case / file
    if not path.is_file():
        pytest.skip(f"shared data not present: {path}")
    return file, path.read_bytes()


def read_real(case: str, file: str) -> KubeReport:
    name, data = real(case, file)
    return analyze_kubernetes(name, data)


def read(text: str, name: str = "paste.txt") -> KubeReport:
    return analyze_kubernetes(name, text.encode())


def signatures(report: KubeReport) -> set[str]:
    return {f.signature for f in report.findings}


# --- real outputs: every state, count, exit code, event read right ----------------------


def test_describe_pod_crash_loop_real() -> None:
    report = read_real(
        "test_ask_holmes__158_slack_chat_correct_date",
        "kubectl_describe_pod_frontend-service_default.txt",
    )
    assert report.format == "describe"
    (pod,) = report.objects
    assert (pod.kind, pod.name, pod.namespace) == ("Pod", "frontend-service", "default")
    assert pod.status == "CrashLoopBackOff"
    assert pod.ready == "0/1"
    assert pod.restarts == 7
    assert pod.reasons == ["CrashLoopBackOff", "Error"]
    assert pod.exit_codes == [255]
    assert pod.limits == {"cpu": "10m", "memory": "64Mi"}
    assert pod.images == ["jfusterm/stress"]
    assert pod.conditions["Ready"] == "False" and pod.conditions["PodScheduled"] == "True"
    assert pod.workload == "frontend"
    backoff = next(e for e in pod.events if e.reason == "BackOff")
    assert (backoff.type, backoff.count, backoff.age, backoff.source) == (
        "Warning",
        49,
        "3m30s",
        "kubelet",
    )
    assert backoff.message.startswith("Back-off restarting failed container stress in pod")
    assert backoff.object == "pod/frontend-service"
    assert [(e.reason, e.count) for e in pod.events] == [
        ("Scheduled", None),
        ("Pulling", None),
        ("Pulled", None),
        ("BackOff", 49),
        ("Created", 8),
        ("Pulled", 7),
        ("Started", 8),
    ]
    # The start time is absolute: the date the case asks for.
    assert report.first_ts is not None and report.first_ts.date().isoformat() == "2025-08-23"
    top = report.findings[0]
    assert top.signature == "crash-loop" and top.component == "frontend"
    assert top.object == "pod/frontend-service" and top.namespace == "default"
    assert "exit 255" in top.summary and "7 times" in top.summary
    assert "Exit Code:    255" in top.lines
    assert 0.8 <= top.severity <= 0.9
    text = KUBERNETES.summarise(report)
    assert text.startswith("kubectl describe pod: pod/frontend-service (default) CrashLoopBackOff")
    assert "7 restarts" in text and "last exit 255 Error" in text
    assert "1 Warning event (BackOff ×49)" in text
    assert KUBERNETES.describe(report, 5)[0].startswith("⚠ pod/frontend-service: CrashLoopBackOff")


def test_describe_pod_last_state_and_probes_real() -> None:
    report = read_real(
        "test_ask_holmes__08_sock_shop_frontend",
        "kubectl_describe_pod_front-end-6bc5876d74-4lbfd_sock-shop.txt",
    )
    (pod,) = report.objects
    assert (pod.status, pod.ready, pod.restarts) == ("Running", "0/1", 27)
    assert pod.reasons == ["Error"] and pod.exit_codes == [1]
    assert pod.owner == "ReplicaSet/front-end-6bc5876d74"
    assert pod.workload == "front-end"
    assert pod.probes[0].startswith("liveness http-get http://:8079/")
    assert (pod.events[0].reason, pod.events[0].count) == ("BackOff", 6)
    (finding,) = report.findings
    assert finding.signature == "crash-loop" and finding.component == "front-end"
    assert finding.lines[0].startswith("Warning  BackOff  32s (x6 over 77s)")


def test_describe_healthy_pod_and_tabbed_events_real() -> None:
    report = read_real(
        "test_ask_holmes__04_related_k8s_events",
        "kubectl_describe_pod_nginx-6958c5bdd8-69gtn_default.txt",
    )
    (pod,) = report.objects
    assert (pod.status, pod.ready, pod.restarts, pod.reasons) == ("Running", "1/1", 0, [])
    assert pod.workload == "robusta-runner"
    assert [e.reason for e in pod.events] == [
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ]
    assert pod.events[0].message == (
        "Successfully assigned default/nginxreplica to aks-nodepool1-26081864-vmss000004"
    )
    assert pod.events[1].source == "kubelet" and pod.events[1].message == 'Pulling image "nginx"'
    assert report.findings == []


def test_events_tables_real() -> None:
    tabbed = read_real(
        "test_ask_holmes__04_related_k8s_events",
        "kubectl_events_pod_nginx-6958c5bdd8-69gtn_default.txt",
    )
    assert tabbed.format == "events"
    assert [(e.type, e.reason, e.age) for e in tabbed.events] == [
        ("Normal", "Scheduled", "4m28s"),
        ("Normal", "Pulling", "4m28s"),
        ("Normal", "Pulled", "4m28s"),
        ("Normal", "Created", "4m28s"),
        ("Normal", "Started", "4m28s"),
    ]
    assert tabbed.events[3].message == "Created container nginxreplica"
    listed = read_real(
        "test_ask_holmes__158_slack_chat_correct_date",
        "kubectl_events_pod_frontend-service_default.txt",
    )
    assert [(e.reason, e.count, e.age, e.object) for e in listed.events] == [
        ("Pulling", None, "60m", "pod/frontend-service"),
        ("Created", 9, "44m", "pod/frontend-service"),
        ("Started", 9, "44m", "pod/frontend-service"),
        ("Pulled", 16, "3m10s", "pod/frontend-service"),
        ("BackOff", 280, "17s", "pod/frontend-service"),
    ]
    (finding,) = listed.findings
    assert (finding.signature, finding.component, finding.object) == (
        "crash-loop",
        "frontend",
        "pod/frontend-service",
    )
    assert finding.lines[0].startswith("17s (x280 over 60m)")


def test_get_pods_wide_all_namespaces_real() -> None:
    report = read_real("test_ask_holmes__34_memory_graph", "kubectl_get_by_kind_in_cluster_pod.txt")
    assert report.format == "get"
    pods = {p.name: p for p in report.objects}
    assert all(p.kind == "Pod" for p in pods.values())
    crashing = pods["db-certs-authenticator-757f89d977-8lng4"]
    assert (crashing.namespace, crashing.ready, crashing.status, crashing.restarts) == (
        "default",
        "0/1",
        "CrashLoopBackOff",
        42,
    )
    assert crashing.details["last_restart"] == "119s ago"
    assert crashing.workload == "db-certs-authenticator"
    assert pods["krr-job-ddf1c548-cabe-4648-a5cf-c1b51e70891c-6vwq9"].status == "Completed"
    first = report.findings[0]
    assert first.signature == "crash-loop" and first.component == "db-certs-authenticator"
    assert first.severity >= 0.8
    # Restarts alone are weak evidence.
    weak = [f for f in report.findings if f.severity < 0.5]
    assert weak and all(f.signature == "crash-loop" for f in weak)


def test_get_pods_in_namespace_and_statefulsets_real() -> None:
    report = read_real(
        "test_ask_holmes__43_slack_deployment_logs",
        "kubectl_get_by_kind_in_namespace_pod_sock-shop.txt",
    )
    pods = {p.name: p for p in report.objects}
    assert pods["carts-db-676c6b5865-rp4pg"].restarts == 87
    assert pods["catalogue-f7687cb4-bjxf2"].workload == "catalogue"
    assert all(p.status == "Running" and p.namespace is None for p in pods.values())
    sts = read_real(
        "test_ask_holmes__44_slack_statefulset_logs",
        "kubectl_get_by_kind_in_namespace_statefulset_app-44.txt",
    )
    assert [(o.kind, o.name, o.ready) for o in sts.objects] == [
        ("StatefulSet", "alertmanager", "1/1"),
        ("StatefulSet", "alertmanager-alertmanager", "0/1"),
        ("StatefulSet", "alertmanager-operator", "1/1"),
    ]
    assert sts.objects[1].images == [
        "quay.io/prometheus/alertmanager:v0.26.0",
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.68.0",
    ]
    pods44 = read_real(
        "test_ask_holmes__44_slack_statefulset_logs",
        "kubectl_get_by_kind_in_namespace_pod_app-44.txt",
    )
    assert [(p.name, p.status, p.workload) for p in pods44.objects] == [
        ("alertmanager-0", "Running", "alertmanager"),
        ("alertmanager-alertmanager-0", "Terminating", "alertmanager-alertmanager"),
        ("alertmanager-operator-0", "Running", "alertmanager-operator"),
    ]


def test_get_all_sections_and_headerless_rows_real() -> None:
    report = read_real(
        "test_ask_holmes__03_what_is_the_command_to_port_forward", "kubectl_get_all.txt"
    )
    assert [o.kind for o in report.objects] == ["Pod", "Service", "Deployment", "ReplicaSet"]
    assert report.objects[2].name == "grafana" and report.objects[2].ready == "1/1"
    headerless = read_real(
        "test_ask_holmes__08_sock_shop_frontend", "kubectl_find_resource_pod_front-end.txt"
    )
    (pod,) = headerless.objects
    assert (pod.namespace, pod.name, pod.ready, pod.status, pod.restarts) == (
        "sock-shop",
        "front-end-6bc5876d74-4lbfd",
        "0/1",
        "Running",
        27,
    )
    deployments = read_real(
        "test_ask_holmes__08_sock_shop_frontend", "kubectl_find_resource_deployment_sock-shop.txt"
    )
    assert {o.kind for o in deployments.objects} == {"Deployment"}
    assert "carts-db" in {o.name for o in deployments.objects}


def test_nodes_and_lineage_real() -> None:
    nodes = read_real("test_ask_holmes__42_dns_issues_result_all_tools", "check_node_status.txt")
    assert [(o.kind, o.name, o.status) for o in nodes.objects] == [
        ("Node", "kind-double-node-control-plane", "Ready"),
        ("Node", "kind-double-node-worker", "Ready"),
    ]
    lineage = read_real(
        "test_ask_holmes__65_health_check_followup",
        "kubectl_lineage_children_deployment_payment-processor_production-65.txt",
    )
    kinds = [(o.kind, o.name, o.status) for o in lineage.objects]
    assert ("Pod", "payment-processor-598445cb54-xd5s8", "ContainerCreating") in kinds
    assert ("Deployment", "payment-processor", None) in kinds
    assert {e.reason for e in lineage.events} >= {"ScalingReplicaSet", "SuccessfulCreate", "Pulled"}
    assert all(o.workload == "payment-processor" for o in lineage.objects if o.kind != "Event")


def test_describe_deployment_real() -> None:
    report = read_real(
        "test_ask_holmes__64_keda_vs_hpa_confusion",
        "kubectl_describe_deployment_invoice-generator_invoices-64.txt",
    )
    (deployment,) = report.objects
    assert (deployment.kind, deployment.name, deployment.ready) == (
        "Deployment",
        "invoice-generator",
        "1/1",
    )
    assert deployment.conditions == {"Available": "True", "Progressing": "True"}
    assert deployment.limits == {"cpu": "50m", "memory": "32Mi"}
    assert deployment.images == ["busybox"]
    (event,) = deployment.events
    assert (event.reason, event.source) == ("ScalingReplicaSet", "deployment-controller")
    assert report.findings == []


def test_live_yaml_real() -> None:
    report = read_real(
        "test_ask_holmes__158_slack_chat_correct_date",
        "kubectl_get_yaml_pod_frontend-service_default.yaml",
    )
    assert report.format == "yaml"
    (pod,) = report.objects
    assert (pod.status, pod.ready, pod.restarts) == ("CrashLoopBackOff", "0/1", 7)
    assert pod.reasons == ["CrashLoopBackOff", "Error"] and pod.exit_codes == [255]
    assert pod.conditions["Ready"] == "False"
    # '2025-08-2312:02:32Z' as written: a date and time run together still read.
    assert (
        report.first_ts is not None and report.first_ts.isoformat() == "2025-08-23T12:02:32+00:00"
    )
    finding = report.findings[0]
    assert finding.signature == "crash-loop"
    assert "exitCode: 255" in finding.lines and "reason: CrashLoopBackOff" in finding.lines
    owned = read_real(
        "test_ask_holmes__05_image_version",
        "kubectl_get_yaml_pod_robusta-runner-6958c5bdd8-69gtn_default.yaml",
    )
    (runner,) = owned.objects
    assert runner.owner == "ReplicaSet/robusta-runner-6958c5bdd8"
    assert runner.workload == "robusta-runner"
    assert runner.images == ["robustadev/robusta-runner:0.18.0"]
    assert (runner.status, runner.ready, runner.restarts) == ("Running", "1/1", 0)
    sts = read_real(
        "test_ask_holmes__44_slack_statefulset_logs",
        "kubectl_get_yaml_statefulset_alertmanager_app-44.yaml",
    )
    assert [(o.kind, o.name, o.ready) for o in sts.objects] == [
        ("StatefulSet", "alertmanager", "1/1")
    ]


def test_top_pods_real() -> None:
    report = read_real("test_ask_holmes__34_memory_graph", "kubectl_top_pods.txt")
    assert report.format == "top"
    runner = next(o for o in report.objects if o.name == "robusta-runner-86d77844dc-x59kq")
    assert runner.usage == {"cpu": "7m", "memory": "490Mi"}
    assert runner.kind == "Pod" and runner.namespace == "default"
    assert runner.workload == "robusta-runner"


# --- detection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "file", "fmt"),
    [
        (
            "test_ask_holmes__04_related_k8s_events",
            "kubectl_describe_pod_nginx-6958c5bdd8-69gtn_default.txt",
            "describe",
        ),
        (
            "test_ask_holmes__04_related_k8s_events",
            "kubectl_events_pod_nginx-6958c5bdd8-69gtn_default.txt",
            "events",
        ),
        ("test_ask_holmes__04_related_k8s_events", "kubectl_find_resource_pod_nginx.txt", "get"),
        (
            "test_ask_holmes__05_image_version",
            "kubectl_get_yaml_pod_robusta-runner-6958c5bdd8-69gtn_default.yaml",
            "yaml",
        ),
        ("test_ask_holmes__30_basic_promql_graph_cluster_memory", "kubectl_top_pods.txt", "top"),
        (
            "test_ask_holmes__44_slack_statefulset_logs",
            "kubectl_find_resource_statefulset_alertmanager.txt",
            "get",
        ),
        (
            "test_ask_holmes__45_fetch_deployment_logs_simple",
            "kubectl_get_yaml_deployment_my-server-deployment_ask-holmes-namespace-45.yaml",
            "yaml",
        ),
        (
            "test_ask_holmes__45_fetch_deployment_logs_simple",
            "kubectl_lineage_children_deployment_my-server-deployment_ask-holmes-namespace-45.txt",
            "get",
        ),
    ],
)
def test_detects_kubectl_output_real(case: str, file: str, fmt: str) -> None:
    _, data = real(case, file)
    text = data.decode()
    assert sniff(text) == fmt
    # From content only: the same bytes under a meaningless name are still claimed.
    assert looks_like_kubernetes("upload.txt", text)


@pytest.mark.parametrize(
    ("case", "file"),
    [
        (
            "test_ask_holmes__08_sock_shop_frontend",
            "kubectl_logs_front-end-6bc5876d74-4lbfd_sock-shop.log",
        ),
        ("test_ask_holmes__44_slack_statefulset_logs", "kubectl_logs_alertmanager-0_app-44.log"),
        (
            "test_ask_holmes__158_slack_chat_correct_date",
            "kubectl_logs_frontend-service_default_2025-08-23T12-47-40Z.log",
        ),
        (
            "test_ask_holmes__04_related_k8s_events",
            "kubectl_lineage_parents_pod_nginx-6958c5bdd8-69gtn_default.txt",
        ),
        (
            "test_ask_holmes__30_basic_promql_graph_cluster_memory",
            "execute_prometheus_range_query.json",
        ),
    ],
)
def test_leaves_logs_errors_and_queries_real(case: str, file: str) -> None:
    name, data = real(case, file)
    assert not looks_like_kubernetes(name, data.decode(errors="replace"))


def test_leaves_plain_manifests_to_configs() -> None:
    manifests = sorted((FAULTS / "faults").rglob("*.yaml")) if FAULTS.is_dir() else []
    if not manifests:
        pytest.skip(f"shared data not present: {FAULTS}")
    for path in manifests:
        assert not looks_like_kubernetes(path.name, path.read_text()), path
    dry_run = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  creationTimestamp: null\n"
        "  name: web\nspec:\n  template:\n    metadata:\n      creationTimestamp: null\n"
        "status: {}\n"
    )
    assert not looks_like_kubernetes("web.yaml", dry_run)


def test_claims_live_json_list() -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "api-5d8f7b9c4-abcde", "namespace": "shop", "uid": "1-2"},
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "api:1.2",
                            "resources": {"limits": {"memory": "128Mi"}},
                        }
                    ]
                },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "api",
                            "ready": False,
                            "restartCount": 5,
                            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                        }
                    ],
                },
            }
        ],
    }
    text = json.dumps(listing, indent=2)
    assert sniff(text) == "json"
    report = read(text, "pods.json")
    (pod,) = report.objects
    assert (pod.status, pod.restarts, pod.exit_codes, pod.workload) == (
        "CrashLoopBackOff",
        5,
        [137],
        "api",
    )
    oom = next(f for f in report.findings if f.signature == "oom")
    assert oom.summary == "OOMKilled: the container hit its memory limit (128Mi), restarted 5 times"
    assert '"reason": "OOMKilled",' in oom.lines


# --- findings from synthetic state ---------------------------------------------------

OOM_DESCRIBE = """\
Name:             checkout-7d9f8c6b5-x2k4p
Namespace:        shop
Node:             node-1/10.0.0.4
Start Time:       Tue, 02 Jan 2024 10:00:00 +0000
Labels:           app=checkout
Status:           Running
Controlled By:  ReplicaSet/checkout-7d9f8c6b5
Init Containers:
  migrate:
    Image:          checkout-migrate:1.4
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
    Ready:          True
    Restart Count:  0
Containers:
  app:
    Image:          registry.example.com/checkout:2.3.1
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Tue, 02 Jan 2024 10:10:00 +0000
      Finished:     Tue, 02 Jan 2024 10:12:00 +0000
    Ready:          False
    Restart Count:  5
    Limits:
      memory:  128Mi
    Requests:
      memory:  64Mi
    Liveness:   http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3
Conditions:
  Type              Status
  Initialized       True
  Ready             False
  PodScheduled      True
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Warning  Unhealthy  5m (x3 over 6m)      kubelet  Liveness probe failed: Get "http://10.1.2.3:8080/healthz": dial tcp 10.1.2.3:8080: connect: connection refused
  Warning  BackOff    2m (x12 over 10m)    kubelet  Back-off restarting failed container app in pod checkout-7d9f8c6b5-x2k4p_shop(abc)
"""


def test_oom_crash_loop_and_probe_findings() -> None:
    report = read(OOM_DESCRIBE)
    (pod,) = report.objects
    assert pod.status == "CrashLoopBackOff"  # the init container completed: not Init:…
    assert pod.reasons == ["Completed", "CrashLoopBackOff", "OOMKilled"]
    assert pod.exit_codes == [0, 137] and pod.restarts == 5 and pod.ready == "0/1"
    assert pod.workload == "checkout"
    found = {f.signature: f for f in report.findings}
    oom = found["oom"]
    assert oom.summary == "OOMKilled: the container hit its memory limit (128Mi), restarted 5 times"
    assert oom.component == "checkout" and oom.object == "pod/checkout-7d9f8c6b5-x2k4p"
    assert "Reason:       OOMKilled" in oom.lines and "Exit Code:    137" in oom.lines
    assert oom.severity == pytest.approx(0.9)
    assert found["crash-loop"].severity >= 0.8
    assert found["probe"].summary.startswith("Liveness probe failed")
    assert 0.55 <= found["probe"].severity <= 0.7
    assert report.findings[0].signature == "oom"
    text = KUBERNETES.summarise(report)
    assert (
        "pod/checkout-7d9f8c6b5-x2k4p (shop) CrashLoopBackOff, 5 restarts, last exit 137 OOMKilled"
        in text
    )
    assert "2 Warning events (BackOff ×12, Unhealthy ×3)" in text
    described = KUBERNETES.describe(report, 10)
    assert described[0].startswith("⚠ pod/checkout-7d9f8c6b5-x2k4p: OOMKilled")
    assert any(line.startswith("pod/checkout-7d9f8c6b5-x2k4p: BackOff ×12") for line in described)


EVENTS = """\
LAST SEEN   TYPE      REASON              OBJECT                          MESSAGE
3m          Warning   FailedScheduling    pod/worker-6f7d8c9b5-q1w2e      0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.
2m          Warning   Failed              pod/web-5c6d7e8f9-a1b2c         Failed to pull image "registry.example.com/web:9.9": rpc error: code = NotFound desc = failed to pull and unpack image: manifest unknown
2m          Warning   Failed              pod/web-5c6d7e8f9-a1b2c         Error: ErrImagePull
90s         Warning   Failed              pod/api-7b8c9d0e1-z9y8x         Error: couldn't find key DB_URL in ConfigMap shop/api-config
60s         Warning   Unhealthy           pod/cart-5b6c7d8e9-k3j4h        Readiness probe failed: HTTP probe failed with statuscode: 503
45s         Warning   BackoffLimitExceeded   job/nightly-report-28473920  Job has reached the specified backoff limit
30s         Warning   Evicted             pod/cache-0                     The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi.
20s         Warning   FailedCreate        replicaset/batch-6d5c4b3a2      Error creating: pods "batch-6d5c4b3a2-xyz12" is forbidden: exceeded quota: team-quota, requested: cpu=500m, used: cpu=0, limited: cpu=400m
10s         Normal    Pulled              pod/cart-5b6c7d8e9-k3j4h        Container image "cart:1.0" already present on machine
"""


def test_events_findings() -> None:
    report = read(EVENTS)
    assert report.format == "events"
    assert len(report.events) == 9
    found = {f.signature: f for f in report.findings}
    scheduling = found["scheduling"]
    assert scheduling.component == "worker" and scheduling.object == "pod/worker-6f7d8c9b5-q1w2e"
    assert scheduling.summary == "FailedScheduling: 0/3 nodes are available: 3 Insufficient memory."
    assert scheduling.severity >= 0.8
    pull = found["image-pull"]
    assert pull.component == "web" and "image or tag not found" in pull.summary
    assert len(pull.lines) == 2
    config = found["config"]
    assert config.component == "api" and "couldn't find key DB_URL" in config.summary
    assert found["probe"].component == "cart"
    assert found["job-failed"].component == "nightly-report"
    assert found["evicted"].component == "cache"
    assert found["quota"].component == "batch"


def test_real_fault_strings() -> None:
    path = FAULTS / "data" / "faults.json"
    if not path.is_file():
        pytest.skip(f"shared data not present: {path}")
    expected = {
        "FailedScheduling": "scheduling",
        "FailedCreate": "quota",
        "CreateContainerError": "config",
    }
    rows = ["LAST SEEN   TYPE      REASON                 OBJECT                 MESSAGE"]
    wanted = []
    for i, fault in enumerate(json.loads(path.read_text())):
        if fault["event"] not in expected:
            continue
        pod = f"app{i}-6d5c4b3a2-xyz{i:02d}"
        message = fault["error"].replace("{FAULT_POD}", pod).replace("{FAULT_CONTAINER}", "app")
        rows.append(f"1m          Warning   {fault['event']:<22} {'pod/' + pod:<20}   {message}")
        wanted.append((f"pod/{pod}", expected[fault["event"]]))
    report = read("\n".join(rows) + "\n")
    got = {(f.object, f.signature) for f in report.findings}
    for item in wanted:
        assert item in got
    taint = next(f for f in report.findings if "taint" in f.summary)
    assert "node taints not tolerated" in taint.summary


STATE_OF_THINGS = """\
Name:              payments
Namespace:         shop
Labels:            app=payments
Annotations:       <none>
Selector:          app=payments
Type:              ClusterIP
IP:                10.96.12.7
Port:              http  80/TCP
TargetPort:        8080/TCP
Endpoints:         <none>
Session Affinity:  None
Events:            <none>


Name:             web
Labels:           <none>
Namespace:        shop
Address:
Ingress Class:    <none>
Default backend:  <default>
Rules:
  Host        Path  Backends
  ----        ----  --------
  *
              /   web:80 (<error: endpoints "web" not found>)
Annotations:  <none>
Events:       <none>


Name:          data-db-0
Namespace:     shop
StorageClass:  fast-ssd
Status:        Pending
Volume:
Labels:        app=db
Annotations:   <none>
Capacity:
Access Modes:
VolumeMode:    Filesystem
Events:
  Type     Reason              Age                From                         Message
  ----     ------              ----               ----                         -------
  Warning  ProvisioningFailed  10s (x4 over 1m)   persistentvolume-controller  storageclass.storage.k8s.io "fast-ssd" not found
"""


def test_service_ingress_pvc_findings() -> None:
    report = read(STATE_OF_THINGS)
    assert [o.kind for o in report.objects] == ["Service", "Ingress", "PersistentVolumeClaim"]
    found = {(f.signature, f.object): f for f in report.findings}
    assert ("no-endpoints", "service/payments") in found
    assert found[("no-endpoints", "service/payments")].lines == ["Endpoints:         <none>"]
    assert ("ingress-class", "ingress/web") in found
    assert ("no-endpoints", "ingress/web") in found
    pvc = found[("pvc-pending", "persistentvolumeclaim/data-db-0")]
    assert "fast-ssd" in pvc.summary and "not found" in pvc.summary


NODE = """\
Name:               node-2
Roles:              worker
Labels:             kubernetes.io/hostname=node-2
Annotations:        <none>
CreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000
Taints:             node.kubernetes.io/memory-pressure:NoSchedule
Unschedulable:      false
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   True    Tue, 02 Jan 2024 10:00:00 +0000   Tue, 02 Jan 2024 09:55:00 +0000   KubeletHasInsufficientMemory  kubelet has insufficient memory available
  DiskPressure     False   Tue, 02 Jan 2024 10:00:00 +0000   Mon, 01 Jan 2024 00:00:00 +0000   KubeletHasNoDiskPressure     kubelet has no disk pressure
  Ready            False   Tue, 02 Jan 2024 10:00:00 +0000   Tue, 02 Jan 2024 09:58:00 +0000   KubeletNotReady              PLEG is not healthy
Events:            <none>
"""


def test_node_pressure_and_not_ready() -> None:
    report = read(NODE)
    (node,) = report.objects
    assert (node.kind, node.status) == ("Node", "NotReady")
    assert node.conditions == {"MemoryPressure": "True", "DiskPressure": "False", "Ready": "False"}
    finding = next(f for f in report.findings if f.signature == "node-pressure")
    assert finding.component == "node-2"
    assert any("MemoryPressure   True" in line for line in finding.lines)


def test_init_container_and_config_error_in_get() -> None:
    table = (
        "NAME                         READY   STATUS                       RESTARTS      AGE\n"
        "api-7b8c9d0e1-z9y8x          0/1     CreateContainerConfigError   0             2m\n"
        "worker-6f7d8c9b5-q1w2e       0/1     Init:CrashLoopBackOff        4 (30s ago)   3m\n"
        "web-5c6d7e8f9-a1b2c          0/1     ImagePullBackOff             0             5m\n"
    )
    report = read(table)
    found = {f.object: f.signature for f in report.findings}
    assert found["pod/api-7b8c9d0e1-z9y8x"] == "config"
    assert found["pod/worker-6f7d8c9b5-q1w2e"] == "init-container"
    assert found["pod/web-5c6d7e8f9-a1b2c"] == "image-pull"


def test_read_applies_redactor_and_rejects_unreadable() -> None:
    secret = OOM_DESCRIBE.replace(
        "    Ready:          False\n",
        "    Environment:\n      DB_PASSWORD:  hunter2-very-secret\n    Ready:          False\n",
    )
    report = KUBERNETES.read("pod.txt", secret.encode(), Redactor(), None)
    assert "hunter2" not in report.model_dump_json()
    with pytest.raises(EvidenceRejected):
        KUBERNETES.read("pod.yaml", b"apiVersion: v1\nkind: Pod\nstatus:\n  phase: [\n", None, None)
    with pytest.raises(EvidenceRejected):
        KUBERNETES.read("notes.txt", b"just some words\n", None, None)


def test_node_oom_event_blames_the_killed_workload() -> None:
    table = (
        "LAST SEEN              TYPE      REASON       OBJECT                       COUNT   MESSAGE\n"
        "2026-10-21T09:42:00Z   Normal    Started      pod/inventory-6z7mv8wknb-ccpvg   1   Started container inventory\n"
        "2026-10-21T09:42:10Z   Warning   OOMKilling   node/pool-2-m2vd             1       Memory cgroup out of memory: Killed process 14053 (inventory) total-vm:1912344kB\n"
        '2026-10-21T09:43:00Z   Warning   Unhealthy    pod/frontend-5b7d9c8f6d-h2kzq   1    Readiness probe failed: Get "http://10.0.0.9:8080/ready": context deadline exceeded\n'
    )
    report = read(table)
    assert (
        report.first_ts is not None and report.first_ts.isoformat() == "2026-10-21T09:42:00+00:00"
    )
    found = {f.signature: f for f in report.findings}
    assert found["oom"].component == "inventory" and found["oom"].object == "node/pool-2-m2vd"
    # One failed readiness probe happens in any rollout: weak evidence.
    assert found["probe"].severity < 0.5


def test_kubectls_own_errors_say_what_the_cluster_refused_or_lacks() -> None:
    from engine.evidence.analyze import analyze as read_file
    from engine.evidence.kubernetes.report import KubeReport as Report

    forbidden = (
        b'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:'
        b'ops:reader" cannot list resource "secrets" in API group "" at the cluster scope\n'
    )
    report = read_file("out.txt", forbidden)
    assert isinstance(report, Report) and report.format == "error"
    [finding] = report.findings
    assert finding.signature == "auth" and finding.component == "reader"
    assert "may not list secrets at the cluster scope" in finding.summary
    missing = read_file("out.txt", b'error: the server doesn\'t have a resource type "widget"\n')
    assert isinstance(missing, Report) and missing.missing[0].kind == "widget"
    assert "no resource type widget" in missing.findings[0].summary
    none = read_file("out.txt", b"No resources found in shop namespace.\n")
    assert isinstance(none, Report) and "no resources in namespace shop" in none.findings[0].summary
    # A log line that merely starts with "error:" among other lines stays a log.
    assert read_file("app.log", b"error: disk full\nretrying\nok\n").kind != "kubernetes"


def test_a_big_table_lists_only_the_pods_that_restarted_most() -> None:
    from engine.evidence.analyze import analyze as read_file

    rows = ["NAME                      READY   STATUS    RESTARTS   AGE"]
    rows += [
        f"web-6c7d8e9f5-a{i:04d}      1/1     Running   {i + 1}          3d" for i in range(40)
    ]
    report = read_file("pods.txt", ("\n".join(rows) + "\n").encode())
    assert isinstance(report, KubeReport)
    restarts_only = [f for f in report.findings if "restarted" in f.summary]
    assert len(restarts_only) == 5
    assert "40 times" in restarts_only[0].summary
