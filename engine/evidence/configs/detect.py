"""Is this upload a config file, and in which format? Cheap checks on the name and the head.

JSON is shared with logs (JSON lines), traces (OTLP, Jaeger, Zipkin) and query results
(Prometheus), which other analysers own, so JSON that looks like telemetry is not claimed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import PurePosixPath

from engine.evidence.bounded import TooComplex, load_json, load_toml
from engine.evidence.configs.report import ConfigFormat

_HEAD = 64 * 1024
_EXTENSIONS: dict[str, ConfigFormat] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".env": "env",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".properties": "properties",
}
_K8S_API = re.compile(r"^apiVersion:\s*\S", re.MULTILINE)
_K8S_KIND = re.compile(r"^kind:\s*[A-Z]\w*", re.MULTILINE)
# Keys of OTLP, Jaeger, Zipkin and Tempo traces and of Prometheus API answers.
_TELEMETRY_KEYS = re.compile(
    r'"(?:resourceSpans|resourceMetrics|resourceLogs|scopeSpans|instrumentationLibrarySpans'
    r'|traceID|traceId|spanID|spanId|spans|batches|resultType)"\s*:'
)
_PROM_RESULT = re.compile(r'"data"\s*:\s*\{[^{}]*"result"\s*:\s*\[')
# An Elasticsearch / OpenSearch answer: its hits carry the log records in `_source`.
_SEARCH_HITS = re.compile(r'"hits"\s*:\s*\{[^{}]*"hits"\s*:\s*\[|"_source"\s*:\s*\{')
# A JSON array of records with a time and a message is a log export, not a config.
_LOG_TIME = re.compile(r'"(?:@timestamp|timestamp|time|ts|@t)"\s*:')
_LOG_MESSAGE = re.compile(r'"(?:message|msg|log|@m)"\s*:')
_SECTION = re.compile(r"^\[[\w.\-\" ]+\]\s*$")
_ENV_LINE = re.compile(r"^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=")


def _extension_format(name: str) -> ConfigFormat | None:
    base = PurePosixPath(name.replace("\\", "/")).name.lower()
    if base == ".env" or base.startswith(".env."):  # .env.production, .env.local
        return "env"
    return _EXTENSIONS.get(PurePosixPath(base).suffix)


def _content_lines(head: str, limit: int = 50) -> list[str]:
    lines = []
    for raw in head.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "//")):
            lines.append(line)
            if len(lines) >= limit:
                break
    return lines


def _is_json_lines(lines: list[str]) -> bool:
    """Two records that each parse alone: a pretty-printed config starts with a lone '{'."""
    if len(lines) < 2 or not (lines[0].startswith("{") and lines[1].startswith("{")):
        return False
    try:
        return isinstance(load_json(lines[0]), dict)
    except ValueError:
        return False


def _is_telemetry_json(head: str, lines: list[str]) -> bool:
    if _is_json_lines(lines):
        return True
    if _TELEMETRY_KEYS.search(head) or _PROM_RESULT.search(head) or _SEARCH_HITS.search(head):
        return True
    return head.lstrip().startswith("[") and bool(
        _LOG_TIME.search(head) and _LOG_MESSAGE.search(head)
    )


def looks_like_config(name: str, text: str) -> bool:
    """True for files the config analyser should take: by extension, or a Kubernetes manifest
    by content. JSON logs, traces and query results are left to their own analysers."""
    head = text[:_HEAD]
    stripped = head.lstrip()
    if stripped.startswith(("{", "[")) and _is_telemetry_json(head, _content_lines(head)):
        return False
    if _extension_format(name) is not None:
        return True
    return bool(_K8S_API.search(head) and _K8S_KIND.search(head))


def _toml_or_ini(text: str) -> ConfigFormat:
    try:
        load_toml(text)
    except TooComplex:  # TOML syntax, refused for its depth when it is parsed
        return "toml"
    except tomllib.TOMLDecodeError:
        return "ini"
    return "toml"


def detect_format(name: str, text: str) -> ConfigFormat:
    """The format from the extension, else from the content; YAML is the fallback since
    most unnamed configs pasted into incidents are manifests or values files."""
    by_name = _extension_format(name)
    if by_name is not None:
        return by_name
    lines = _content_lines(text[:_HEAD])
    if not lines:
        return "yaml"
    first = lines[0]
    if _SECTION.match(first):
        return _toml_or_ini(text)
    if first.startswith(("{", "[")):
        return "json"
    if all(_ENV_LINE.match(line) for line in lines):
        return "env"
    return "yaml"
