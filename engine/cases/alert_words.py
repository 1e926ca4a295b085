"""How an alert group reads in a channel: the case title and root message, and the one-line
notes a later notification of the group leaves in the case's thread.

Example root message:
    *Case #12:* 🔥 HighErrorRate on checkout (critical): checkout 5xx ratio above 5%
    > 5xx ratio is 12% on 10.0.0.7
    Opened by Alertmanager for 2 firing alerts since 14:31 UTC · Prometheus graph · Alertmanager
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from engine.core.alert_webhook import AlertmanagerWebhook, WebhookAlert
from engine.core.wording import clip, linked, plural
from engine.evidence.alerts.fields import component_of, severity_of

TITLE_CHARS = 80
LINE_CHARS = 100
NAMED = 4  # alerts named in one note; the rest are counted
DESCRIPTION_CHARS = 300
OPENED_MARK = "*New case:*"  # replaced by "*Case #N:*" once the case has its id


def _summary(hook: AlertmanagerWebhook) -> str:
    notes = hook.common_annotations
    first = (hook.firing or hook.alerts)[0].annotations
    return notes.get("summary") or notes.get("title") or first.get("summary") or ""


def group_title(hook: AlertmanagerWebhook) -> str:
    """'HighErrorRate on checkout (critical): checkout 5xx ratio above 5%', at most 80 chars:
    the alert, the service or job it is about, its severity, and its summary."""
    labels = hook.common_labels or (hook.firing or hook.alerts)[0].labels
    title = hook.name
    component = component_of(labels)
    if component and component.lower() not in title.lower():
        title += f" on {component}"
    severity = severity_of(labels)
    if severity:
        title += f" ({severity})"
    summary = _summary(hook)
    if summary:
        title += f": {summary}"
    return clip(title, TITLE_CHARS)


def alert_line(alert: WebhookAlert) -> str:
    """'HighErrorRate on checkout (10.0.0.7:8080)': the alert, its component, its instance."""
    line = alert.name
    component = component_of(alert.labels)
    if component and component.lower() not in line.lower():
        line += f" on {component}"
    where = alert.labels.get("instance") or alert.labels.get("pod")
    if where and where != component:
        line += f" ({where})"
    return clip(line, LINE_CHARS)


def utc_clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M UTC")


def _web_link(url: str) -> str | None:
    return url if url.startswith(("http://", "https://")) else None


def opened_text(hook: AlertmanagerWebhook, title: str) -> str:
    """The case root message: what fires, since when, and where to look at it."""
    firing = hook.firing
    starts = [a.starts_at for a in firing]
    description = hook.common_annotations.get("description") or (
        firing[0].annotations.get("description") if firing else None
    )
    lines = [f"{OPENED_MARK} 🔥 {title}"]
    if description:
        lines.append(f"> {clip(description, DESCRIPTION_CHARS)}")
    opened = f"Opened by Alertmanager for {plural(len(firing), 'firing alert')}"
    if starts:
        opened += f" since {utc_clock(min(starts))}"
    links = [
        linked(text, link)
        for text, link in (
            ("Prometheus graph", _web_link(firing[0].generator_url) if firing else None),
            ("Alertmanager", _web_link(hook.external_url)),
        )
        if link
    ]
    lines.append(" · ".join([opened, *links]))
    lines.append(
        "I'm reading the alert and will post what I see here. Reply in this thread, upload "
        "logs here and mention me with questions."
    )
    return "\n".join(lines)


def _named(lines: Iterable[str]) -> str:
    shown = sorted(set(lines))
    named = ", ".join(shown[:NAMED])
    return named + (f" and {len(shown) - NAMED} more" if len(shown) > NAMED else "")


def change_line(
    name: str, started: list[str], stopped: list[str], *, again: bool, since: datetime | None
) -> str | None:
    """One line for a change of what fires in the group; None when nothing changed."""
    if again and started:
        when = f" since {utc_clock(since)}" if since else ""
        return f"🔥 Alertmanager: {name} firing again{when}: {_named(started)}"
    parts = []
    if started:
        parts.append(f"now also firing: {_named(started)}")
    if stopped:
        parts.append(f"no longer firing: {_named(stopped)}")
    return f"🔔 Alertmanager, {name}: {'; '.join(parts)}" if parts else None


def resolved_line(name: str, at: datetime | None) -> str:
    when = f" at {utc_clock(at)}" if at else ""
    return f"✅ Alertmanager: {name} resolved{when}"


def group_question(title: str) -> str:
    """What the opening notification asks, so the first turn answers it like a question."""
    return f"Alertmanager: {title}. What is going on, and what should we check first?"


_STATUS_TAG = re.compile(r"^\[[A-Za-z]+(?::\d+)?\]\s*")  # "[FIRING:2] ", "[Alerting] "


def message_title(text: str) -> str:
    """A case title from an alert message another integration posted: its first line
    with words, without Slack's markup characters or a leading status tag."""
    for line in text.splitlines():
        words = _STATUS_TAG.sub("", line.strip().strip("*_~>`# ").strip())
        if any(c.isalnum() for c in words):
            return clip(words.replace("*", ""), TITLE_CHARS)
    return "Alert"


# An alert message another integration posted: a firing word (Alertmanager's "[FIRING:2]",
# "firing", "triggered", "alerting", CloudWatch's "ALARM") and an alert word (alert, severity
# or a severity level, incident, monitor). Resolved-only messages need no investigation.
_FIRING = re.compile(
    r"\[FIRING(?::\d+)?\]|\b(?:firing|triggered|alerting|in alarm)\b|\bALARM\b", re.IGNORECASE
)
_ALERT_WORD = re.compile(
    r"\b(?:alert(?:s|name)?|severity|critical|warning|incident|monitor|sev[ -]?[0-4]|p[1-4])\b",
    re.IGNORECASE,
)
_RESOLVED = re.compile(r"\[RESOLVED\]|\b(?:resolved|recovered)\b", re.IGNORECASE)


def looks_like_alert_message(text: str) -> bool:
    """Whether a message reads as a firing alert: a firing word and an alert word
    (Alertmanager's '[FIRING:n] Name' title counts as both), firing before any resolved word
    ('[RESOLVED] X' repeats what was firing)."""
    firing = _FIRING.search(text)
    if firing is None:
        return False
    resolved = _RESOLVED.search(text)
    if resolved is not None and resolved.start() < firing.start():
        return False
    return firing.group(0).upper().startswith("[FIRING") or bool(_ALERT_WORD.search(text))
