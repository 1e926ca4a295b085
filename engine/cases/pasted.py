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
# A short paste outside a code block counts only when it says it is a tool's reply: a chat
# line such as "error: something broke" must stay conversation.
_TOOL_REPLY = re.compile(
    r"^(?:Error from server \(|No resources found|Command `|error: the server\b)", re.M
)
_FENCE = re.compile(r"```[ \t]*(?:[A-Za-z0-9_+-]+[ \t]*\n)?(.*?)```", re.DOTALL)


def pasted_outputs(text: str) -> list[bytes]:
    """The pasted outputs in a message, each as the bytes of a file; [] for conversation.

    Structured output counts at any length (kubectl's one-line `Error from server
    (NotFound)…` is the answer to "why can't I see my pod?"), also after a line of the
    person's own words ("kubectl get hpa says:"); other code blocks from MIN_LINES lines."""
    text = html.unescape(text)  # Slack escapes <, > and & in message text
    blocks = _FENCE.findall(text)
    found = []
    for body in blocks or [text]:
        body = body.strip("\n")
        short = body.count("\n") + 1 < MIN_LINES
        output = _structured(body) if blocks or not short or _TOOL_REPLY.search(body) else None
        if output is not None:
            found.append(output)
        elif blocks and body.count("\n") + 1 >= MIN_LINES:
            found.append((body + "\n").encode())
    return found


def _structured(body: str) -> bytes | None:
    """The body, or the body after its first line, when it reads as a structured kind."""
    first, _, rest = body.partition("\n")
    for candidate in (body, rest.strip("\n") if first and rest else ""):
        if not candidate:
            continue
        data = (candidate + "\n").encode()
        if detect_kind("pasted.txt", data) in STRUCTURED:
            return data
    return None
