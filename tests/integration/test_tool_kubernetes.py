"""The Kubernetes tools against a loopback API server that replays recorded real objects.

No Kubernetes API server installs here: tests/fakes/k8s_api.py serves, over HTTPS with a
certificate made by the test and a bearer token it checks, the pods, events, logs and
deployments recorded from real clusters (../shared/data/k8s-troubleshooting), plus a few
hand-made objects no recording holds (an OOMKilled pod, a deployment with three revisions).
The tools reach it exactly as a cluster: through a kubeconfig and the official client.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.tools.kubernetes import kubernetes_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source, SourcesError
from tests.fakes.k8s_api import (
    OOM_POD,
    RECORDINGS,
    K8sApiServer,
    make_tls,
    recorded_cluster,
    write_kubeconfig,
)

TOKEN = "replay-token-7f3a"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[K8sApiServer]:
    if not RECORDINGS.is_dir():
        pytest.skip(f"the recorded Kubernetes outputs are not at {RECORDINGS}")
    async with K8sApiServer(recorded_cluster(), token=TOKEN, tls=make_tls(tmp_path)) as server:
        yield server


def _source(tmp_path: Path, server: str, token: str, ca_pem: bytes | None) -> Source:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig.yaml", server, token, ca_pem)
    return Source(name="replay", kind="kubernetes", options={"kubeconfig": str(kubeconfig)})


@pytest.fixture
def tools(api: K8sApiServer, tmp_path: Path) -> ToolRegistry:
    source = _source(tmp_path, api.root_url, TOKEN, api.ca_pem)
    return ToolRegistry(kubernetes_tools([source]))


def _line(text: str, needle: str) -> int:
    """The index of the first line of `text` holding `needle` (fails clearly if none)."""
    for number, line in enumerate(text.splitlines()):
        if needle in line:
            return number
    raise AssertionError(f"no line with {needle!r} in:\n{text}")


async def test_the_crashing_pod_comes_first_with_its_last_exit(
    tools: ToolRegistry, api: K8sApiServer
) -> None:
    run = await tools.run("k8s_pods", {"namespace": "default"})

    assert run.ok, run.error
    crashing = run.output.splitlines()[_line(run.output, "frontend-service:")]
    assert "CrashLoopBackOff" in crashing
    assert "0/1 ready" in crashing and "7 restarts" in crashing
    assert "last exit Error, exit code 255 (stress" in crashing
    assert "node aks-agentpool-29949785-vmss000001" in crashing
    assert _line(run.output, "frontend-service:") < _line(run.output, "robusta-runner-")
    assert run.query == "kubectl -n default get pods -o wide"
    assert {method for method, _ in api.requests} == {"GET"}


async def test_the_oomkilled_pod_says_its_reason_and_exit_code_first(
    tools: ToolRegistry,
) -> None:
    run = await tools.run("k8s_pods", {"namespace": "shop"})

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0] == "3 pods in namespace shop; 1 with problems"
    first_pod = lines[2]
    assert first_pod.startswith(f"- {OOM_POD}: CrashLoopBackOff, 0/1 ready, 5 restarts")
    assert "last exit OOMKilled, exit code 137 (checkout" in first_pod
    assert _line(run.output, "Healthy:") > 2


async def test_a_pending_pod_says_why_it_is_not_scheduled(
    tools: ToolRegistry, api: K8sApiServer
) -> None:
    message = "0/3 nodes are available: 3 Insufficient memory."  # hand-made, scheduler wording
    api.state.pods["batch"] = [
        {
            "metadata": {"name": "report-7f9c-abcde", "creationTimestamp": "2025-06-02T14:00:00Z"},
            "spec": {"containers": [{"name": "report"}]},
            "status": {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": message,
                    }
                ],
            },
        }
    ]

    run = await tools.run("k8s_pods", {"namespace": "batch"})

    assert run.ok, run.error
    assert f"- report-7f9c-abcde: Pending, 0/1 ready; not scheduled: {message}; node -" in (
        run.output
    )


async def test_a_label_selector_narrows_the_pods(tools: ToolRegistry) -> None:
    run = await tools.run(
        "k8s_pods", {"namespace": "default", "label_selector": "app=robusta-runner"}
    )

    assert run.ok, run.error
    assert "robusta-runner-6958c5bdd8-69gtn: Running, 1/1 ready" in run.output
    assert "frontend-service" not in run.output
    assert run.query == "kubectl -n default get pods -o wide -l app=robusta-runner"


async def test_warning_events_come_first(tools: ToolRegistry) -> None:
    run = await tools.run("k8s_events", {"namespace": "default"})

    assert run.ok, run.error
    first = run.output.splitlines()[1]
    assert first.startswith("- Warning BackOff Pod/frontend-service ×280, last ")
    assert "Back-off restarting failed container stress" in first
    assert "Normal Scheduled Pod/nginx-6958c5bdd8-69gtn" in run.output


async def test_events_of_one_object(tools: ToolRegistry) -> None:
    run = await tools.run(
        "k8s_events", {"namespace": "default", "object_name": "nginx-6958c5bdd8-69gtn"}
    )

    assert run.ok, run.error
    assert "Pulled Pod/nginx-6958c5bdd8-69gtn" in run.output
    assert "frontend-service" not in run.output
    assert run.query == (
        "kubectl -n default get events --field-selector involvedObject.name=nginx-6958c5bdd8-69gtn"
    )


async def test_logs_of_the_previous_instance_become_evidence(tools: ToolRegistry) -> None:
    run = await tools.run("k8s_logs", {"namespace": "shop", "pod": OOM_POD, "previous": True})

    assert run.ok, run.error
    assert "previous instance: 3 lines" in run.output
    assert "GC overhead 92%, heap 95Mi of 96Mi" in run.output
    assert run.evidence_name == f"k8s-logs-{OOM_POD}-previous.log"
    assert run.evidence is not None and b"GC overhead 92%" in run.evidence
    assert run.query == f"kubectl -n shop logs {OOM_POD} --tail 200 --previous"

    current = await tools.run("k8s_logs", {"namespace": "shop", "pod": OOM_POD})
    assert current.ok, current.error
    assert "GC overhead" not in current.output
    assert current.evidence_name == f"k8s-logs-{OOM_POD}.log"


async def test_recorded_logs_and_the_tail(tools: ToolRegistry) -> None:
    run = await tools.run(
        "k8s_logs",
        {"namespace": "default", "pod": "frontend-service", "container": "stress", "tail_lines": 1},
    )

    assert run.ok, run.error
    assert run.output.splitlines() == [
        "pod frontend-service container stress, current instance: 1 line",
        "exec /usr/local/bin/stress: exec format error",
    ]
    assert run.query == "kubectl -n default logs frontend-service -c stress --tail 1"


async def test_previous_logs_of_a_pod_that_never_restarted(tools: ToolRegistry) -> None:
    pod = "my-server-deployment-79f4ff4d45-g4xvs"
    run = await tools.run(
        "k8s_logs", {"namespace": "ask-holmes-namespace-45", "pod": pod, "previous": True}
    )

    assert not run.ok
    assert "(400" in (run.error or "")
    assert f'previous terminated container "nginx-container" in pod "{pod}" not found' in (
        run.error or ""
    )


async def test_deployments_in_trouble_and_healthy(tools: ToolRegistry) -> None:
    stuck = await tools.run("k8s_deployments", {"namespace": "shop"})
    healthy = await tools.run("k8s_deployments", {"namespace": "ask-holmes-namespace-45"})

    assert stuck.ok, stuck.error
    assert "checkout: ready 2/2, updated 1, available 2; revision 3" in stuck.output
    assert "image shop/checkout:1.4.2" in stuck.output
    assert (
        'Progressing=False ProgressDeadlineExceeded: ReplicaSet "checkout-7c9d8f6b5" has '
        "timed out progressing." in stuck.output
    )
    assert "1 with problems" in stuck.output
    assert healthy.ok, healthy.error
    assert "my-server-deployment: ready 1/1, updated 1, available 1; revision 1" in healthy.output
    assert "image nginx:latest" in healthy.output
    assert "0 with problems" in healthy.output


async def test_rollout_history_marks_the_current_revision(tools: ToolRegistry) -> None:
    run = await tools.run("k8s_rollout_history", {"namespace": "shop", "deployment": "checkout"})

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0] == "deployment checkout in namespace shop: 3 revisions kept; current revision 3"
    revisions = [line for line in lines if line.startswith("- revision")]
    assert revisions[0].startswith("- revision 3 ← current: checkout-7c9d8f6b5, 0/1 ready")
    assert (
        'image shop/checkout:1.4.2, change-cause "checkout 1.4.2: cart cache in memory"'
        in (revisions[0])
    )
    assert revisions[1].startswith("- revision 2: checkout-5f6d7c8b9, 2/2 ready")
    assert revisions[2].startswith("- revision 1: checkout-66b7d9c4f8")
    assert sum("current" in line for line in revisions) == 1
    assert run.query == "kubectl -n shop rollout history deployment/checkout"

    recorded = await tools.run(
        "k8s_rollout_history",
        {"namespace": "ask-holmes-namespace-45", "deployment": "my-server-deployment"},
    )
    assert recorded.ok, recorded.error
    assert "- revision 1 ← current: my-server-deployment-79f4ff4d45, 1/1 ready" in recorded.output


async def test_the_context_is_used_and_cited(api: K8sApiServer, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig.yaml", api.root_url, TOKEN, api.ca_pem, context="prod-eu"
    )
    options = {"kubeconfig": str(kubeconfig), "context": "prod-eu", "namespace": "shop"}
    source = Source(name="prod", kind="kubernetes", options=options)
    tools = ToolRegistry(kubernetes_tools([source]))

    run = await tools.run("k8s_deployments", {"source": "prod"})
    wrong = await ToolRegistry(
        kubernetes_tools([source.model_copy(update={"options": {**options, "context": "dev"}})])
    ).run("k8s_deployments", {})

    assert run.ok, run.error
    assert "checkout: ready 2/2" in run.output  # the source's default namespace
    assert run.query == "kubectl --context prod-eu -n shop get deployments -o wide"
    assert not wrong.ok
    assert "kubernetes source 'prod': cannot use its kubeconfig" in (wrong.error or "")
    assert "dev" in (wrong.error or "")


async def test_a_missing_deployment_is_said(tools: ToolRegistry) -> None:
    run = await tools.run("k8s_rollout_history", {"namespace": "shop", "deployment": "payments"})

    assert not run.ok
    assert 'not found (404): deployments.apps "payments" not found' in (run.error or "")


async def test_a_forbidden_namespace_is_said_with_the_api_words(tools: ToolRegistry) -> None:
    run = await tools.run("k8s_pods", {"namespace": "kube-system"})

    assert not run.ok
    error = run.error or ""
    assert "forbids this account listing pods in namespace kube-system (403)" in error
    assert 'cannot list resource "pods" in API group "" in the namespace "kube-system"' in error


async def test_a_wrong_token_is_said(api: K8sApiServer, tmp_path: Path) -> None:
    source = _source(tmp_path, api.root_url, "not-the-token", api.ca_pem)
    run = await ToolRegistry(kubernetes_tools([source])).run("k8s_pods", {})

    assert not run.ok
    assert "did not accept the credentials of source 'replay' (401)" in (run.error or "")


async def test_an_unknown_certificate_authority_is_refused(
    api: K8sApiServer, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    other_ca = make_tls(other)
    source = _source(tmp_path, api.root_url, TOKEN, other_ca.ca_pem)
    run = await ToolRegistry(kubernetes_tools([source])).run("k8s_pods", {})

    assert not run.ok
    assert "TLS failed" in (run.error or "")
    assert api.requests == []  # the token never left


async def test_an_unreachable_api_is_said(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = _source(tmp_path, f"https://127.0.0.1:{port}", TOKEN, None)
    run = await ToolRegistry(kubernetes_tools([source])).run("k8s_events", {})

    assert not run.ok
    assert f"cannot reach the Kubernetes API of replay (https://127.0.0.1:{port})" in (
        run.error or ""
    )


async def test_a_missing_kubeconfig_is_said(tmp_path: Path) -> None:
    source = Source(
        name="prod", kind="kubernetes", options={"kubeconfig": str(tmp_path / "nope.yaml")}
    )
    run = await ToolRegistry(kubernetes_tools([source])).run("k8s_pods", {})

    assert not run.ok
    assert f"kubernetes source 'prod': no kubeconfig at {tmp_path / 'nope.yaml'}" == run.error


async def test_in_cluster_outside_a_cluster_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    source = Source(name="here", kind="kubernetes", options={"in_cluster": True})
    run = await ToolRegistry(kubernetes_tools([source])).run("k8s_pods", {"namespace": "web"})

    assert not run.ok
    assert "kubernetes source 'here': cannot use its in-cluster account" in (run.error or "")


def test_bad_options_are_refused_naming_the_source() -> None:
    source = Source(name="prod", kind="kubernetes", options={"kubeconfg": "~/.kube/config"})

    with pytest.raises(SourcesError, match="kubernetes source 'prod', options: kubeconfg"):
        kubernetes_tools([source])


def test_no_source_no_tools() -> None:
    assert kubernetes_tools([]) == []
