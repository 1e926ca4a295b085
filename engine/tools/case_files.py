"""What the evidence tools read: a case's files as text, their reports, its runbooks.

Built by the caller (the investigation turn) from what the case already stores; the tools
never reach the store themselves, so they run the same against a test's files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.evidence.reports import AnyReport
from engine.tools.base import ToolError

RunbookLookup = Callable[[str], Awaitable[str | None]]


@dataclass
class CaseFiles:
    texts: dict[str, str]  # file name -> its decoded text (not yet masked: runs mask output)
    reports: dict[str, AnyReport] = field(default_factory=dict)
    runbook: RunbookLookup | None = None

    def name_of(self, asked: str) -> str:
        """The case file `asked` means: its exact name, else the one name that ends with or
        contains it ("app.log" for "logs.zip/app.log"). A ToolError lists the files when
        none or several match."""
        if asked in self.texts:
            return asked
        lowered = asked.lower()
        ending = [name for name in self.texts if name.lower().endswith(lowered)]
        found = ending or [name for name in self.texts if lowered in name.lower()]
        if len(found) == 1:
            return found[0]
        listed = ", ".join(sorted(self.texts)) or "none"
        if not found:
            raise ToolError(f"no file {asked!r} in this case; its files: {listed}")
        raise ToolError(f"{asked!r} could be {', '.join(sorted(found))}: give the full name")

    def lines(self, name: str) -> list[str]:
        return self.texts[name].splitlines()
