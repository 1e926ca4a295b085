"""Config evidence: files SREs drop into an incident thread (values.yaml, deployment.yaml,
app.json, pyproject-style TOML, .env, INI) -> a ConfigReport of what matters.

A config that does not parse is a finding, not a failure: the report carries the parser's
line, column and message, since a broken config is often the root cause. Secrets never reach
the report: values under secret-looking keys become keyed-hash placeholders, and every other
shown value goes through the Redactor.

The work is split by job: configs_detect (is it a config, which format), configs_parse
(text -> documents), configs_k8s and configs_generic (notable settings), configs_diff (two
versions), configs_words (Slack wording). This module wires them and is the public API.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.core.wording import plural
from engine.evidence.configs.detect import detect_format, looks_like_config
from engine.evidence.configs.diff import diff_configs
from engine.evidence.configs.generic import generic_notables
from engine.evidence.configs.k8s import k8s_notables
from engine.evidence.configs.parse import Parsed, parse_config
from engine.evidence.configs.report import (
    ConfigChange,
    ConfigDiff,
    ConfigReport,
    K8sObject,
    Notable,
)
from engine.evidence.configs.secrets import Masker
from engine.evidence.configs.summary import (
    describe_config,
    describe_diff,
    summarize_config,
    summarize_diff,
)
from engine.evidence.configs.walk import Document, documents, last_applied_only, walk
from engine.evidence.decode import decode_text

__all__ = [
    "ConfigChange",
    "ConfigDiff",
    "ConfigReport",
    "K8sObject",
    "Notable",
    "analyze_config",
    "describe_config",
    "describe_diff",
    "diff_configs",
    "looks_like_config",
    "summarize_config",
    "summarize_diff",
]

MAX_NOTABLE = 40
_FLAVORS = {
    "yaml": "YAML",
    "json": "JSON",
    "toml": "TOML",
    "env": ".env",
    "ini": "INI",
    "properties": "properties",
    "unknown": "config (not parsed)",
}
_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$")
_FLAG_STRING_FORMATS = frozenset({"env", "ini", "properties"})
# Go template actions where YAML cannot have them: a line or an unquoted value starting '{{'.
# Quoted '{{ .Labels.x }}' (Alertmanager, Helm values) is plain YAML and still parses.
_GO_TEMPLATE = re.compile(r"^\s*\{\{|:\s+\{\{", re.MULTILINE)


def _flavor(name: str, parsed: Parsed, docs: list[Document]) -> str:
    base = _FLAVORS[parsed.format]
    filename = PurePosixPath(name.replace("\\", "/")).name.lower()
    if any(doc.obj is not None for doc in docs):
        return f"Kubernetes {base}"
    if parsed.format == "yaml" and _COMPOSE_NAME.match(filename):
        return "Compose YAML"
    if parsed.format == "yaml" and filename.startswith("values"):
        return "Helm values YAML"
    return base


def _duplicates(parsed: Parsed) -> list[Notable]:
    out = []
    for dup in parsed.duplicates:
        where = f" at line {dup.line}" if dup.line else ""
        out.append(
            Notable(
                path=dup.key,
                value=None,
                why=f"duplicate key{where}: the later value wins, the earlier one is ignored",
                warn=True,
                brief=f"duplicate key {dup.key}" + (f" (line {dup.line})" if dup.line else ""),
            )
        )
    return out


def _notables(parsed: Parsed, docs: list[Document], masker: Masker) -> list[Notable]:
    found = _duplicates(parsed) + k8s_notables(docs, masker)
    flag_strings = parsed.format in _FLAG_STRING_FORMATS
    for doc in docs:
        if doc.obj is None:
            found += generic_notables(doc.data, masker, obj=doc.label, flag_strings=flag_strings)
    for notable in found:
        notable.path = masker.scrub(notable.path)  # a map key can be a token (`tokens: {xoxb-…}`)
    # Warnings first; within each group, file order (the order a reader meets them).
    return sorted(found, key=lambda notable: not notable.warn)


def _excerpt(parsed: Parsed, text: str, masker: Masker) -> str | None:
    """The line the parser stopped at, masked like any shown value."""
    lines = text.split("\n")
    if parsed.line is None or not 1 <= parsed.line <= len(lines) or not lines[parsed.line - 1]:
        return None
    return masker.line(lines[parsed.line - 1])


def analyze_config(name: str, data: bytes, redactor: Redactor | None = None) -> ConfigReport:
    """Parse and inspect one config file. Raises EvidenceRejected only for input that is not
    text (empty, binary); a config that does not parse is reported in `parse_error`."""
    try:
        decoded = decode_text(data)
    except EvidenceRejected as exc:
        if "binary" not in exc.user_message:
            raise
        raise EvidenceRejected(
            f"{name} looks binary, not a text config file (YAML, JSON, TOML, .env or INI)."
        ) from exc
    text = decoded.text
    masker = Masker(redactor or Redactor())
    parsed = parse_config(
        detect_format(name, text), text, lenient_conf=name.lower().endswith(".conf")
    )
    notes = [*decoded.notes, *parsed.notes]
    if parsed.error is not None and parsed.format == "yaml" and _GO_TEMPLATE.search(text):
        # A Helm template is Go text that renders to YAML; as YAML it rarely parses.
        notes.append("Go template ({{ }}): render it with `helm template` to check the YAML")
        parsed.error = None
    docs = documents(parsed.documents)
    if parsed.error is not None and parsed.format == "yaml" and docs:
        notes.append(f"read {plural(len(docs), 'document')} before the error")
    notable = _notables(parsed, docs, masker)
    keys = sum(
        1 for doc in docs for _ in walk(doc.data, skip=last_applied_only if doc.obj else None)
    )
    error = masker.scrub(parsed.error) if parsed.error is not None else None
    excerpt = _excerpt(parsed, text, masker) if error is not None else None
    if len(notable) > MAX_NOTABLE:
        notes.append(f"{len(notable)} notable settings; the first {MAX_NOTABLE} are kept")
    return ConfigReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=parsed.format,
        flavor=_flavor(name, parsed, docs),
        documents=len(docs),
        objects=[doc.obj for doc in docs if doc.obj is not None],
        notable=notable[:MAX_NOTABLE],
        notable_count=len(notable),
        keys=keys,
        notes=notes,
        parse_error=error,
        error_line=parsed.line if error else None,
        error_column=parsed.column if error else None,
        error_excerpt=excerpt,
        redactions=dict(masker.counts),
    )
