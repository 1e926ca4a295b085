"""A piece of evidence the prompt may quote, and a file's lines made safe to quote.

Kept apart from the modules that make parts (excerpts, log_excerpts) and the one that
chooses them (evidence_choice), which all need these two types.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine.core.redact import Redactor

LINE_CHARS = 400  # a quoted line longer than this is cut, with " …"
PRECURSOR = timedelta(minutes=30)  # what appeared this long before an incident led up to it
_KEY_START = "PRIVATE KEY-----"
_KEY_END = "-----END"


@dataclass(frozen=True)
class Part:
    """A heading and the lines under it, already redacted (quoting comes later).

    `weight` says how telling this kind of part is, before its relevance to the question;
    `order` places it in its file (a line number) so the parts of a file read top to bottom;
    `whole` is the whole file, shown instead of the file's other parts; `line_numbers` are
    the file's lines it shows, so lines already shown are not paid for twice. A part with a
    time `at` weighs `in_window` instead when that time is in the case's incident window, or
    `before_window` when it is before it (known only once the thread says when it started),
    `precursor` when it appeared shortly before it."""

    heading: str
    lines: tuple[str, ...] = ()
    weight: float = 1.0
    order: int = 0
    whole: bool = False
    stays: bool = False  # shown with the whole file too (a finding says what the lines mean)
    line_numbers: frozenset[int] = frozenset()
    at: datetime | None = None
    in_window: float | None = None
    before_window: float | None = None
    precursor: float | None = None

    def placed(self, start: datetime | None, slack: timedelta) -> Part:
        """This part weighed against an incident window starting at `start`: `in_window`
        from `slack` before it, `precursor` in the PRECURSOR before that (something new that
        led up to it), `before_window` earlier."""
        if start is None or self.at is None:
            return self
        try:
            inside = self.at >= start - slack
            leading = self.at >= start - PRECURSOR
        except TypeError:  # a naive time against an aware one: cannot tell
            return self
        if inside:
            weight = self.in_window
        elif leading and self.precursor is not None:
            weight = self.precursor
        else:
            weight = self.before_window
        return self if weight is None else replace(self, weight=weight)

    def text(self) -> str:
        """The heading (with a colon when lines follow), then the lines."""
        heading = self.heading.rstrip(":")
        return "\n".join([f"{heading}:", *self.lines]) if self.lines else heading


def cut(text: str, limit: int = LINE_CHARS) -> str:
    """One line at most `limit` characters, marked when cut."""
    text = text.rstrip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


class SafeLines:
    """A file's lines (1-based) as they may be quoted: each redacted when it is read, and the
    lines of a private key block masked whole (a line of one alone looks like no secret)."""

    def __init__(self, lines: list[str], redactor: Redactor) -> None:
        self._lines = lines
        self._redactor = redactor
        self._keys: set[int] | None = None

    def __len__(self) -> int:
        return len(self._lines)

    def raw(self, number: int) -> str:
        """The line as written: for matching only, never for the prompt."""
        return self._lines[number - 1]

    def head(self, max_chars: int) -> list[str]:
        """The first lines, as written, up to about `max_chars` characters (for parsing)."""
        taken, total = [], 0
        for line in self._lines:
            total += len(line) + 1
            if total > max_chars:
                break
            taken.append(line)
        return taken

    def safe(self, text: str, limit: int = LINE_CHARS) -> str:
        """Any text read from the file (a record's message), redacted and cut."""
        return cut(self._redactor.redact(text).text, limit)

    def line(self, number: int, limit: int = LINE_CHARS) -> str:
        if number in self._key_lines():
            return "[private key line]"
        return cut(self._redactor.redact(self._lines[number - 1]).text, limit)

    def numbered(self, number: int, mark: str = "", limit: int = LINE_CHARS) -> str:
        """'L139 text', or 'L139>> text' for the line a part is about."""
        return f"L{number}{mark} {self.line(number, limit)}"

    def _key_lines(self) -> set[int]:
        if self._keys is None:
            self._keys = set()
            inside = False
            for number, line in enumerate(self._lines, 1):
                if not inside and "BEGIN" in line and _KEY_START in line:
                    inside = True
                if inside:
                    self._keys.add(number)
                    inside = not (_KEY_END in line and "PRIVATE KEY" in line)
        return self._keys
