"""Tools that look closer at what a case already holds: search its files, read lines around
one, see a template's examples, read a runbook. Read-only, and cheap: they answer from memory.
"""

from __future__ import annotations

import asyncio
import re
from typing import ClassVar

from pydantic import BaseModel, Field

from engine.evidence.logs.report import LogReport
from engine.tools.base import ToolError
from engine.tools.case_files import CaseFiles

MAX_MATCHES = 50
MAX_LINE_CHARS = 400  # of a line shown; a matched line is searched up to SEARCH_CHARS
SEARCH_CHARS = 2_000
MAX_AROUND = 40


def _shown(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " …"


class GrepParameters(BaseModel):
    pattern: str = Field(
        min_length=1, max_length=200, description="text to look for (case-insensitive)"
    )
    file: str | None = Field(
        default=None, description="one file of the case; all files when left out"
    )
    regex: bool = Field(default=False, description="read `pattern` as a Python regular expression")
    max_matches: int = Field(default=20, ge=1, le=MAX_MATCHES)


class GrepEvidence:
    name: ClassVar[str] = "grep_evidence"
    description: ClassVar[str] = (
        "Find the lines of the case's files that contain a text (or match a regular "
        "expression), with their file and line number."
    )
    parameters: ClassVar[type[BaseModel]] = GrepParameters

    def __init__(self, files: CaseFiles) -> None:
        self.files = files

    async def answer(self, arguments: GrepParameters) -> str:
        names = [self.files.name_of(arguments.file)] if arguments.file else sorted(self.files.texts)
        try:
            flags = re.IGNORECASE
            pattern = re.compile(
                arguments.pattern if arguments.regex else re.escape(arguments.pattern), flags
            )
        except re.error as exc:
            raise ToolError(f"bad regular expression: {exc}") from exc
        # A regular expression may backtrack for long: searched off the event loop, so the
        # run's time limit still answers.
        return await asyncio.to_thread(self._search, pattern, names, arguments.max_matches)

    def _search(self, pattern: re.Pattern[str], names: list[str], limit: int) -> str:
        found: list[str] = []
        total = 0
        for name in names:
            for number, line in enumerate(self.files.lines(name), 1):
                if pattern.search(line, 0, SEARCH_CHARS):
                    total += 1
                    if len(found) < limit:
                        found.append(f"{name}:{number}: {_shown(line)}")
        if total > len(found):
            found.append(f"({total:,} matching lines in all; the first {len(found)} shown)")
        return "\n".join(found)


class AroundParameters(BaseModel):
    file: str = Field(min_length=1)
    line: int = Field(ge=1, description="1-based line number")
    before: int = Field(default=10, ge=0, le=MAX_AROUND)
    after: int = Field(default=10, ge=0, le=MAX_AROUND)


class LinesAround:
    name: ClassVar[str] = "lines_around"
    description: ClassVar[str] = "Read a file's lines around one line, numbered."
    parameters: ClassVar[type[BaseModel]] = AroundParameters

    def __init__(self, files: CaseFiles) -> None:
        self.files = files

    async def answer(self, arguments: AroundParameters) -> str:
        name = self.files.name_of(arguments.file)
        lines = self.files.lines(name)
        if arguments.line > len(lines):
            raise ToolError(f"{name} has {len(lines):,} lines")
        start = max(1, arguments.line - arguments.before)
        stop = min(len(lines), arguments.line + arguments.after)
        return "\n".join(
            f"{'>' if n == arguments.line else ' '}{n}: {_shown(lines[n - 1])}"
            for n in range(start, stop + 1)
        )


class TemplateParameters(BaseModel):
    template: str = Field(
        min_length=1, max_length=300, description="a template's text, or words of it"
    )
    file: str | None = None


class TemplateExamples:
    name: ClassVar[str] = "template_examples"
    description: ClassVar[str] = (
        "For a log template (an event with <*> where values go), its count, level, first and "
        "last time, first line and an example record."
    )
    parameters: ClassVar[type[BaseModel]] = TemplateParameters

    def __init__(self, files: CaseFiles) -> None:
        self.files = files

    async def answer(self, arguments: TemplateParameters) -> str:
        names = (
            [self.files.name_of(arguments.file)] if arguments.file else sorted(self.files.reports)
        )
        wanted = arguments.template.lower().replace("<*>", "")
        shown = []
        for name in names:
            report = self.files.reports.get(name)
            if not isinstance(report, LogReport):
                continue
            for stats in report.templates:
                if all(word in stats.template.lower() for word in wanted.split()):
                    times = (
                        f", {stats.first_seen:%Y-%m-%d %H:%M:%S} → {stats.last_seen:%H:%M:%S} UTC"
                        if stats.first_seen and stats.last_seen
                        else ""
                    )
                    shown.append(
                        f"{name}:{stats.first_line}: {stats.template} — {stats.count:,}× "
                        f"{stats.level or 'no level'}{times}\n  e.g. {_shown(stats.example)}"
                    )
        if not shown:
            raise ToolError(
                f"no template with {arguments.template!r} in {', '.join(names) or 'the case'}"
            )
        return "\n".join(shown[:MAX_MATCHES])


class RunbookParameters(BaseModel):
    document: str = Field(
        min_length=1, max_length=300, description="a runbook's title or id, as listed"
    )


class RunbookText:
    name: ClassVar[str] = "runbook_text"
    description: ClassVar[str] = (
        "Read the text of a runbook or past case from the team's knowledge base."
    )
    parameters: ClassVar[type[BaseModel]] = RunbookParameters

    def __init__(self, files: CaseFiles) -> None:
        self.files = files

    async def answer(self, arguments: RunbookParameters) -> str:
        if self.files.runbook is None:
            raise ToolError("no knowledge base is available to this case")
        text = await self.files.runbook(arguments.document)
        if text is None:
            raise ToolError(f"no runbook or past case {arguments.document!r}")
        return text


def evidence_tools(
    files: CaseFiles,
) -> list[GrepEvidence | LinesAround | TemplateExamples | RunbookText]:
    """The look-closer tools over one case's material."""
    tools: list[GrepEvidence | LinesAround | TemplateExamples | RunbookText] = [
        GrepEvidence(files),
        LinesAround(files),
        TemplateExamples(files),
    ]
    if files.runbook is not None:
        tools.append(RunbookText(files))
    return tools
