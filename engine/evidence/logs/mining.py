"""Log templates of a whole file: one template per record, `<*>` where values go.

`mine_log(data)` decodes the file, learns its header layout (`headers`), splits it into
records (stack traces stay with their record) and feeds each record's message to the online
`TemplateMiner` (`template_miner`), which is re-exported here with its result types.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from engine.evidence.decode import decode_text
from engine.evidence.logs.records import iter_records
from engine.evidence.templates.headers import SAMPLE_LINES, learn_layout
from engine.evidence.templates.miner import Template, TemplateMatch, TemplateMiner
from engine.evidence.templates.tokens import shape_of

# Records whose message the splitter read out of fields (JSON, logfmt, container wrappers):
# that message is the event's text, the rest of the line is its fields.
_STRUCTURED = frozenset({"json", "logfmt", "docker-json", "cri"})

__all__ = ["MinedLog", "Template", "TemplateMatch", "TemplateMiner", "TemplateRow", "mine_log"]


class TemplateRow(NamedTuple):
    line: int  # 1-based line where the record starts
    template_id: int
    template: str


@dataclass(frozen=True, slots=True)
class MinedLog:
    """One template per record of a file; each record shows its template's final form."""

    lines: list[int]  # the line each record starts on (1-based), in file order
    template_ids: list[int]  # each record's template
    templates: list[Template]  # most frequent first
    header: list[str]  # the learned header's field kinds, e.g. ['TIME', 'LEVEL', 'COMP']
    notes: list[str]  # from decoding (invalid bytes, ...)

    def rows(self) -> Iterator[TemplateRow]:
        text = {t.template_id: t.template for t in self.templates}
        for line, template_id in zip(self.lines, self.template_ids, strict=True):
            yield TemplateRow(line, template_id, text[template_id])


_INDENT = (" ", "\t")
INDENTED_SHARE = 0.8  # of a file's first non-blank lines that start with spaces


def _indented(head: list[str]) -> bool:
    """Whether nearly all of the file's first lines start with spaces (right-aligned)."""
    filled = [line for line in head if line.strip()]
    starts = sum(1 for line in filled if line[:1] in _INDENT)
    return bool(filled) and starts >= INDENTED_SHARE * len(filled)


def mine_log(data: bytes) -> MinedLog:
    """Templates of every record of a log file.

    The header layout is learned from the file's first lines. A line with the whole header
    starts a record; the lines between two of those go through the record splitter
    (`iter_records`), so a stack trace stays with its record and other lines start their own.
    Raises EvidenceRejected for empty or binary files.
    """
    decoded = decode_text(data)
    lines = decoded.text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Learn from lines that start records: stack-trace lines would dilute the header.
    head = lines[:SAMPLE_LINES]
    indented = _indented(head)
    if indented:  # every line starts with spaces: they are not continuations here
        head = [line.lstrip() for line in head]
    layout = learn_layout(
        [head[record.line - 1] for record in iter_records(head)], indented=indented
    )
    miner = TemplateMiner()
    add = miner.add_id
    # Two flat lists of ints rather than (line, id) pairs: a tuple per line costs the garbage
    # collector more than the rest of the bookkeeping.
    starts: list[int] = []
    placed: list[int] = []

    def split(first: int, stop: int, has_head: bool) -> None:
        """Records of lines[first:stop]; when `has_head`, the first line's is counted."""
        for record in iter_records(lines[first:stop]):
            if has_head and record.line == 1:
                continue
            index = first + record.line - 1
            text = record.error_message()  # for a bare "Traceback ...", its exception
            if text == record.message.strip() and record.format not in _STRUCTURED:
                text = layout.message(lines[index])
            starts.append(index + 1)
            placed.append(add(text, shape_of(text)))

    regex = layout.regex
    if regex is None:
        split(0, len(lines), False)
    else:
        # The header is matched on shapes (digits as "0"), which the masker needs anyway;
        # translating the whole text at once is much faster than line by line.
        shapes = shape_of(decoded.text).split("\n")
        match = regex.match
        run_start = 0  # first line not yet placed
        for index, shape in enumerate(shapes[: len(lines)]):
            m = match(shape)
            if m is None:
                continue
            if run_start < index:  # lines without the header since the last one with it
                split(max(run_start - 1, 0), index, run_start > 0)
            end = m.end()
            starts.append(index + 1)
            text = lines[index][end:]
            if not text and index + 1 < len(lines) and lines[index + 1][:1] in _INDENT:
                # The header alone on its line, the message indented on the next one.
                text = lines[index + 1].strip()
                placed.append(add(text, shape_of(text)))
            else:
                placed.append(add(text, shape[end:]))
            run_start = index + 1
        if run_start < len(lines):
            split(max(run_start - 1, 0), len(lines), run_start > 0)
    final = miner.final_ids()
    ids = [final[template_id - 1] for template_id in placed]
    return MinedLog(starts, ids, miner.templates(), layout.kinds, decoded.notes)
