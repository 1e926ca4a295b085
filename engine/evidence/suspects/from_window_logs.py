"""Logs that start inside the incident window: no baseline, so their errors are the incident's.

Exports are often cut to the minutes of the incident ("the fault minute and the next two").
Such a log cannot show errors rising against its own past, yet it is what people looked at:
each component's share of the errors says who fails most, and a callee that those errors
name is blamed as when new errors name it (`suspect_logs`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.core.wording import clip
from engine.evidence.components import canonical, from_file_name
from engine.evidence.logs.report import LogReport
from engine.evidence.suspects.from_logs import NAMED_BASE, NAMED_SHARE, blame, callees_named
from engine.evidence.suspects.state import CaseEvidence

IN_WINDOW = 0.6  # a component that logs every error of the window
LEAD = timedelta(minutes=2)  # a log that starts this close before the stated time has no past
_ERRORS = ("ERROR", "FATAL")
_TEMPLATE_CHARS = 70


def starts_in_window(report: LogReport, since: datetime | None) -> bool:
    """Whether the log begins at the incident, so it has no minutes to compare against."""
    return (
        since is not None
        and report.incident_start is None
        and report.first_ts is not None
        and report.first_ts >= since - LEAD
        and report.error_count > 0
    )


def window_log_signals(case: CaseEvidence, report: LogReport) -> None:
    case.saw_logs = True
    own = from_file_name(report.name)
    errors = {canonical(c.name): c.errors for c in report.components if c.errors}
    if not errors and own is not None:
        errors = {own: report.error_count}
    total = sum(errors.values())
    for name, count in errors.items():
        share = count / total
        case.components[name].add(
            IN_WINDOW * share,
            f"{count:,} errors in the incident window ({share:.0%} of {report.name}'s; "
            "the log starts inside it)",
            report.name,
            report.first_error_ts,
        )
    for template in report.templates:
        if template.level not in _ERRORS:
            continue
        author = canonical(template.component) if template.component else own
        named = callees_named(case, f"{template.template}\n{template.example}", author)
        if not named:
            continue
        share = min(1.0, template.count / max(1, errors.get(author or "", total)))
        reason = (
            f"named in {template.count:,} errors of {author or report.name} in the "
            f"window: `{clip(template.template, _TEMPLATE_CHARS)}`"
        )
        weight = NAMED_BASE + NAMED_SHARE * share
        blame(case, named, weight, reason, report.name, report.first_error_ts)
