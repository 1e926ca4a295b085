"""The text tables and `Key: value` lines these CLIs print, read the way a person reads them.

argocd aligns its columns with Go's tabwriter (empty cells stay blank, a MESSAGE holds
spaces), so its rows are cut at the header's column starts; kafka and rabbitmqctl cells hold
no spaces, so theirs are split on whitespace. Either way a row keeps its verbatim text, for
citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Lines before the output in a paste: a shell prompt and the command itself.
_PROMPT = re.compile(r"^(?:\$|#|>|[\w.@:~/-]+[$#%]\s)")
# 'Sync Status:   OutOfSync', '  Path:  apps/x': one or two words, a colon, then space. A row
# cell never looks so ('ComparisonError  Failed to load: ...' has two spaces after a word).
_KEY = re.compile(r"^[\s-]*([A-Z]\w*(?: \w+)?):(?:\s|$)")
_BOX = re.compile(r"^[\s┌┬┐├┼┤└┴┘─+|=-]*$")  # rabbitmqctl --formatter pretty_table borders


@dataclass
class Row:
    line: int  # 1-based line in the file
    text: str  # verbatim, for citation
    cells: dict[str, str] = field(default_factory=dict)


def numbered(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers, without a pasted prompt and command."""
    lines = [(i, line.rstrip()) for i, line in enumerate(text.split("\n"), 1) if line.strip()]
    skipped = 0
    while lines and skipped < 3 and _PROMPT.match(lines[0][1].strip()):
        lines.pop(0)
        skipped += 1
    return lines


def number(text: str | None) -> int | None:
    """'22121' or '22,121' -> 22121; '-', '' or anything else -> None."""
    if text is None:
        return None
    cleaned = text.strip().replace(",", "")
    return int(cleaned) if cleaned.isdigit() else None


def _starts(header: str, names: list[str]) -> list[int] | None:
    starts, at = [], 0
    for name in names:
        found = re.compile(rf"(?<!\S){re.escape(name)}(?!\S)").search(header, at)
        if found is None:
            return None
        starts.append(found.start())
        at = found.end()
    return starts


def _aligned(text: str, starts: list[int]) -> bool:
    """Whether no cut at a column start falls inside a word (the paste kept its alignment)."""
    return all(
        start >= len(text) or start == 0 or text[start - 1] == " " or text[start] == " "
        for start in starts
    )


def positional_rows(
    lines: list[tuple[int, str]], header_at: int, names: list[str]
) -> tuple[list[Row], int]:
    """The rows under lines[header_at] (a tabwriter header of `names`), cut at the header's
    column starts, up to the first line that cannot be one; and the index after them."""
    header = lines[header_at][1].expandtabs()
    starts = _starts(header, names)
    rows: list[Row] = []
    at = header_at + 1
    while starts is not None and at < len(lines):
        number_, raw = lines[at]
        text = raw.expandtabs()
        if _KEY.match(text):
            break  # the `Key:` lines after a table (argocd's operation block)
        if not _aligned(text, starts):
            # tabwriter pads cells with two spaces or more: split there, else on any space.
            words = re.split(r"\s{2,}", text.strip())
            if len(words) != len(names):
                words = text.split(None, len(names) - 1)
            if len(words) < len(names) - 2 or text.endswith(":"):
                break  # a `Key:` line or another table: this one has ended
            cells = dict(zip(names, words, strict=False))
        else:
            ends = [*starts[1:], len(text)]
            cells = {n: text[s:e].strip() for n, s, e in zip(names, starts, ends, strict=True)}
        if cells.get(names[0], "").isupper():  # the next table's header
            break
        rows.append(Row(number_, raw, cells))
        at += 1
    return rows, at


def split_row(text: str, names: list[str]) -> dict[str, str] | None:
    """Whitespace-separated cells under `names`; a last cell with spaces is kept whole. None
    when the row has too few cells to be one of this table."""
    words = text.replace("│", " ").split(None, len(names) - 1)
    if len(words) < len(names):
        return None
    return dict(zip(names, words, strict=True))


def is_border(text: str) -> bool:
    return bool(_BOX.match(text)) and bool(text.strip())


def key_values(lines: list[tuple[int, str]]) -> dict[str, tuple[int, str, str]]:
    """'Sync Status:        OutOfSync from main' -> {'Sync Status': (line, value, raw)}; the
    first occurrence of each key ('- Repo:' and '  Path:' of a source block count too)."""
    found: dict[str, tuple[int, str, str]] = {}
    for number_, raw in lines:
        match = re.match(r"^[\s-]*([A-Z][\w ]{0,30}?):(?:\s+(.*))?$", raw)
        if match and match.group(1) not in found:
            found[match.group(1)] = (number_, (match.group(2) or "").strip(), raw)
    return found
