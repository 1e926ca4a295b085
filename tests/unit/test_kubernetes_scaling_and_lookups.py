"""HorizontalPodAutoscaler state, kubectl's "not found" answers, `kubectl top pod --containers`,
and what the investigation makes of them against the question asked.

The real cases are read from ../shared/data/k8s-troubleshooting/ (HolmesGPT evaluation
fixtures, captured from real clusters; skipped when absent). They hold no HPA and no
`top --containers` output, so those are short excerpts below, as kubectl prints them.
"""

# kubectl pads its columns to the widest value: the snippets below are as wide as it prints them.
# ruff: noqa: E501

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.evidence.analyze import analyze
from engine.evidence.kubernetes.analyze import analyze_kubernetes
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.kubernetes.summary import summarize_kubernetes
from engine.evidence.reports import AnyReport
from engine.investigate.cluster_answers import asked_names, closest, provider_word
from engine.investigate.reasoner import investigate_offline

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "data" / "k8s-troubleshooting"


def read(text: str, name: str = "paste.txt") -> KubeReport:
    return analyze_kubernetes(name, text.encode())


def real_case(case: str) -> tuple[str, list[AnyReport]]:
    """The case's question and its files, read as an upload would be."""
    folder = CASES / case
    if not folder.is_dir():
        pytest.skip(f"shared data not present: {folder}")
    prompt = yaml.safe_load((folder / "test_case.yaml").read_text())["user_prompt"]
    files = sorted(p for p in folder.iterdir() if p.name != "test_case.yaml")
    return str(prompt), [analyze(p.name, p.read_bytes()) for p in files]


DESCRIBE_HPA_NO_METRICS = """\
Name:                                                  php-apache
Namespace:                                             default
Labels:                                                <none>
Annotations:                                           <none>
CreationTimestamp:                                     Mon, 14 Jul 2025 10:12:03 +0300
Reference:                                             Deployment/php-apache
Metrics:                                               ( current / target )
  resource cpu on pods  (as a percentage of request):  <unknown> / 50%
Min replicas:                                          1
Max replicas:                                          10
Deployment pods:                                       1 current / 0 desired
Conditions:
  Type           Status  Reason                   Message
  ----           ------  ------                   -------
  AbleToScale    True    SucceededGetScale        the HPA controller was able to get the target's current scale
  ScalingActive  False   FailedGetResourceMetric  the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)
Events:
  Type     Reason                        Age                 From                       Message
  ----     ------                        ----                ----                       -------
  Warning  FailedGetResourceMetric       12s (x8 over 117s)  horizontal-pod-autoscaler  failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)
  Warning  FailedComputeMetricsReplicas  12s (x8 over 117s)  horizontal-pod-autoscaler  invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)
"""

DESCRIBE_HPA_AT_MAX = """\
Name:                                                  checkout
Namespace:                                             shop
Labels:                                                app=checkout
Annotations:                                           <none>
CreationTimestamp:                                     Mon, 14 Jul 2025 10:12:03 +0300
Reference:                                             Deployment/checkout
Metrics:                                               ( current / target )
  resource cpu on pods  (as a percentage of request):  142% (712m) / 70%
  resource memory on pods:                             310Mi / 400Mi
Min replicas:                                          2
Max replicas:                                          6
Deployment pods:                                       6 current / 6 desired
Conditions:
  Type            Status  Reason            Message
  ----            ------  ------            -------
  AbleToScale     True    ReadyForNewScale  recommended size matches current size
  ScalingActive   True    ValidMetricFound  the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)
  ScalingLimited  True    TooManyReplicas   the desired replica count is more than the maximum replica count
Events:
  Type    Reason             Age   From                       Message
  ----    ------             ----  ----                       -------
  Normal  SuccessfulRescale  4m    horizontal-pod-autoscaler  New size: 6; reason: cpu resource utilization (percentage of request) above target
"""

GET_HPA = """\
NAME                REFERENCE                      TARGETS              MINPODS   MAXPODS   REPLICAS   AGE
invoice-generator   Deployment/invoice-generator   cpu: 9%/60%          1         5         1          3m12s
php-apache          Deployment/php-apache          cpu: <unknown>/50%   1         10        1          45s
"""

# kubectl before 1.30 printed no metric names; a full HPA at 250% of its target.
GET_HPA_OLD = """\
NAME         REFERENCE               TARGETS            MINPODS   MAXPODS   REPLICAS   AGE
php-apache   Deployment/php-apache   250%/50%           1         10        10         7m
web          Deployment/web          12%/80%, 40%/70%   2         8         2          1d
"""

HPA_YAML = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  creationTimestamp: "2025-07-11T13:20:41Z"
  name: invoice-generator
  namespace: invoices
  resourceVersion: "1183453"
  uid: 6f1c1f6e-1f51-4b59-9a0c-5b8e0cb1d0a1
spec:
  maxReplicas: 5
  metrics:
  - resource:
      name: cpu
      target:
        averageUtilization: 60
        type: Utilization
    type: Resource
  minReplicas: 1
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: invoice-generator
status:
  conditions:
  - lastTransitionTime: "2025-07-11T13:20:56Z"
    message: recommended size matches current size
    reason: ReadyForNewScale
    status: "True"
    type: AbleToScale
  - lastTransitionTime: "2025-07-11T13:20:56Z"
    message: the HPA was able to successfully calculate a replica count from cpu resource
      utilization (percentage of request)
    reason: ValidMetricFound
    status: "True"
    type: ScalingActive
  - lastTransitionTime: "2025-07-11T13:20:56Z"
    message: the desired count is within the acceptable range
    reason: DesiredWithinRange
    status: "False"
    type: ScalingLimited
  currentMetrics:
  - resource:
      current:
        averageUtilization: 9
        averageValue: 4m
      name: cpu
    type: Resource
  currentReplicas: 1
  desiredReplicas: 1
"""

EVENTS_HPA = """\
LAST SEEN   TYPE      REASON                    OBJECT                               MESSAGE
2m          Warning   FailedGetResourceMetric   horizontalpodautoscaler/php-apache   failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API
"""

TOP_CONTAINERS = """\
POD                        NAME          CPU(cores)   MEMORY(bytes)
checkout-7d9f8c6b5-x2k4p   checkout      250m         180Mi
checkout-7d9f8c6b5-x2k4p   istio-proxy   3m           40Mi
payments-5bcd6bf54-g8ckl   payments      0m           6Mi
"""

TOP_CONTAINERS_ALL = """\
NAMESPACE   POD                        NAME       CPU(cores)   MEMORY(bytes)
shop        checkout-7d9f8c6b5-x2k4p   checkout   1m           12Mi
"""

# A pod that crash-loops, to check an HPA's account still leads a question about scaling.
DESCRIBE_CRASHING_POD = """\
Name:             worker-5c5fdbbf57-qxcps
Namespace:        shop
Node:             node-1/10.0.0.5
Start Time:       Mon, 14 Jul 2025 10:00:00 +0300
Status:           Running
Controlled By:    ReplicaSet/worker-5c5fdbbf57
Containers:
  worker:
    Image:          worker:1.4
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
    Ready:          False
    Restart Count:  9
Conditions:
  Type              Status
  Ready             False
Events:
  Type     Reason   Age                  From     Message
  ----     ------   ----                 ----     -------
  Warning  BackOff  30s (x40 over 10m)   kubelet  Back-off restarting failed container worker in pod worker-5c5fdbbf57-qxcps_shop(1d2e)
"""


# --- HPA state ------------------------------------------------------------------------------


def test_describe_hpa_that_cannot_read_its_metrics() -> None:
    report = read(DESCRIBE_HPA_NO_METRICS, "kubectl_describe_hpa_php-apache.txt")
    assert report.format == "describe"
    (hpa,) = report.objects
    assert (hpa.kind, hpa.name, hpa.workload) == (
        "HorizontalPodAutoscaler",
        "php-apache",
        "php-apache",
    )
    assert hpa.details["scale_target"] == "Deployment/php-apache"
    assert hpa.details["metric.cpu"] == "<unknown>/50%"
    assert (hpa.details["min_replicas"], hpa.details["max_replicas"]) == ("1", "10")
    assert (hpa.details["replicas"], hpa.details["desired_replicas"]) == ("1", "0")
    assert hpa.conditions["ScalingActive"] == "False"
    (finding,) = [f for f in report.findings if f.signature == "autoscaler"]
    assert finding.summary == (
        "HPA php-apache cannot read its metrics (FailedGetResourceMetric): it will not scale"
    )
    assert finding.component == "php-apache"
    assert finding.lines[0].startswith("ScalingActive  False   FailedGetResourceMetric")
    # the controller's Warning events are the same story, not findings of their own
    assert [f.signature for f in report.findings] == ["autoscaler"]
    assert "cpu <unknown>/50%, 1 replica (1-10)" in summarize_kubernetes(report)


def test_describe_hpa_at_its_maximum() -> None:
    report = read(DESCRIBE_HPA_AT_MAX)
    (hpa,) = report.objects
    assert hpa.details["metric.cpu"] == "142%/70%"
    assert hpa.details["metric.memory"] == "310Mi/400Mi"
    (finding,) = report.findings
    assert finding.summary == (
        "HPA checkout is at its maximum of 6 replicas (cpu now 142% against a 70% target)"
    )
    assert (
        "ScalingLimited  True    TooManyReplicas   the desired replica count is more than the maximum replica count"
        in finding.lines
    )


def test_get_hpa_table() -> None:
    report = read(GET_HPA, "kubectl_get_hpa.txt")
    assert report.format == "get"
    by_name = {o.name: o for o in report.objects}
    assert by_name["invoice-generator"].details == {
        "scale_target": "Deployment/invoice-generator",
        "min_replicas": "1",
        "max_replicas": "5",
        "replicas": "1",
        "metric.cpu": "9%/60%",
    }
    summaries = {f.object: (f.summary, f.severity) for f in report.findings}
    blind, severity = summaries["horizontalpodautoscaler/php-apache"]
    assert blind.startswith("HPA php-apache cannot read its metrics")
    assert severity >= 0.7
    quiet, severity = summaries["horizontalpodautoscaler/invoice-generator"]
    assert quiet == (
        "HPA invoice-generator scales Deployment/invoice-generator on cpu: now 9% against a "
        "60% target, so it does not scale up"
    )
    assert severity < 0.5  # information, not a failure


def test_get_hpa_without_metric_names() -> None:
    report = read(GET_HPA_OLD)
    summaries = {f.object: f.summary for f in report.findings}
    assert summaries["horizontalpodautoscaler/php-apache"] == (
        "HPA php-apache is at its maximum of 10 replicas (now 250% against a 50% target)"
    )
    assert summaries["horizontalpodautoscaler/web"] == (
        "HPA web scales Deployment/web: now metric 1 12% against an 80% target and metric 2 "
        "40% against a 70% target, so it does not scale up"
    )


def test_hpa_live_yaml() -> None:
    report = read(HPA_YAML, "hpa.yaml")
    assert report.format == "yaml"
    (hpa,) = report.objects
    assert hpa.details["metric.cpu"] == "9%/60%"
    assert hpa.details["scale_target"] == "Deployment/invoice-generator"
    assert hpa.conditions == {
        "AbleToScale": "True",
        "ScalingActive": "True",
        "ScalingLimited": "False",
    }
    (finding,) = report.findings
    assert finding.summary.endswith("on cpu: now 9% against a 60% target, so it does not scale up")
    assert "averageUtilization: 9" in finding.lines


def test_hpa_metric_failure_in_events_table() -> None:
    report = read(EVENTS_HPA)
    (finding,) = report.findings
    assert finding.signature == "autoscaler"
    assert finding.summary == (
        "HPA php-apache cannot read its metrics (FailedGetResourceMetric): it will not scale"
    )


# --- kubectl top pod --containers ----------------------------------------------------------


def test_top_pod_containers_is_one_pod_per_pod() -> None:
    report = read(TOP_CONTAINERS)
    assert report.format == "top"
    by_name = {o.name: o for o in report.objects}
    assert set(by_name) == {"checkout-7d9f8c6b5-x2k4p", "payments-5bcd6bf54-g8ckl"}
    checkout = by_name["checkout-7d9f8c6b5-x2k4p"]
    assert (checkout.kind, checkout.workload) == ("Pod", "checkout")
    assert checkout.usage == {"cpu": "253m", "memory": "220Mi"}
    assert checkout.details["container_usage"] == (
        "checkout: cpu 250m, memory 180Mi; istio-proxy: cpu 3m, memory 40Mi"
    )
    (other,) = read(TOP_CONTAINERS_ALL).objects
    assert (other.namespace, other.usage) == ("shop", {"cpu": "1m", "memory": "12Mi"})


# --- kubectl says something is not there -------------------------------------------------


def test_kubectl_lookups_that_came_back_empty() -> None:
    grep = read(
        "Command `kubectl get -A --show-labels -o wide pod | grep web-frontend` failed with return code 1\n"
    )
    assert grep.format == "error"
    (missing,) = grep.missing
    assert (missing.what, missing.kind, missing.name) == ("match", "pod", "web-frontend")
    assert grep.findings[0].summary == (
        "no pod matches web-frontend: nothing by that name in the cluster"
    )
    found = read('Error from server (NotFound): deployments.apps "web" not found\n')
    assert (found.missing[0].kind, found.missing[0].name) == ("deployment", "web")
    assert found.findings[0].summary == "deployment web could not be found (NotFound)"
    empty = read("No resources found in shop namespace.\n")
    assert (empty.missing[0].what, empty.missing[0].namespace) == ("listing", "shop")
    no_type = read('error: the server doesn\'t have a resource type "scaledobject"\n')
    assert (no_type.missing[0].what, no_type.missing[0].kind) == ("type", "scaledobject")
    assert "not installed" in no_type.findings[0].summary
    # a failure that is not grep's "no match" says only that it failed
    other = read("Command `kubectl get pod -n shop web` failed with return code 1\n")
    assert other.missing == [] and other.notes == [
        "`kubectl get pod -n shop web` failed (return code 1)"
    ]


def test_names_in_a_question() -> None:
    assert asked_names("get last logs from video-streamer in app-57 namespace") == [
        "video-streamer"
    ]
    assert asked_names("Fetch the logs for deployment `nginx` in namespace -n shop-2") == ["nginx"]
    assert asked_names("what happened on 2025-08-23 to payments-api?") == ["payments-api"]


def test_the_word_that_names_a_missing_provider() -> None:
    names = {"invoice-generator", "invoices-64"}
    assert (
        provider_word(
            "Why isnt KEDA scaling the invoice-generator deployment?", names, "scaledobject"
        )
        == "KEDA"
    )
    assert provider_word("Why isn't Karpenter adding nodes?", names, "nodepool") == "Karpenter"
    # a sentence's first word, generic terms and the type itself name nothing
    assert provider_word("Why is the HPA not working? Pods are pending.", names, "x") is None
    assert provider_word("Why is my ScaledObject ignored?", names, "scaledobject") is None
    # something the evidence shows is there, so it is not what is missing
    assert provider_word("Why isnt KEDA scaling it?", {"keda-operator"}, "scaledobject") is None


def test_closest_names() -> None:
    candidates = ["db-certs-authenticator", "checkout", "payments-5bcd6bf54-g8ckl"]
    assert closest("personal-certs-validator", candidates) == "db-certs-authenticator"
    assert closest("payment", candidates) is None
    # a workload before its pods; generic pieces ('service') do not make names close
    assert closest("web", ["web-7d9f8c6b5-x2k4p", "web-7d9f8c6b5"]) == "web-7d9f8c6b5"
    assert closest("payment-service", ["checkout-service"]) is None


# --- the investigation, with the question ---------------------------------------------------


def test_missing_type_names_what_the_question_expects() -> None:
    no_type = read('error: the server doesn\'t have a resource type "scaledobject"\n', "get_so.txt")
    result = investigate_offline(
        "Why isnt KEDA scaling the invoice-generator deployment?", [], [no_type]
    )
    top = result.hypotheses[0]
    assert top.statement == (
        "KEDA does not look installed: the cluster has no resource type scaledobject "
        "(its CRD/operator is missing)"
    )
    assert top.signature == "not-installed"
    assert (
        top.supporting[0].text == 'error: the server doesn\'t have a resource type "scaledobject"'
    )
    assert not result.working_conclusion.startswith("Nothing in the evidence")
    # without a word for it, the type alone
    plain = investigate_offline("what autoscalers are there?", [], [no_type])
    assert plain.hypotheses[0].statement.startswith("The cluster has no resource type scaledobject")


def test_hpa_leads_a_question_about_scaling() -> None:
    reports: list[AnyReport] = [
        read('error: the server doesn\'t have a resource type "scaledobject"\n', "so.txt"),
        read(GET_HPA, "hpa.txt"),
        read(DESCRIBE_CRASHING_POD, "pod.txt"),
    ]
    result = investigate_offline(
        "Why isnt KEDA scaling the invoice-generator deployment?", [], reports
    )
    statements = [h.statement for h in result.hypotheses]
    assert statements[0].startswith("HPA ")
    assert any(
        s.startswith("HPA invoice-generator scales Deployment/invoice-generator")
        for s in statements
    )
    assert any(s.startswith("KEDA does not look installed") for s in statements)
    # asked something else, the crash loop leads and the quiet HPA is no hypothesis
    other = investigate_offline("why is the worker failing?", [], reports)
    assert other.hypotheses[0].signature == "crash-loop"
    assert not any("does not scale up" in h.statement for h in other.hypotheses)


def test_object_asked_about_could_not_be_found() -> None:
    grep = read(
        "Command `kubectl get -A --show-labels -o wide pod | grep frontend-certs-validator` failed with return code 1\n",
        "kubectl_find_resource.txt",
    )
    pods = read(
        "NAME                                      READY   STATUS    RESTARTS   AGE\n"
        "db-certs-authenticator-7d9f8c6b5-x2k4p    0/1     CrashLoopBackOff   12   30m\n",
        "pods.txt",
    )
    result = investigate_offline(
        "Why is personal-certs-validator in a crashloopbackoff?", [], [grep]
    )
    assert result.hypotheses[0].statement == (
        "personal-certs-validator could not be found in the cluster (a search for "
        "frontend-certs-validator found nothing)"
    )
    with_pods = investigate_offline(
        "Why is personal-certs-validator in a crashloopbackoff?", [], [grep, pods]
    )
    found = next(h for h in with_pods.hypotheses if h.signature == "not-found")
    assert found.statement.endswith("the closest match is db-certs-authenticator")


def test_an_object_the_evidence_shows_is_not_reported_missing() -> None:
    not_found = read('Error from server (NotFound): pods "my-server" not found\n', "get_pod.txt")
    listed = read(
        "NAME        READY   UP-TO-DATE   AVAILABLE   AGE\nmy-server   1/1     1            1           3m44s\n",
        "deploy.txt",
    )
    result = investigate_offline(
        "Fetch the logs for deployment `my-server`", [], [not_found, listed]
    )
    assert not any(h.signature == "not-found" for h in result.hypotheses)
    assert result.working_conclusion.startswith("Nothing in the evidence looks like an incident")
    assert "the evidence shows deployment my-server" in result.working_conclusion


# --- the real cases ------------------------------------------------------------------------


def test_real_missing_scaledobject_type() -> None:
    question, reports = real_case("test_ask_holmes__64_keda_vs_hpa_confusion")
    result = investigate_offline(question, [], reports)
    assert result.hypotheses[0].statement.startswith("KEDA does not look installed")


def test_real_pod_not_found_by_grep() -> None:
    question, reports = real_case("test_ask_holmes__19_detect_missing_app_details")
    result = investigate_offline(question, [], reports)
    assert result.hypotheses[0].statement.startswith(
        "personal-certs-validator could not be found in the cluster"
    )


def test_real_empty_namespace() -> None:
    question, reports = real_case("test_ask_holmes__57_wrong_namespace")
    result = investigate_offline(question, [], reports)
    assert result.hypotheses[0].statement == (
        "video-streamer could not be found in the cluster (kubectl found no resources in "
        "namespace app-57)"
    )


def test_real_not_found_but_shown_elsewhere_stays_quiet() -> None:
    question, reports = real_case("test_ask_holmes__45_fetch_deployment_logs_simple")
    result = investigate_offline(question, [], reports)
    assert all(h.confidence <= 0.2 for h in result.hypotheses)
    assert "the evidence shows deployment my-server-deployment" in result.working_conclusion
