"""What a case's related-knowledge lookup asks: one short query per thing the case shows.

A case is many things at once: the failure signatures of its hypotheses, the error templates
of its logs, the alerts that fired, what kubectl reported, the words of its title, its
suspect components. Joined into one query they blur (the embedding model reads 256 tokens
and averages them; a noisy log's templates drown the one line that says what broke), and a
page found by the blur cannot say why it was picked. So each becomes a query of its own (a
facet) with the reason a page found by it is shown, and a weight: how much a match on it
counts against a match on the others. engine/knowledge/related.py searches them and keeps,
per page, its best match.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, zip_longest

from engine.core.models import Case
from engine.core.wording import clip
from engine.evidence.alerts.report import AlertReport
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.reports import Evidence
from engine.investigate.result import Investigation
from engine.investigate.signatures import SIGNATURES

HYPOTHESES = 3  # the leading live hypotheses asked about
TEMPLATES = 4  # distinct error templates, taken in turn from each log
TEMPLATES_PER_FILE = 2
ALERTS = 3
FINDINGS = 3
COMPONENTS = 2
QUERY_CHARS = 300  # a facet is a line, not a page
WHY_CHARS = 80
PLACEHOLDER = "<*>"

# A match on what the evidence says broke (the leading hypothesis's failure signature, an
# alert that fired) counts fully; one line of the evidence (an error template, a kubectl
# finding) a little less, since a short line also resembles pages about its words (an
# `upstream returned error` resembles every gateway page); the words people chose less, and
# a bare component name least, since any page about that service matches it. A later
# hypothesis counts as much as it is likely next to the lead, and not at all below half.
LEAD_WEIGHT = 1.0
HYPOTHESIS_WEIGHT = 0.9
MIN_RELATIVE_CONFIDENCE = 0.5
TEMPLATE_WEIGHT = 0.85
ALERT_WEIGHT = 1.0
FINDING_WEIGHT = 0.85
TITLE_WEIGHT = 0.8
COMPONENT_WEIGHT = 0.75

_SIGNATURES = {signature.id: signature for signature in SIGNATURES}


# The cosine similarity a page's section needs to a facet to be shown for it. MiniLM puts a
# runbook section about the failure at 0.55-0.7 from the words of a signature or an alert,
# neighbouring topics at 0.4-0.45. A single line of evidence (an error template, a kubectl
# message, a title, a name) is noisier: unrelated pages reach 0.47 from it ("Readiness probe
# failed: Get http://…" against a certificate page), so it needs more.
DESCRIPTION_FLOOR = 0.45
LINE_FLOOR = 0.5


@dataclass(frozen=True)
class Facet:
    query: str
    why: str  # said beside a page this facet found: "matches the error template `…`"
    weight: float
    floor: float = LINE_FLOOR


def _hypothesis_facets(result: Investigation | None) -> Iterator[Facet]:
    live = [h for h in result.hypotheses if h.status != "ruled_out"] if result else []
    asked: set[str] = set()
    for rank, hypothesis in enumerate(live[:HYPOTHESES]):
        which = "the leading hypothesis" if rank == 0 else f"hypothesis {rank + 1}"
        relative = hypothesis.confidence / live[0].confidence if live[0].confidence else 0.0
        if rank and relative < MIN_RELATIVE_CONFIDENCE:
            break
        weight = LEAD_WEIGHT if rank == 0 else HYPOTHESIS_WEIGHT * min(1.0, relative)
        signature = _SIGNATURES.get(hypothesis.signature or "")
        if signature is not None:
            if signature.id in asked:
                continue
            asked.add(signature.id)
            # The signature's own words and the words people use for it: the failure, not
            # the component it was seen in.
            query = " ".join([signature.hypothesis, *signature.topics])
            why = f"matches the failure signature `{signature.id}` of {which}"
        elif rank == 0:
            # A model's hypothesis names no signature: its statement is the failure.
            query, why = hypothesis.statement, f"matches {which}: {clip(hypothesis.statement, 60)}"
        else:
            continue
        yield Facet(clip(query, QUERY_CHARS), why, weight, DESCRIPTION_FLOOR)


def _error_templates(evidence: list[Evidence]) -> Iterator[str]:
    """Each log's most frequent error templates, in turn: the first of every log, then the
    second, so one noisy log cannot take every place."""
    per_file = [
        [group.message for group in item.report.error_groups[:TEMPLATES_PER_FILE]]
        for item in evidence
        if item.status == "analysed" and isinstance(item.report, LogReport)
    ]
    for message in chain.from_iterable(zip_longest(*per_file)):
        if message:
            yield message


def _template_facets(evidence: list[Evidence]) -> Iterator[Facet]:
    seen: set[str] = set()
    for template in _error_templates(evidence):
        words = " ".join(template.replace(PLACEHOLDER, " ").split())
        if len(seen) == TEMPLATES:
            return
        if not words or words.lower() in seen:
            continue
        seen.add(words.lower())
        why = f"matches the error template `{clip(template, WHY_CHARS)}`"
        yield Facet(clip(words, QUERY_CHARS), why, TEMPLATE_WEIGHT)


def _alert_facets(evidence: list[Evidence]) -> Iterator[Facet]:
    alerts = [
        alert
        for item in evidence
        if item.status == "analysed" and isinstance(item.report, AlertReport)
        for alert in item.report.alerts
    ]
    # Firing alerts first: a resolved one is history.
    alerts.sort(key=lambda a: a.status == "resolved")
    seen: set[str] = set()
    for alert in alerts:
        if len(seen) == ALERTS or alert.title in seen:
            continue
        seen.add(alert.title)
        query = " ".join(p for p in (alert.title, alert.description) if p)
        why = f"matches the alert `{clip(alert.title, WHY_CHARS)}`"
        yield Facet(clip(query, QUERY_CHARS), why, ALERT_WEIGHT, DESCRIPTION_FLOOR)


def _finding_facets(evidence: list[Evidence]) -> Iterator[Facet]:
    findings = sorted(
        (
            finding
            for item in evidence
            if item.status == "analysed" and isinstance(item.report, KubeReport)
            for finding in item.report.findings
        ),
        key=lambda f: -f.severity,
    )
    seen: set[str] = set()
    for finding in findings:
        if len(seen) == FINDINGS or finding.summary in seen:
            continue
        seen.add(finding.summary)
        why = f"matches what kubectl showed: {clip(finding.summary, WHY_CHARS)}"
        yield Facet(clip(finding.summary, QUERY_CHARS), why, FINDING_WEIGHT)


def incident_facets(
    case: Case, result: Investigation | None, evidence: list[Evidence]
) -> list[Facet]:
    """The case's facets, the evidence's first: hypotheses, alerts, kubectl, error templates,
    then the title and the suspect components. Same query twice: the first reason wins."""
    facets = [
        *_hypothesis_facets(result),
        *_alert_facets(evidence),
        *_finding_facets(evidence),
        *_template_facets(evidence),
    ]
    if case.title.strip():
        facets.append(Facet(clip(case.title, QUERY_CHARS), "matches the case title", TITLE_WEIGHT))
    for suspect in (result.suspects if result else [])[:COMPONENTS]:
        why = f"names the suspect component `{suspect.component}`"
        facets.append(Facet(suspect.component, why, COMPONENT_WEIGHT))
    unique: dict[str, Facet] = {}
    for facet in facets:
        unique.setdefault(facet.query.lower(), facet)
    return list(unique.values())
