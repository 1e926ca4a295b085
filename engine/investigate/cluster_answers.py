"""Hypotheses from what kubectl said, set against the question asked.

Some of what the cluster says answers a question rather than shows an incident: a resource
type it does not have (`error: the server doesn't have a resource type "scaledobject"`), an
object it cannot find, an autoscaler and why it does or does not scale. Alone they are not
failures (the files' findings keep them below the suspects' threshold); with the question they
are the answer:

- a missing resource type is always a hypothesis: its CRD and the operator that serves it are
  not installed. When the question names the thing that should provide it (a capitalised or
  all-caps word, "Why isn't KEDA scaling…", that is no object of the evidence), the statement
  names it too;
- an object the question names (`video-streamer`, `personal-certs-validator`) that appears
  nowhere in the evidence while a lookup for it, a close name, or a whole namespace came back
  empty "could not be found in the cluster", with the closest name the evidence has;
- asked why something does (not) scale, the HPA's own account leads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from engine.evidence.alerts.report import AlertReport
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.components import canonical, from_file_name
from engine.evidence.kubernetes.report import KubeFinding, KubeMissing, KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.reports import AnyReport
from engine.evidence.traces.report import TraceReport
from engine.investigate.result import Citation, Hypothesis
from engine.investigate.signatures import SIGNATURES

SCALING_ANSWER = 0.92  # the HPA's account, when the question is why something (does not) scale
NAMED_PROVIDER = 0.7  # a missing type, and the question names what should serve it
MISSING_TYPE = 0.6
NOT_FOUND = 0.6
SIMILAR = 0.75  # SequenceMatcher ratio that makes two names close without a shared word
MIN_PIECE = 4  # a shared word piece this long makes two names close
_BY_ID = {signature.id: signature for signature in SIGNATURES}
_ASKS_SCALING = re.compile(r"\b(?:scal(?:e|es|ed|ing)|autoscal\w*|hpa|replicas?)\b", re.I)
# Object names as people write them: lower case with a dash ('video-streamer'), or quoted.
_DASHED = re.compile(r"(?<![\w.-])([a-z0-9]+(?:-[a-z0-9]+)+)(?![\w-])")
_QUOTED = re.compile(r"[`'\"]([a-z0-9][a-z0-9.-]*[a-z0-9])[`'\"]")
_NAMESPACE = re.compile(
    r"(?:\bnamespace|\bns|(?<!\w)-n)\s+[`'\"]?([a-z0-9][a-z0-9-]*)"
    r"|([a-z0-9][a-z0-9-]*)[`'\"]?\s+namespace\b",
    re.I,
)
_LABEL_VALUE = re.compile(r"=\"?([\w.-]+)")  # a series' label values: 'pod="checkout-1"'
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SENTENCE = re.compile(r"[.?!\n]+")
# Capitalised words of a question that name no installable thing: kinds, units, protocols.
_GENERIC_WORDS = frozenset(
    {"i", "ok", "pm", "am", "utc", "fyi", "asap", "eta", "tl", "dr", "pr", "id", "ip", "ui"}
    | {"cpu", "gpu", "ram", "api", "cli", "crd", "dns", "tls", "ssl", "http", "https", "url"}
    | {"oom", "yaml", "json", "k8s", "kubernetes", "kubectl", "cluster", "node", "nodes"}
    | {"pod", "pods", "deployment", "deployments", "service", "services", "hpa", "job"}
    | {"statefulset", "daemonset", "replicaset", "ingress", "pvc", "namespace", "secret"}
    | {"configmap", "cronjob", "why", "what", "how", "when", "is", "isn", "isnt", "the"}
)
# Word pieces that many unrelated names share: not enough to call two names close.
_GENERIC_PIECES = frozenset(
    {"service", "svc", "server", "deployment", "deploy", "app", "application", "api"}
    | {"worker", "pod", "job", "cronjob", "web", "default", "system", "kube", "operator"}
    | {"controller", "manager", "agent", "data", "test", "prod", "staging", "dev", "main"}
)


def asks_about_scaling(question: str) -> bool:
    return bool(_ASKS_SCALING.search(question))


def _kube(reports: Iterable[AnyReport]) -> list[KubeReport]:
    return [r for r in reports if isinstance(r, KubeReport)]


def evidence_names(reports: list[AnyReport]) -> set[str]:
    """The names of what the evidence shows exists: objects, their workloads, namespaces,
    images, the objects events are about, the components logs come from."""
    names: set[str] = set()
    for report in reports:
        if isinstance(report, KubeReport):
            for obj in report.objects:
                names |= {obj.name, obj.workload, obj.namespace or ""}
                names |= {(obj.owner or "").partition("/")[2]}
                names |= {re.split(r"[:@]", image)[0].rsplit("/", 1)[-1] for image in obj.images}
            names |= {(e.object or "").partition("/")[2] for e in report.events}
        elif isinstance(report, CliStateReport):
            names |= {n for o in report.objects for n in (o.name, o.component, o.namespace or "")}
        elif isinstance(report, LogReport):
            names |= {c.name for c in report.components}
            names |= {from_file_name(report.name) or ""}
        elif isinstance(report, TraceReport):
            names |= {s.service for s in report.services}
        elif isinstance(report, AlertReport):
            names |= {a.component or "" for a in report.alerts}
        elif isinstance(report, MetricsReport):
            for series in report.series:
                names |= {series.component or "", *_LABEL_VALUE.findall(series.name)}
    return {n.lower() for n in names if n}


def _present(name: str, names: set[str]) -> bool:
    """Whether the evidence shows `name`: itself, or a replica or pod of it."""
    plain = canonical(name)
    return any(
        known == name or canonical(known) == plain or known.startswith(f"{name}-")
        for known in names
    )


def _pieces(name: str) -> set[str]:
    return {
        p
        for p in re.split(r"[-._]", name.lower())
        if len(p) >= MIN_PIECE and not p.isdigit() and p not in _GENERIC_PIECES
    }


def closeness(asked: str, other: str) -> tuple[int, int, float] | None:
    """How close two names are, or None when they are not: (one the prefix of the other,
    length of the longest distinctive word piece they share, similarity)."""
    asked, other = asked.lower(), other.lower()
    if asked == other:
        return None
    prefix = int(other.startswith(f"{asked}-") or asked.startswith(f"{other}-"))
    shared = max((len(p) for p in _pieces(asked) & _pieces(other)), default=0)
    ratio = SequenceMatcher(None, asked, other).ratio()
    if not prefix and not shared and ratio < SIMILAR:
        return None
    return prefix, shared, round(ratio, 3)


def closest(asked: str, candidates: Iterable[str]) -> str | None:
    """The candidate name nearest to `asked`, when one is close at all."""
    scored = [(score, name) for name in set(candidates) if (score := closeness(asked, name))]
    if not scored:
        return None
    # The best score; among equals, the shorter name (a workload before its pods).
    return max(scored, key=lambda item: (item[0], -len(item[1]), item[1]))[1]


def object_names(reports: list[AnyReport]) -> set[str]:
    """Names a "did you mean" may offer: the objects and workloads the evidence shows."""
    found: set[str] = set()
    for report in reports:
        if isinstance(report, KubeReport):
            found |= {n for o in report.objects for n in (o.name, o.workload) if n}
        elif isinstance(report, CliStateReport):
            found |= {o.name for o in report.objects if o.name}
    return found


def asked_names(question: str) -> list[str]:
    """Object names the question uses, in order, bar the namespaces it names."""
    spaces = {(m.group(1) or m.group(2) or "").lower() for m in _NAMESPACE.finditer(question)}
    found = [m.group(1) for m in _QUOTED.finditer(question)]
    found += [m.group(1) for m in _DASHED.finditer(question)]
    return [
        n
        for n in dict.fromkeys(found)
        if n not in spaces and any(c.isalpha() for c in n) and not n.startswith("-")
    ]


def provider_word(question: str, names: set[str], missing_type: str) -> str | None:
    """The word of the question that names what should serve a missing type ('KEDA' in "Why
    isn't KEDA scaling…"): all caps, or capitalised past a sentence's first word, no generic
    term, no object of the evidence, not the type itself."""
    pieces = {p for name in names for p in re.split(r"[-._/]", name) if p}
    for sentence in _SENTENCE.split(question):
        for index, match in enumerate(_WORD.finditer(sentence)):
            word = match.group(0)
            lower = word.lower()
            caps = len(word) >= 2 and word.isupper()
            capitalised = index > 0 and word[0].isupper() and any(c.islower() for c in word)
            if not (caps or capitalised) or lower in _GENERIC_WORDS:
                continue
            if lower in names or lower in pieces or missing_type.startswith(lower):
                continue
            if lower.startswith(missing_type):
                continue
            return word
    return None


def _hypothesis(
    signature_id: str,
    statement: str,
    component: str | None,
    confidence: float,
    cited: list[Citation],
) -> Hypothesis:
    signature = _BY_ID[signature_id]
    return Hypothesis(
        id=f"{signature_id}:{component or '-'}",
        statement=statement,
        category=signature.category,
        signature=signature_id,
        component=component,
        confidence=confidence,
        supporting=cited,
        checks=list(signature.checks),
    )


def _missing_types(question: str, reports: list[AnyReport], names: set[str]) -> list[Hypothesis]:
    found = []
    for report in _kube(reports):
        for missing in report.missing:
            if missing.what != "type" or not missing.kind:
                continue
            word = provider_word(question, names, missing.kind)
            cited = [Citation(source=report.name, text=missing.line)]
            if word is None:
                statement = (
                    f"The cluster has no resource type {missing.kind}: its CRD and the operator "
                    "that serves it are not installed"
                )
                found.append(_hypothesis("not-installed", statement, None, MISSING_TYPE, cited))
                continue
            statement = (
                f"{word} does not look installed: the cluster has no resource type "
                f"{missing.kind} (its CRD/operator is missing)"
            )
            found.append(
                _hypothesis("not-installed", statement, canonical(word), NAMED_PROVIDER, cited)
            )
    return found


def _looked_for(asked: str, missing: KubeMissing) -> bool:
    """Whether a lookup that came back empty was for `asked`: by its name or a close one,
    or a whole listing that would have shown it."""
    if missing.what == "listing":
        return True
    if missing.what not in ("object", "match") or not missing.name:
        return False
    return missing.name.lower() == asked or closeness(asked, missing.name) is not None


def _how_looked(missing: KubeMissing) -> str:
    if missing.what == "listing":
        where = f" in namespace {missing.namespace}" if missing.namespace else ""
        return f"kubectl found no resources{where}"
    if missing.what == "match":
        return f"a search for {missing.name} found nothing"
    return f"{missing.kind or 'object'} {missing.name} not found"


def _not_found(question: str, reports: list[AnyReport], names: set[str]) -> list[Hypothesis]:
    lookups = [(r, m) for r in _kube(reports) for m in r.missing]
    if not lookups:
        return []
    found = []
    offered = object_names(reports)
    for asked in asked_names(question):
        if _present(asked, names):
            continue
        empty = [(r, m) for r, m in lookups if _looked_for(asked, m)]
        if not empty:
            continue
        how = "; ".join(dict.fromkeys(_how_looked(m) for _, m in empty))
        statement = f"{asked} could not be found in the cluster ({how})"
        near = closest(asked, offered)
        if near:
            statement += f"; the closest match is {near}"
        cited = [Citation(source=r.name, text=m.line) for r, m in empty]
        found.append(_hypothesis("not-found", statement, canonical(asked), NOT_FOUND, cited))
    return found


def _scaling(question: str, reports: list[AnyReport]) -> list[Hypothesis]:
    """Asked why something (does not) scale: each HPA's own account, first."""
    if not asks_about_scaling(question):
        return []
    found = []
    for report in _kube(reports):
        for finding in report.findings:
            if finding.signature != "autoscaler":
                continue
            component = canonical(finding.component) or None
            cited = [Citation(source=report.name, text=line) for line in finding.lines[:4]]
            hypothesis = _hypothesis(
                "autoscaler",
                finding.summary,
                component,
                max(SCALING_ANSWER, finding.severity),
                cited or [Citation(source=report.name, text=finding.summary)],
            )
            found.append(hypothesis)
    return found


def cluster_answers(question: str, reports: list[AnyReport]) -> list[Hypothesis]:
    """Hypotheses from what kubectl said is not there or how an HPA scales, for `question`."""
    names = evidence_names(reports)
    return [
        *_scaling(question, reports),
        *_missing_types(question, reports, names),
        *_not_found(question, reports, names),
    ]


def same_name(name: str, reports: list[AnyReport]) -> str | None:
    """'deployment web (namespace shop)' when the evidence shows an object of that very
    name: kubectl looked under another kind or namespace."""
    for report in _kube(reports):
        for obj in report.objects:
            if obj.name.lower() == name.lower():
                where = f" (namespace {obj.namespace})" if obj.namespace else ""
                return f"{obj.kind.lower()} {obj.name}{where}"
    return None


def _said(finding: KubeFinding, reports: list[AnyReport], offered: set[str]) -> str:
    """A finding of kubectl's error output; for an object not found, the object of that name
    the evidence shows elsewhere, or the closest name."""
    kind, _, name = finding.object.partition("/")
    if finding.signature != "not-found" or kind in ("namespace", "listing"):
        return finding.summary
    there = same_name(name, reports)
    if there:
        return f"{finding.summary}; the evidence shows {there}"
    near = closest(name, offered)
    return finding.summary + (f"; the closest match is {near}" if near else "")


def cluster_said(reports: list[AnyReport]) -> str:
    """What kubectl itself answered (a missing resource type, nothing found, a refusal), for
    the conclusion when no incident is in sight: it is often the answer to the question."""
    offered = object_names(reports)
    said = [
        text
        for report in _kube(reports)
        if report.format == "error"
        for text in [*(_said(f, reports, offered) for f in report.findings), *report.notes]
    ]
    return f" kubectl said: {'; '.join(said[:3])}." if said else ""
