"""Is this upload Kubernetes state, and which kubectl output is it? From the content only.

A manifest someone wrote (no status, no server-set metadata) is a config, not state: only
objects as the API server returns them (`status:` with content, metadata.uid,
resourceVersion, a real creationTimestamp) are claimed.
"""

from __future__ import annotations

import re

from engine.evidence.kubernetes.cli_errors import is_cli_error
from engine.evidence.kubernetes.events import is_event_table
from engine.evidence.kubernetes.headerless import shape_of
from engine.evidence.kubernetes.listing import is_top_table
from engine.evidence.kubernetes.report import KubeFormat
from engine.evidence.kubernetes.tables import header_cells, is_header

_HEAD = 64 * 1024
_YAML_KIND = re.compile(r"^(?:- )?kind:\s*[A-Z]\w*\s*$", re.MULTILINE)
_YAML_API = re.compile(r"^(?:- |  )?apiVersion:\s*\S", re.MULTILINE)
# Set by the API server: a manifest someone wrote has none of these.
_YAML_LIVE = re.compile(
    r"^\s*(?:uid|resourceVersion):\s*[\"']?[\w-]"
    r"|^\s*creationTimestamp:\s*[\"']?\d{4}"
    r"|^(?:  )?status:[ \t]*\n[ \t]+\S",
    re.MULTILINE,
)
_JSON_KIND = re.compile(r'"kind"\s*:\s*"[A-Z]\w*"')
_JSON_API = re.compile(r'"apiVersion"\s*:\s*"')
_JSON_LIVE = re.compile(
    r'"(?:uid|resourceVersion)"\s*:\s*"[\w-]|"creationTimestamp"\s*:\s*"\d{4}|"status"\s*:\s*\{\s*"'
)
_DESCRIBE_FIELDS = re.compile(
    r"^(?:Namespace|Labels|Annotations|Events|Status|Containers|Selector|Controlled By"
    r"|CreationTimestamp|Conditions|Roles|Type|Replicas|StorageClass|Ingress Class):",
    re.MULTILINE,
)
# Lines before the output in a paste: the prompt and the command.
_PREAMBLE = re.compile(r"^(?:\$|#|>|kubectl\b|[\w.@-]+[$#]\s)")


def _first_lines(head: str, count: int = 50) -> list[str]:
    lines = [line for line in head.splitlines() if line.strip()]
    skipped = 0
    while lines and skipped < 3 and _PREAMBLE.match(lines[0].strip()):
        lines.pop(0)
        skipped += 1
    return lines[:count]


def _table_format(header: str) -> KubeFormat | None:
    columns = [name for _, name in header_cells(header)]
    upper = [c.upper() for c in columns]
    if is_event_table(upper) and any(c in upper for c in ("TYPE", "LAST SEEN", "AGE", "OBJECT")):
        return "events"  # describe's Events block pasted alone is title case
    if is_top_table(columns) and "NAME" in columns:
        return "top"
    if is_header(header) and any(c in columns for c in ("AGE", "READY")):
        return "get"
    return None


def sniff(text: str) -> KubeFormat | None:
    """The kubectl output `text` starts with, or None when it is not Kubernetes state."""
    head = text[:_HEAD]
    stripped = head.lstrip()
    if not stripped:
        return None
    if stripped[0] in "{[":
        live = _JSON_KIND.search(head) and _JSON_API.search(head) and _JSON_LIVE.search(head)
        return "json" if live else None
    if _YAML_KIND.search(head) and _YAML_API.search(head):
        return "yaml" if _YAML_LIVE.search(head) else None
    lines = _first_lines(head)
    if not lines:
        return None
    if lines[0].startswith("Name:") and len(_DESCRIBE_FIELDS.findall(head)) >= 2:
        return "describe"
    found = _table_format(lines[0])
    if found is not None:
        return found
    if all(shape_of(line) is not None for line in lines):
        return "get"  # --no-headers rows
    if is_cli_error(lines):
        return "error"  # kubectl's own refusal: a permission, an object or a type missing
    return None


def looks_like_kubernetes(name: str, text: str) -> bool:
    """True for kubectl describe / get / events / top output and live -o yaml / -o json."""
    del name  # the content decides: a file name says what was meant, not what was pasted
    return sniff(text) is not None
