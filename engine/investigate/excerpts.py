"""The parts of each evidence file worth quoting to the model, from its report and its bytes.

A report says what a file holds in a line or two; an answer needs the lines themselves: the
first error with the records around it, the stack frames, the WARN and new templates with
an example each, the Kubernetes or CLI findings with the lines that show them, the config
values. Each file gives `Part`s here, each with a weight (how telling that kind of part is);
`engine.investigate.evidence_choice` ranks them by the question and the leading hypotheses
and fills the prompt's budget with the best. A small file, or one the engine could not
structure, is also offered whole.

Everything quoted is redacted here (engine/core/redact.py), a line at a time with private key
blocks masked whole, so line numbers still match the file; the templates and examples of a
report were redacted when it was made. Parts do not depend on the question, so a file's parts
are computed once per upload (`PromptSources.of` keeps them by content) and reused each turn.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.core.wording import clip, plural
from engine.evidence.alerts.report import AlertReport
from engine.evidence.analyze import describe_report
from engine.evidence.cli_state.report import CliFinding, CliStateReport
from engine.evidence.configs.report import ConfigReport
from engine.evidence.decode import decode_text
from engine.evidence.kubernetes.report import KubeFinding, KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.reports import AnyReport, Evidence
from engine.investigate.parts import LINE_CHARS, Part, SafeLines, cut

log = logging.getLogger(__name__)

# Files up to this size are read for parts; a bigger one is quoted from its report alone.
MAX_CONTENT_BYTES = 32 * 1024 * 1024
# A file up to this size is also offered whole (about 3,500 tokens).
VERBATIM_CHARS = 12_000
# Lines kept for lines that match the question (`evidence_choice`); bigger files are not.
GREP_MAX_LINES = 50_000
SEARCHED_KINDS = frozenset({"config", "kubernetes", "cli", "alerts"})

# Weights: how telling a kind of part is before its relevance to the question is added.
# evidence_choice adds up to its RELEVANCE (3) for a part that matches the question, and
# shows nothing under its MIN_SCORE (2), however much budget is left.
W_WHOLE_STATE = 6.5  # a small Kubernetes, CLI, alert, config or text file, whole
W_WHOLE_LOG = 5.0  # a small log, whole
W_WHOLE_NUMBERS = 1.5  # a small metrics or trace file: its statistics say more than its rows
W_WHOLE_FEW_NUMBERS = 4.0  # ... unless it is a few lines (a scrape of one target)
FEW_NUMBERS_CHARS = 1500
W_PARSE_ERROR = 7.5
W_FINDING = 5.0  # plus 3 x the finding's severity
FINDING_LINES = 8  # the lines that show a finding
FINDING_CHARS = 300
W_EVENTS = 3.0
W_STATE_LINES = 3.0
W_CONFIG_CHANGES = 5.5
W_NOTABLE_WARN = 4.0
W_NOTABLE = 1.8
W_DESCRIBED = {"alerts": 5.0, "traces": 4.0, "metrics": 3.2, "topology": 2.0}
W_TEXT_HEAD = 4.0
TEXT_HEAD_LINES = 40


@dataclass(frozen=True)
class FileExcerpts:
    """A file's parts, and its lines for what matches the question (None when too big)."""

    parts: list[Part]
    lines: SafeLines | None = None


@dataclass(frozen=True)
class KnowledgeText:
    """The text of a runbook section or a past case that looks like this case."""

    kind: str  # "runbook" or "case"
    title: str
    text: str


class KnowledgeLead(str):
    """A related-knowledge line, as the case's next steps show it, that also carries the text
    of its runbook section or past case for the prompt (it travels where the lines go)."""

    kind: str
    name: str  # the document's title (str.title is taken)
    text: str

    def __new__(cls, line: str, *, kind: str, name: str, text: str) -> KnowledgeLead:
        lead = super().__new__(cls, line)
        lead.kind, lead.name, lead.text = kind, name, text
        return lead


ReadFile = Callable[[Evidence], Awaitable[bytes | None]]


@dataclass
class PromptSources:
    """What a turn's prompt quotes beyond the reports: parts of each upload (by evidence id),
    the text of related knowledge (filled when it is looked up), and the time of the turn."""

    files: dict[int, FileExcerpts] = field(default_factory=dict)
    knowledge: list[KnowledgeText] = field(default_factory=list)
    now: datetime | None = None

    @classmethod
    def of(
        cls,
        evidence: Iterable[Evidence],
        contents: Mapping[int, bytes | None],
        redactor: Redactor,
        *,
        now: datetime | None = None,
    ) -> PromptSources:
        """Parts of every analysed file; `contents` are the uploads' bytes by evidence id
        (missing, None or too big: its report alone)."""
        files = {}
        for item in evidence:
            if item.status != "analysed" or item.report is None:
                continue
            data = contents.get(item.id)
            files[item.id] = file_excerpts(item.report, data, redactor)
        return cls(files=files, now=now)


async def load_sources(
    evidence: list[Evidence],
    read_file: ReadFile | None,
    related: Sequence[str],
    redactor: Redactor,
    *,
    now: datetime | None = None,
) -> PromptSources:
    """A turn's sources: each analysed file's stored bytes through `read_file` (the store,
    opening sealed content; a file it cannot give is quoted from its report), read into
    parts in a thread, and the text of the related knowledge among `related`."""
    contents: dict[int, bytes | None] = {}
    for item in evidence:
        if read_file is None or item.status != "analysed" or item.report is None:
            continue
        if item.size_bytes > MAX_CONTENT_BYTES:
            continue
        try:
            contents[item.id] = await read_file(item)
        except Exception as exc:  # the report still says what the file holds
            log.warning("evidence %s not read for the prompt: %s", item.id, exc)
    sources = await asyncio.to_thread(PromptSources.of, evidence, contents, redactor, now=now)
    sources.knowledge = [
        KnowledgeText(lead.kind, lead.name, lead.text)
        for lead in related
        if isinstance(lead, KnowledgeLead) and lead.text.strip()
    ]
    return sources


def file_excerpts(report: AnyReport, data: bytes | None, redactor: Redactor) -> FileExcerpts:
    """The parts of one file (its report alone when `data` is None or too big)."""
    if data is None or len(data) > MAX_CONTENT_BYTES:
        return FileExcerpts(parts=_report_parts(report, None, redactor))
    # The same bytes and report give the same parts: a case asks again and again.
    key = (hash(data), len(data), hash(report.model_dump_json()), id(redactor))
    with _CACHE_LOCK:  # turns of several cases read files in threads of one worker
        cached = _CACHE.get(key)
    if cached is None:
        cached = _read(report, data, redactor)
        with _CACHE_LOCK:
            _CACHE[key] = cached
            while len(_CACHE) > CACHED_FILES:
                _CACHE.pop(next(iter(_CACHE)))
    return cached


CACHED_FILES = 64
_CACHE: dict[tuple[int, int, int, int], FileExcerpts] = {}
_CACHE_LOCK = threading.Lock()


def _read(report: AnyReport, data: bytes, redactor: Redactor) -> FileExcerpts:
    try:
        text = decode_text(data).text
    except EvidenceRejected:  # binary after all: the report alone
        return FileExcerpts(parts=_report_parts(report, None, redactor))
    lines = SafeLines(text.removesuffix("\n").split("\n"), redactor)
    parts = _report_parts(report, lines, redactor)
    whole = _whole(report, text, redactor)
    if whole is not None:
        parts.append(whole)
    # Lines that mention the question are looked for in state, configs and text: a log's
    # lines come through its windows and templates, a metrics or trace file's are numbers.
    searched = report.kind in SEARCHED_KINDS or (
        isinstance(report, LogReport) and report.kind == "text"
    )
    return FileExcerpts(parts, lines if searched and len(lines) <= GREP_MAX_LINES else None)


def _report_parts(report: AnyReport, lines: SafeLines | None, redactor: Redactor) -> list[Part]:
    from engine.investigate.log_excerpts import log_parts

    if isinstance(report, LogReport):
        if report.kind == "text":
            return _text_parts(lines)
        return log_parts(report, lines)
    if isinstance(report, KubeReport):
        parts = _findings(report.findings, redactor)
        parts += _kube_events(report, redactor)
        return parts + _described(report, W_STATE_LINES, 12)
    if isinstance(report, CliStateReport):
        parts = _findings(report.findings, redactor)
        return parts + _described(report, W_STATE_LINES, 12)
    if isinstance(report, ConfigReport):
        return _config_parts(report, redactor)
    kind = "alerts" if isinstance(report, AlertReport) else report.kind
    return _described(report, W_DESCRIBED.get(kind, 2.0), 40, each=True)


def _whole(report: AnyReport, text: str, redactor: Redactor) -> Part | None:
    """The whole file, redacted, when it is small enough to be worth its tokens."""
    if len(text) > VERBATIM_CHARS:
        return None
    if isinstance(report, LogReport) and report.kind == "log":
        weight = W_WHOLE_LOG
    elif report.kind in ("metrics", "traces", "topology"):
        # Rows of numbers cost many tokens and say less than their statistics, unless few.
        weight = W_WHOLE_FEW_NUMBERS if len(text) <= FEW_NUMBERS_CHARS else W_WHOLE_NUMBERS
    else:
        weight = W_WHOLE_STATE
    # As written, but for trailing blanks (a table's padding costs tokens and says nothing).
    masked = redactor.redact(text).text.removesuffix("\n").split("\n")
    shown = [cut(line, LINE_CHARS * 3) for line in masked]
    return Part(
        heading=f"the whole file ({plural(len(shown), 'line')})",
        lines=tuple(shown),
        weight=weight,
        order=0,
        whole=True,
    )


def _text_parts(lines: SafeLines | None) -> list[Part]:
    """Text nothing could structure: its head (the whole of it is offered when small)."""
    if lines is None or not len(lines):
        return []
    head = min(len(lines), TEXT_HEAD_LINES)
    return [
        Part(
            heading=f"lines 1–{head} of {len(lines):,}:",
            lines=tuple(lines.numbered(n) for n in range(1, head + 1)),
            weight=W_TEXT_HEAD,
            order=1,
            line_numbers=frozenset(range(1, head + 1)),
        )
    ]


def _findings(findings: Sequence[KubeFinding | CliFinding], redactor: Redactor) -> list[Part]:
    """Each finding in plain words with the file's lines that show it; the same finding on
    several objects of one component (every replica backing off) once, naming them all."""
    groups: dict[tuple[str, str], list[KubeFinding | CliFinding]] = {}
    for finding in findings:
        groups.setdefault((finding.signature, finding.component), []).append(finding)
    parts = []
    for same in groups.values():
        first = same[0]
        where = ", ".join(f.object for f in same[:4]) + (
            f" and {len(same) - 4} more" if len(same) > 4 else ""
        )
        if first.namespace:
            where += f" ({first.namespace})"
        lines = tuple(
            clip(redactor.redact(line).text, FINDING_CHARS) for line in first.lines[:FINDING_LINES]
        )
        parts.append(
            Part(
                heading=f"finding: {first.summary} — {where}",
                lines=lines,
                weight=W_FINDING + 3 * max(f.severity for f in same),
                order=-1,  # before the whole file, when it is shown too
                stays=True,
            )
        )
    return parts


def _kube_events(report: KubeReport, redactor: Redactor) -> list[Part]:
    """Warning events, most repeated first, with their reason, object and message."""
    events = [*report.events, *(e for o in report.objects for e in o.events)]
    warnings = sorted((e for e in events if e.type == "Warning"), key=lambda e: -(e.count or 1))
    if not warnings:
        return []
    lines = []
    for e in warnings[:12]:
        count = f" (×{e.count})" if e.count and e.count > 1 else ""
        where = f" {e.object}" if e.object else ""
        line = f"{e.reason}{where}: {e.message}{count}"
        lines.append(clip(redactor.redact(line).text, LINE_CHARS))
    return [Part(heading="Warning events:", lines=tuple(lines), weight=W_EVENTS, order=0)]


def _config_parts(report: ConfigReport, redactor: Redactor) -> list[Part]:
    """The parse error, what changed since the earlier version, and the notable settings
    (a report's values are masked already)."""
    parts: list[Part] = []
    if report.parse_error:
        excerpt = (report.error_excerpt or "",) if report.error_excerpt else ()
        parts.append(Part(f"parse error: {report.parse_error}", excerpt, W_PARSE_ERROR, 0))
    diff = report.changes
    if diff is not None and (diff.changes or diff.errors):
        lines = [
            f"{c.object + ' ' if c.object else ''}{c.path or '(whole object)'}: "
            f"{c.before if c.before is not None else '(absent)'} → "
            f"{c.after if c.after is not None else '(absent)'}"
            for c in diff.changes
        ]
        lines += diff.errors
        lines = [redactor.redact(line).text for line in lines]  # both versions' values
        more = f" ({diff.more} more not listed)" if diff.more else ""
        since = f" since {diff.previous}" if diff.previous else ""
        parts.append(Part(f"changed{since}{more}:", tuple(lines), W_CONFIG_CHANGES, 0))
    for note in report.notable:
        where = f"{note.object} " if note.object else ""
        value = f": {note.value}" if note.value is not None else " (not set)"
        weight = W_NOTABLE_WARN if note.warn else W_NOTABLE
        mark = "⚠ " if note.warn else ""
        parts.append(Part(f"{mark}{where}{note.path}{value} — {note.why}", (), weight, 0))
    return parts


_BULLET = re.compile(r"^[⚠•\-\s]+")
_VALUES = re.compile(r"\b[0-9a-f]{8,}\b|\d+(?:\.\d+)?")
# A metric series that did not change (no shift, spike, rise or fall) weighs this little.
_CHANGED = re.compile(
    r"shift|spike|rose|fell|drop|jump|→|saturat|down\b|at its limit|%.*\bmax 100\b", re.I
)
W_UNCHANGED = 1.5


def _described(report: AnyReport, weight: float, limit: int, *, each: bool = False) -> list[Part]:
    """What the kind's own words say of the file beyond its summary: one part per line
    (`each`; earlier lines weigh more; lines that differ only in numbers and ids once) or
    one part of all of them."""
    lines = describe_report(report, limit)
    if not lines:
        return []
    if not each:
        return [Part("state", tuple(lines), weight, 0)]
    parts, seen = [], set()
    for i, line in enumerate(lines):
        shape = _VALUES.sub("#", line)
        if shape in seen:
            continue
        seen.add(shape)
        heading = _BULLET.sub("", line) or line
        w = max(1.0, weight - 0.1 * i)
        if report.kind == "metrics" and " points " in line and not _CHANGED.search(line):
            w = W_UNCHANGED
        parts.append(Part(heading, (), w, i))
    return parts
