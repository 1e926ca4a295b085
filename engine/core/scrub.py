"""Keep secrets out of text meant for logs: configured values, and credentials by their shape.

Every Settings hands its tokens, keys and passwords to `mask_values` as it is read, so from
then on `scrub` masks them wherever they appear (a message, a traceback), with credentials of
a recognisable shape (Slack tokens, bearer values, API keys) and what the evidence redactor
masks. Logging (engine/ops/log_setup.py) scrubs every line it writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.core.redact import Redactor

# Credentials with a recognisable shape: Slack tokens (bot, user, app-level, config),
# Authorization header values, OpenAI/Anthropic-style keys.
_SECRETS = re.compile(
    r"\b(?:xox[abposre]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]{6,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}"
)
MASK = "[secret]"
MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
_redactor = Redactor()


def mask_values(values: Iterable[str | None]) -> None:
    """Mask these exact values (configured tokens, keys, passwords) in every log line from now
    on, whatever their shape."""
    global _known_pattern
    new = {v for v in values if v and len(v) >= MIN_SECRET_CHARS} - _known
    if not new:
        return
    _known.update(new)
    # Longest first, so a value that contains another is masked whole.
    ordered = sorted(_known, key=len, reverse=True)
    _known_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def scrub(text: str) -> str:
    known = _known_pattern
    if known is not None:
        text = known.sub(MASK, text)
    return _redactor.redact(_SECRETS.sub(MASK, text)).text
