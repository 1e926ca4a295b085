"""What logs say about a case's suspects: error rises, new errors, and the callees they name.

Logs are the richest and the most involved signal (baselines, templates, peers, the names
in error texts), so they are read apart from the simpler trace, metric and config signals
in `suspect_signals`. The reasoner measures components with the same rules, so
`error_rise`, `names_in` and `unnamed_writer_score` are shared from here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from engine.core.wording import clip
from engine.evidence.components import (
    canonical,
    dns_failure,
    from_file_name,
    hosts_in,
    mentioned_in,
    resolver,
)
from engine.evidence.logs.report import LogReport
from engine.evidence.logs.summary import rate
from engine.evidence.suspects.state import CaseEvidence, hhmm

PEER_SHARE = 0.2  # of a component's errors that must name one upstream to blame it
NAMED_BASE = 0.3  # a callee named by new errors of another component...
NAMED_SHARE = 0.5  # ...plus this times the share of that component's errors naming it
WARN_NAMING = 0.6  # connection failures a client logs as warnings name its callee too
_NAMING_LEVELS = ("ERROR", "FATAL", "WARN")
_CLIENT_REJECTION = re.compile(
    r"bad request|unprocessable entity|method not allowed|precondition failed"
    r"|unsupported media type|request entity too large|\b404 not found",
    re.IGNORECASE,
)
_TEMPLATE_CHARS = 70
# A log without times whose errors are what is wrong now (see _current_errors): short, or
# mostly errors. It leads about as much as a firing alert: something is wrong there.
UNTIMED_ERRORS = 0.4
SHORT_LOG_RECORDS = 50
ERROR_SHARE = 0.2
_FAR_RATE = 0.1  # errors/min added to both sides of a ratio: 0 -> 0.3/min is not "infinite"


def log_names(case: CaseEvidence, report: LogReport) -> None:
    case.known.update(canonical(c.name) for c in report.components)
    own = from_file_name(report.name)
    if own and not report.components:
        case.known.add(own)


def log_signals(case: CaseEvidence, report: LogReport) -> None:
    own = from_file_name(report.name)
    case.saw_logs = True
    if report.incident_start is not None:
        case.incidents.append(report.incident_start)
    if report.components:
        for stats in report.components:
            _peers(case, report, canonical(stats.name), stats.error_peers, stats.errors)
            _log_component(
                case,
                report,
                canonical(stats.name),
                stats.errors_before_per_min,
                stats.errors_during_per_min,
                stats.onset or stats.first_error,
                stats.errors,
            )
    elif own is not None:
        _peers(case, report, own, report.error_peers, report.error_count)
        rate = next((a for a in report.anomalies if a.kind == "error-rate"), None)
        _log_component(
            case,
            report,
            own,
            rate.before_per_min if rate else 0.0,
            rate.during_per_min if rate else 0.0,
            report.incident_start or report.first_error_ts,
            report.error_count,
        )
    _log_templates(case, report, own)


def _peers(
    case: CaseEvidence, report: LogReport, name: str, peers: dict[str, int], errors: int
) -> None:
    """Where a component's failing requests went (upstream=cart): its dependencies."""
    if report.incident_start is None or not errors:
        return
    for peer, count in peers.items():
        callee = canonical(peer)
        if callee == name or count < PEER_SHARE * errors:
            continue
        case.depends_on[name].add(callee)
        # When all of a caller's failures go to one place, that place is the lead.
        weight = NAMED_BASE + NAMED_SHARE * min(1.0, count / errors)
        case.components[callee].blame += weight
        case.components[callee].add(
            weight,
            f"the upstream of {count:,} failing requests of {name} ({report.name})",
            report.name,
            report.incident_start,
        )


def _log_component(
    case: CaseEvidence,
    report: LogReport,
    name: str,
    before: float,
    during: float,
    onset: datetime | None,
    errors: int,
) -> None:
    if report.incident_start is None:
        if errors and _current_errors(report, errors):
            example = report.error_groups[0].example if report.error_groups else ""
            case.components[name].add(
                UNTIMED_ERRORS,
                f"{errors:,} of {report.record_count:,} records are errors, with no times to "
                f"compare against: `{clip(example, 60)}` ({report.name})",
                report.name,
            )
        elif errors:  # errors with no change: steady noise, a weak lead at most
            case.components[name].add(
                0.05, f"{errors:,} errors, steady ({report.name})", report.name
            )
        return
    weight = error_rise(before, during)
    if not weight:
        return
    case.components[name].add(
        weight,
        f"errors {rate(before)} → {rate(during)} from {hhmm(onset)} ({report.name})",
        report.name,
        onset,
    )


def _log_templates(case: CaseEvidence, report: LogReport, own: str | None) -> None:
    examples = {t.template: t.example for t in report.templates}
    errors_of = {canonical(c.name): c.errors for c in report.components}
    for anomaly in report.anomalies:
        if anomaly.kind not in ("new", "surge") or anomaly.level not in _NAMING_LEVELS:
            continue
        text = anomaly.template or ""
        author = canonical(anomaly.component) if anomaly.component else own
        is_error = anomaly.level in ("ERROR", "FATAL")
        if author is not None and is_error:
            case.components[author].add(
                0.25,
                f"{anomaly.kind} error from {hhmm(anomaly.at)}: `{clip(text, _TEMPLATE_CHARS)}`",
                report.name,
                anomaly.at,
            )
        # The masked template hides names in variable places: read the raw example too.
        named = callees_named(case, f"{text}\n{examples.get(text, '')}", author)
        if not named:
            continue
        # The more of the author's errors name one callee, the more it explains them.
        errors = errors_of.get(author or "", report.error_count) or anomaly.count
        share = min(1.0, anomaly.count / errors)
        weight = (NAMED_BASE + NAMED_SHARE * share) * (1.0 if is_error else WARN_NAMING)
        what = "errors" if is_error else "warnings"
        reason = (
            f"named in {anomaly.count:,} {anomaly.kind} {what} of "
            f"{author or report.name}: `{clip(text, _TEMPLATE_CHARS)}`"
        )
        blame(case, named, weight, reason, report.name, anomaly.at)


def callees_named(case: CaseEvidence, raw: str, author: str | None) -> set[str]:
    """Known components a caller's message names: recorded as its dependencies, and returned
    to be blamed unless the message says they rejected a bad request (400, 422...), which
    means they work and the caller is at fault."""
    named = names_in(raw, case.known) - {author}
    if author is not None:
        case.depends_on[author].update(named)
    return set() if _CLIENT_REJECTION.search(raw) else named


def blame(
    case: CaseEvidence,
    names: set[str],
    weight: float,
    reason: str,
    source: str,
    at: datetime | None,
) -> None:
    """Callers' failures put on each of `names`: weight, and blame a victim passes on."""
    for name in names:
        case.components[name].blame += weight
        case.components[name].add(weight, reason, source, at)


def _current_errors(report: LogReport, errors: int) -> bool:
    """Whether the errors of a log without times are what is wrong now: a container's short
    output (`kubectl logs` of a crashing pod, a pasted excerpt) or one that is mostly errors.
    With no times there is no baseline, so a long log of occasional errors stays noise."""
    if report.first_ts is not None:
        return False
    return report.record_count <= SHORT_LOG_RECORDS or errors >= ERROR_SHARE * report.record_count


def error_rise(before: float, during: float) -> float:
    """The weight of an error rate rising against its own baseline (0 when it did not)."""
    ratio = (during + _FAR_RATE) / (before + _FAR_RATE)
    if ratio < 2 or during < 0.2:
        return 0.0
    return min(1.0, math.log10(ratio) / 2)


def names_in(text: str, known: set[str]) -> set[str]:
    """Components a message blames: those it names, or the resolver for a failed lookup
    (the name that failed to resolve is not to blame)."""
    if dns_failure(text):
        return {resolver(known)}
    return mentioned_in(text, known) | hosts_in(text)


def unnamed_writer_score(report: LogReport) -> float:
    """How suspect the writer of a log that names no component is, measured as a named one
    would be: its error rate against its own baseline and its new or surging errors."""
    rise = next((a for a in report.anomalies if a.kind == "error-rate"), None)
    if rise is None:
        return 0.0
    weight = error_rise(rise.before_per_min, rise.during_per_min)
    weight += 0.25 * sum(
        1
        for a in report.anomalies
        if a.kind in ("new", "surge") and a.level in ("ERROR", "FATAL") and not a.component
    )
    return round(1 - math.exp(-weight), 3)
