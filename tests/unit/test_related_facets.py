"""A case's facets: one short query per thing it shows, each with why a page it finds is shown
(engine/knowledge/facets.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.core.models import Case
from engine.evidence.alerts.report import Alert, AlertReport
from engine.evidence.kubernetes.report import KubeFinding, KubeReport
from engine.evidence.logs.report import ErrorGroup, LogReport
from engine.evidence.reports import Evidence
from engine.evidence.suspects.state import Suspect
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.knowledge.facets import (
    DESCRIPTION_FLOOR,
    LINE_FLOOR,
    TEMPLATES,
    incident_facets,
)

WHEN = datetime(2026, 10, 1, tzinfo=UTC)


def case(title: str = "something is off, can you look?") -> Case:
    return Case(
        id=1,
        team_id="T1",
        channel_id="C1",
        thread_ts="1.1",
        title=title,
        status="open",
        phase="diagnosing",
        opened_by="U1",
        created_at=WHEN,
        updated_at=WHEN,
    )


def evidence(n: int, report: Any) -> Evidence:
    return Evidence(
        id=n,
        case_id=1,
        source_id=f"f{n}",
        name=report.name,
        kind=report.kind,
        size_bytes=1,
        sha256=None,
        status="analysed",
        summary="",
        report=report,
        created_at=WHEN,
    )


def log(name: str, *messages: str) -> LogReport:
    groups = [
        ErrorGroup(message=m, example=m, level="ERROR", count=10 - i, first_line=i + 1)
        for i, m in enumerate(messages)
    ]
    return LogReport(
        name=name, size_bytes=1, sha256="x", line_count=9, record_count=9, error_groups=groups
    )


def hypothesis(signature: str | None, confidence: float, key: str = "") -> Hypothesis:
    return Hypothesis(
        id=key or f"{signature}:svc",
        statement=f"statement of {signature or key}",
        signature=signature,
        confidence=confidence,
        supporting=[Citation(source="app.log", text="x")],
    )


def result(*hypotheses: Hypothesis, suspects: tuple[str, ...] = ()) -> Investigation:
    return Investigation(
        response_type="answer",
        phase="diagnosing",
        working_conclusion="",
        confidence=0.5,
        hypotheses=list(hypotheses),
        suspects=[Suspect(component=c, score=0.5) for c in suspects],
    )


def test_the_evidence_comes_first_each_facet_saying_why() -> None:
    alerts = AlertReport(
        name="alert.json",
        size_bytes=1,
        sha256="x",
        format="alertmanager",
        alerts=[Alert(title="KubeJobFailed", description="Job batch/nightly failed")],
    )
    kubectl = KubeReport(
        name="describe.txt",
        size_bytes=1,
        sha256="x",
        format="describe",
        findings=[
            KubeFinding(
                signature="oom",
                component="api",
                object="pod/api-1",
                summary="OOMKilled: container api exceeded its 256Mi limit",
                severity=0.9,
            )
        ],
    )
    facets = incident_facets(
        case(),
        result(hypothesis("tls", 0.8), suspects=("payments",)),
        [
            evidence(1, log("payments.log", "x509: certificate has expired or is not yet valid")),
            evidence(2, alerts),
            evidence(3, kubectl),
        ],
    )
    whys = [f.why for f in facets]
    assert whys == [
        "matches the failure signature `tls` of the leading hypothesis",
        "matches the alert `KubeJobFailed`",
        "matches what kubectl showed: OOMKilled: container api exceeded its 256Mi limit",
        "matches the error template `x509: certificate has expired or is not yet valid`",
        "matches the case title",
        "names the suspect component `payments`",
    ]
    tls = facets[0]
    assert "certificate" in tls.query and tls.weight == 1.0 and tls.floor == DESCRIPTION_FLOOR
    assert facets[1].query == "KubeJobFailed Job batch/nightly failed"
    template = facets[3]
    assert template.floor == LINE_FLOOR and template.weight < tls.weight


def test_a_hypothesis_far_below_the_lead_asks_nothing() -> None:
    facets = incident_facets(
        case(),
        result(hypothesis("oom", 0.9), hypothesis("dns", 0.7), hypothesis("tls", 0.3)),
        [],
    )
    signatures = [f.why for f in facets if "failure signature" in f.why]
    assert signatures == [
        "matches the failure signature `oom` of the leading hypothesis",
        "matches the failure signature `dns` of hypothesis 2",
    ]
    assert facets[1].weight < facets[0].weight


def test_a_models_hypothesis_is_asked_by_its_statement() -> None:
    lead = hypothesis(None, 0.7, key="llm:payments:cert-rotation-missed")
    [facet, *_] = incident_facets(case(), result(lead), [])
    assert facet.query == lead.statement
    assert facet.why.startswith("matches the leading hypothesis: statement of llm:")


def test_error_templates_are_taken_in_turn_from_each_log_without_placeholders() -> None:
    noisy = log("gateway.log", *(f"upstream {i} returned 502" for i in range(6)))
    quiet = log("payments.log", "x509: certificate has expired for <*>")
    other = log("checkout.log", "charge failed: 502 from payments", "retry budget exhausted")
    facets = incident_facets(
        case(""), None, [evidence(1, noisy), evidence(2, quiet), evidence(3, other)]
    )
    templates = [f for f in facets if "error template" in f.why]
    # Each log's first error, then each log's second: the quiet log's only error gets a
    # place although the noisy log has more.
    assert [t.query for t in templates] == [
        "upstream 0 returned 502",
        "x509: certificate has expired for",
        "charge failed: 502 from payments",
        "upstream 1 returned 502",
    ]
    assert len(templates) == TEMPLATES
    assert "`x509: certificate has expired for <*>`" in templates[1].why
