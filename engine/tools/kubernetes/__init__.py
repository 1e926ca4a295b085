"""Read-only Kubernetes tools: pods, events, container logs, deployments, rollout history.

A source of kind `kubernetes` names how to reach its cluster in `options`:

    - name: prod-k8s
      kind: kubernetes
      options: {kubeconfig: ~/.kube/prod.yaml, context: prod, namespace: shop}
      # or, when FaultMaven runs in the cluster: options: {in_cluster: true}

Every call is a GET (list, read, logs) made with the official client, one API client per
source; the source's account needs only get/list on pods, pods/log, events, deployments
and replicasets. Each answer cites the kubectl command a person would run for the same view.
"""

from __future__ import annotations

from engine.tools.base import Tool
from engine.tools.kubernetes.cluster import Clusters, KubernetesOptions
from engine.tools.kubernetes.deployments import K8sDeployments, K8sRolloutHistory
from engine.tools.kubernetes.events import K8sEvents
from engine.tools.kubernetes.logs import K8sLogs
from engine.tools.kubernetes.pods import K8sPods
from engine.tools.sources import Source


def kubernetes_tools(sources: list[Source]) -> list[Tool]:
    """The Kubernetes tools over the kubernetes sources allowed here; none without one.
    A source whose options are wrong is refused here (SourcesError naming it)."""
    sources = [source for source in sources if source.kind == "kubernetes"]
    if not sources:
        return []
    clusters = Clusters(sources)
    return [
        K8sPods(clusters),
        K8sEvents(clusters),
        K8sLogs(clusters),
        K8sDeployments(clusters),
        K8sRolloutHistory(clusters),
    ]


__all__ = ["KubernetesOptions", "kubernetes_tools"]
