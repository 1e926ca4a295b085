"""Knowledge search ranks documents, on real Postgres + pgvector with the real MiniLM model:
a short runbook named by its alert is found by the words of that name, and a long page takes
one place in the results, shown by its best section."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.knowledge.documents import import_document
from engine.knowledge.embed import Embedder, load_embedder
from engine.knowledge.search import search

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder()


# A long page whose sections each mention jobs, pods and failures in passing.
OPERATIONS = "# Kubernetes operations\n\nHow we run the clusters.\n\n" + "\n\n".join(
    f"## {topic}\n\n{body}"
    for topic, body in [
        (
            "Deployments",
            "A rollout that failed leaves the old pods serving; a job of the"
            " pipeline retries it. Check the kube events of the namespace.",
        ),
        (
            "Node pools",
            "Nodes are replaced weekly; pods and jobs move; a drain that failed"
            " needs kubectl uncordon. Kube upgrades follow the same path.",
        ),
        (
            "Ingress",
            "The ingress controller reloads on each change; a failed reload keeps the"
            " previous config. Job logs of the controller are in Loki.",
        ),
        (
            "Secrets",
            "Secrets come from Vault; a sync job failed when the token expired. Pods"
            " restart to read a new secret. Kube RBAC limits who reads them.",
        ),
        (
            "Autoscaling",
            "The HPA scales on CPU; a metrics job that failed leaves it blind."
            " Pods scale between 3 and 30 replicas in the kube namespace.",
        ),
        (
            "Storage",
            "Volumes are gp3; a snapshot job failed when the quota ran out. Pods"
            " with a PVC stay on their zone. Kube CSI driver logs tell why.",
        ),
        (
            "Networking",
            "Calico policies deny by default; a job that failed to reach the API"
            " lacked an egress rule. Pods talk through services in the kube network.",
        ),
        (
            "Logging",
            "Fluent Bit ships pod logs; a job failed when the buffer filled. Kube"
            " audit logs go to the SIEM.",
        ),
        (
            "Certificates",
            "cert-manager renews; a renewal job failed on a DNS challenge. Pods"
            " mount the secret. Kube API certs are rotated by the provider.",
        ),
        (
            "Backups",
            "Velero backs up namespaces nightly; a backup job failed when the bucket"
            " policy changed. Pods are not backed up, volumes are. Kube objects are.",
        ),
    ]
)

ALERTS = {
    "alerts/KubeJobFailed.md": "# KubeJobFailed\n\nThe Job did not complete: read its pod's logs"
    " (`kubectl logs job/<name>`), fix the cause, delete the Job so the CronJob runs again.\n",
    "alerts/KubePodCrashLooping.md": "# KubePodCrashLooping\n\nA container restarts again and"
    " again: read the previous container's logs (`kubectl logs --previous`).\n",
    "alerts/KubeNodeNotReady.md": "# KubeNodeNotReady\n\nThe kubelet stopped posting status:"
    " check the node's kubelet and its network.\n",
}


async def _import_all(pool: AsyncConnectionPool, embedder: Embedder) -> None:
    await import_document(
        pool, embedder, title="Kubernetes operations", source="ops.md", text=OPERATIONS
    )
    for source, text in ALERTS.items():
        title = text.splitlines()[0].lstrip("# ")
        await import_document(pool, embedder, title=title, source=source, text=text)


async def test_a_short_runbook_named_by_its_alert_ranks_first_for_the_words_of_its_name(
    pool: AsyncConnectionPool, embedder: Embedder
) -> None:
    await _import_all(pool, embedder)
    for query in ("kube job failed", "our kube job failed, what now?"):
        for mode in ("hybrid", "text"):
            hits = await search(pool, embedder, query, k=5, mode=mode)  # type: ignore[arg-type]
            assert hits[0].source == "alerts/KubeJobFailed.md", (
                query,
                mode,
                [h.source for h in hits],
            )
    # and by its name as it fires
    hits = await search(pool, embedder, "[FIRING:1] KubeJobFailed batch/report-28391", k=3)
    assert hits[0].source == "alerts/KubeJobFailed.md"


async def test_a_long_page_takes_one_place_shown_by_its_best_section(
    pool: AsyncConnectionPool, embedder: Embedder
) -> None:
    await _import_all(pool, embedder)
    query = "the nightly backup job failed, bucket policy"
    for mode in ("hybrid", "text", "vector"):
        hits = await search(pool, embedder, query, k=10, mode=mode)  # type: ignore[arg-type]
        sources = [h.source for h in hits]
        assert len(sources) == len(set(sources)), (mode, sources)  # one place per document
        [page] = [h for h in hits if h.source == "ops.md"]
        assert page.section == "Backups", (mode, page.heading)
    assert hits[0].source == "ops.md"  # the vector half's last: it is still about backups
    # sections of one document, when asked for, come together and best first
    hits = await search(pool, embedder, query, k=4, per_document=3)
    assert [h.source for h in hits][:3] == ["ops.md"] * 3
    assert hits[0].section == "Backups" and hits[3].source != "ops.md"
    assert hits[0].similarity is not None and 0 < hits[0].similarity <= 1


async def test_identifiers_are_split_into_their_words(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT knowledge_identifier_words(%(text)s)",
            {
                "text": "alert KubeJobFailed on pm.max_children, node_cpu_seconds_total and"
                " OOMKilled; not v1.2.3, 10.0.0.1, e.g. or plain words"
            },
        )
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == "Kube Job Failed pm max children node cpu seconds total OOM Killed"


async def test_a_new_title_of_unchanged_content_is_searched(
    pool: AsyncConnectionPool, embedder: Embedder
) -> None:
    text = "# Notes\n\nRead the pod's logs, then delete it.\n"
    await import_document(pool, embedder, title="Notes", source="n.md", text=text)
    assert await search(pool, embedder, "kube job failed", mode="text") == []
    again = await import_document(pool, embedder, title="KubeJobFailed", source="n.md", text=text)
    assert not again.changed  # the same content: only the title is written
    [hit] = await search(pool, embedder, "kube job failed", mode="text")
    assert hit.title == "KubeJobFailed"
