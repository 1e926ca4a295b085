"""What Kubernetes state, other CLIs' state and alerts say about a case's suspects.

A `kubectl describe` or `get` output is the cluster's own account: an OOMKilled container, a
pod stuck in ImagePullBackOff or FailedScheduling names its workload as plainly as any error
rate. Each finding adds its severity to its workload (never to the command that printed it);
the objects' workloads become known names, so logs and metrics can refer to them. The state
other CLIs print (a Degraded ArgoCD app, a consumer group with no members, a partitioned
broker cluster) is read the same way: its findings have the same fields. An alert
that is firing names its component too, a little less strongly: it says that something is
wrong there, not what.
"""

from __future__ import annotations

from engine.core.wording import clip
from engine.evidence.alerts.report import AlertReport
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.components import canonical
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.suspects.state import CaseEvidence, hhmm

ALERT_WEIGHT = 0.4
# Weaker findings (a few readiness failures, restarts alone, a Warning nothing explains) are
# what healthy clusters show too: they stay in the file's report, not among the suspects.
MIN_FINDING = 0.5
_SUMMARY_CHARS = 140


def kube_names(case: CaseEvidence, report: KubeReport) -> None:
    case.known.update(canonical(o.workload) for o in report.objects if o.workload)


def cli_names(case: CaseEvidence, report: CliStateReport) -> None:
    case.known.update(canonical(o.component) for o in report.objects if o.component != "?")


def kube_signals(case: CaseEvidence, report: KubeReport | CliStateReport) -> None:
    best: dict[str, tuple[float, str]] = {}
    for finding in report.findings:
        name = canonical(finding.component)
        if finding.severity < MIN_FINDING:
            continue
        if name and finding.severity > best.get(name, (0.0, ""))[0]:
            best[name] = (finding.severity, finding.summary)
    for name, (severity, summary) in best.items():  # one workload, one strongest finding
        case.components[name].add(
            severity, f"{clip(summary, _SUMMARY_CHARS)} ({report.name})", report.name
        )


def alert_signals(case: CaseEvidence, report: AlertReport) -> None:
    for alert in report.alerts:
        if not alert.active or not alert.component:
            continue
        name = canonical(alert.component)
        since = f" since {hhmm(alert.starts_at)}" if alert.starts_at else ""
        case.components[name].add(
            ALERT_WEIGHT,
            f"alert {alert.status}: {clip(alert.title, 80)}{since} ({report.name})",
            report.name,
            alert.starts_at,
        )
