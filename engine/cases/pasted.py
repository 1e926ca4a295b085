"""Command output pasted into a thread, read as evidence like an uploaded file.

People paste `kubectl describe`, alert JSON or a run of log lines straight into the
conversation. A message is taken as evidence when it, or a ``` block in it, reads as a kind
whose content is unmistakable (Kubernetes or other CLI state, alerts, traces, metrics, a call
graph), or is a code block of a few lines (a log excerpt, a stack trace); ordinary sentences
stay conversation.
"""

from __future__ import annotations

import html
import re

from engine.evidence.analyze import detect_kind

MIN_LINES = 3
STRUCTURED = frozenset({"kubernetes", "cli", "alerts", "traces", "metrics", "topology"})
_FENCE = re.compile(r"```[ \t]*(?:[A-Za-z0-9_+-]+[ \t]*\n)?(.*?)```", re.DOTALL)


def pasted_outputs(text: str) -> list[bytes]:
    """The pasted outputs in a message, each as the bytes of a file; [] for conversation."""
    text = html.unescape(text)  # Slack escapes <, > and & in message text
    blocks = _FENCE.findall(text)
    candidates = [(block, True) for block in blocks] or [(text, False)]
    found = []
    for body, fenced in candidates:
        body = body.strip("\n")
        if body.count("\n") + 1 < MIN_LINES:
            continue
        data = (body + "\n").encode()
        if fenced or detect_kind("pasted.txt", data) in STRUCTURED:
            found.append(data)
    return found
