"""One alert or incident payload -> an AlertReport: decode, mask secrets, parse, bound.

Payloads carry webhook URLs, routing keys and people's emails: the text is redacted before it
is parsed, so nothing kept in the report ever held a secret.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor, secret_kind
from engine.evidence.alerts.parse import Parsed, load_documents, parse_alerts
from engine.evidence.alerts.report import AlertReport
from engine.evidence.decode import decode_text

MAX_ALERTS = 1000  # rules answers of big clusters list thousands of inactive rules


def _redact_values(value: Any, redactor: Redactor, counts: Counter[str], key: str = "") -> Any:
    """Each string of a parsed document, masked; a value under a secret-naming key whole."""
    if isinstance(value, dict):
        return {k: _redact_values(v, redactor, counts, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_values(v, redactor, counts, key) for v in value]
    kind = secret_kind(key) if key else None
    if kind is not None and isinstance(value, str | int | float) and value != "":
        counts[kind] += 1
        return redactor.placeholder(kind, str(value))
    if isinstance(value, str):
        masked = redactor.redact(value)
        counts.update(masked.counts)
        return masked.text
    return value


def _parse_redacted(text: str, redactor: Redactor) -> tuple[Parsed, Counter[str]]:
    """Parse the redacted text; when masking broke the JSON (a bare number under a secret's
    key becomes an unquoted placeholder), parse the original and mask every value instead."""
    masked = redactor.redact(text)
    try:
        return parse_alerts(masked.text), masked.counts
    except EvidenceRejected as rejected:
        if masked.text == text:
            raise
        try:
            documents = load_documents(text)
        except EvidenceRejected:
            raise rejected from None
    counts: Counter[str] = Counter()
    lines = [json.dumps(_redact_values(doc, redactor, counts)) for _, doc in documents]
    parsed = parse_alerts("\n".join(lines))
    for alert in parsed.alerts:
        alert.line = None  # lines of a re-serialised text are not the file's
    return parsed, counts


def analyze_alerts(name: str, data: bytes, redactor: Redactor | None = None) -> AlertReport:
    """Read one payload; EvidenceRejected when it is not text, not JSON, or holds no alerts."""
    try:
        decoded = decode_text(data)
    except EvidenceRejected as error:
        raise EvidenceRejected(
            f"{name} cannot be read as an alert payload: {error.user_message}"
        ) from error
    parsed, counts = _parse_redacted(decoded.text, redactor or Redactor())
    notes = [*decoded.notes, *parsed.notes]
    alerts = parsed.alerts
    if len(alerts) > MAX_ALERTS:
        # Active alerts are the point of the file: they are kept before the others.
        alerts = sorted(alerts, key=lambda alert: not alert.active)
        notes.append(f"{len(alerts):,} alerts; the first {MAX_ALERTS:,} are kept, active first")
        alerts = alerts[:MAX_ALERTS]
    times = [t for alert in alerts for t in (alert.starts_at, alert.ends_at) if t is not None]
    return AlertReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=parsed.format,
        alerts=alerts,
        first_ts=min(times, default=None),
        last_ts=max(times, default=None),
        notes=notes,
        redactions=dict(counts),
    )
