"""Column-aligned text tables, as kubectl prints them (`get`, `events`, `top`, the Events and
Conditions blocks of `describe`) -> rows of named cells.

kubectl pads with tabwriter, so a cell starts where its header does; that is how empty cells
(a Service without EXTERNAL-IP) keep their place. Pasted output is often re-spaced or holds
tabs, so a row that does not line up with its header is split on runs of whitespace instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Header words are separated by two or more spaces or a tab; one space joins 'LAST SEEN'.
_HEADER_CELL = re.compile(r"\S(?:\S| (?=\S))*")
_SPLIT = re.compile(r"\s*\t\s*|\s{2,}")
# Upper case, bar units in brackets: 'CPU(cores)', 'MEMORY(bytes)', 'LAST SEEN'.
_HEADER_WORD = re.compile(r"^[A-Z][A-Z0-9%/_.-]*(?:\([A-Za-z]+\))?(?: [A-Z][A-Z0-9%/_.-]*)*$")
# kube-lineage draws its tree with these; as spaces, the rows line up with the header again.
_TREE_BLANK = str.maketrans({c: " " for c in "│├└─"})


@dataclass
class Row:
    cells: dict[str, str]
    line: int  # 1-based line in the file
    text: str  # the line as written, trimmed

    def get(self, *names: str) -> str | None:
        """The first of `names` present and not empty; '<none>' and '-' count as empty."""
        for name in names:
            value = self.cells.get(name)
            if value and value not in ("<none>", "-", "<unknown>"):
                return value
        return None


@dataclass
class Table:
    columns: list[str]
    line: int  # the header's line
    rows: list[Row] = field(default_factory=list)


def header_cells(line: str) -> list[tuple[int, str]]:
    """(start, name) of each column of a header line."""
    return [(m.start(), m.group(0)) for m in _HEADER_CELL.finditer(line)]


def is_header(line: str, required: tuple[str, ...] = ("NAME",), *, any_case: bool = False) -> bool:
    """A kubectl header with at least two columns and one of `required`: upper case, or any
    case with `any_case` (describe prints 'Type  Reason  Age  From  Message')."""
    cells = [name for _, name in header_cells(line)]
    if any_case:
        cells = [name.upper() for name in cells]
    return (
        len(cells) >= 2
        and all(_HEADER_WORD.match(name) for name in cells)
        and any(name in required for name in cells)
    )


def _by_position(line: str, starts: list[int], names: list[str]) -> dict[str, str] | None:
    """Cells sliced at the header's starts; None when the row does not line up."""
    cells: dict[str, str] = {}
    for i, (start, name) in enumerate(zip(starts, names, strict=True)):
        if start and start < len(line) and not line[start - 1].isspace():
            return None  # the slice would cut a value in two
        end = starts[i + 1] if i + 1 < len(starts) else len(line)
        value = line[start:end].strip()
        if i + 1 < len(starts) and "  " in value:
            return None  # two values in one cell: the row is shifted
        cells[name] = value
    return cells


def _by_split(line: str, names: list[str]) -> dict[str, str]:
    parts = _SPLIT.split(line.strip(), maxsplit=len(names) - 1)
    return {name: value.strip() for name, value in zip(names, parts, strict=False)}


def parse_row(line: str, starts: list[int], names: list[str]) -> dict[str, str]:
    aligned = None if "\t" in line else _by_position(line, starts, names)
    return aligned if aligned is not None else _by_split(line, names)


def read_table(lines: list[str], start: int, *, first_line: int = 1) -> Table:
    """The table whose header is lines[start], up to the first blank or dedented line.

    `first_line` is the file line of lines[0], so rows keep their place in the file.
    """
    header = lines[start]
    indent = len(header) - len(header.lstrip())
    cells = header_cells(header)
    starts, names = [s for s, _ in cells], [n for _, n in cells]
    tabbed = "\t" in header  # positions mean nothing with tabs: every row is split
    table = Table(columns=names, line=first_line + start)
    for offset, raw in enumerate(lines[start + 1 :], start=start + 1):
        if not raw.strip():
            break
        if indent and len(raw) - len(raw.lstrip()) < indent:
            break  # the next field of a describe block
        if set(raw.strip()) <= set("-\t "):
            continue  # the '----   ------' rule under a describe header
        body = raw.rstrip().translate(_TREE_BLANK)
        cells_of_row = _by_split(body, names) if tabbed else parse_row(body, starts, names)
        table.rows.append(Row(cells_of_row, first_line + offset, raw.strip()))
    return table


def find_tables(
    lines: list[str], required: tuple[str, ...] = ("NAME",), *, any_case: bool = False
) -> list[Table]:
    """Every top-level table in `lines` (`kubectl get all` prints one per kind)."""
    tables = []
    i = 0
    while i < len(lines):
        head = lines[i]
        if not head.startswith((" ", "\t")) and is_header(head, required, any_case=any_case):
            table = read_table(lines, i)
            tables.append(table)
            i += len(table.rows) + 1
        else:
            i += 1
    return tables
