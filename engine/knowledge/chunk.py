"""Split Markdown (or plain text) into chunks that keep its structure.

A section that fits in `max_chars` with everything under it is one chunk, its sub-headings
kept in the text; a bigger one gives its own text, then each subsection in turn. Each chunk
carries its heading path ("Postgres > Connections > Pool exhausted") because a chunk such as
"raise the pool size" means little without it. Within a section, paragraphs, lists and code
blocks are packed whole; one that is too big alone is cut where it does the least harm: a code
block between lines, each piece fenced again (a chunk never opens a fence it does not close),
a list between items, prose between lines, then sentences, then words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ATX = re.compile(r"^ {0,3}(?P<marks>#{1,6})(?:[ \t]+(?P<title>.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
HEADING_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str  # heading path, "Postgres > Connections > Pool exhausted"; "" before any


@dataclass
class _Block:
    kind: str  # "code" | "list" | "text"
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Section:
    path: tuple[str, ...]
    level: int
    heading_line: str
    blocks: list[_Block] = field(default_factory=list)
    children: list[_Section] = field(default_factory=list)

    def body(self) -> str:
        """Everything under this heading, sub-headings included, without the heading itself."""
        parts = [b.text for b in self.blocks]
        parts += [f"{child.heading_line}\n\n{child.body()}".rstrip() for child in self.children]
        return "\n\n".join(p for p in parts if p.strip())


def chunk_markdown(text: str, *, max_chars: int = 1200) -> list[Chunk]:
    """Chunks of at most `max_chars` characters (a code line longer than that aside, when
    `max_chars` is too small to hold the fence around it)."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    lines = _strip_front_matter(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    root = _sections(_blocks(lines))
    return [c for c in _emit(root, max_chars) if c.text.strip()]


def heading_path(path: tuple[str, ...]) -> str:
    return HEADING_SEPARATOR.join(path)


# --- parsing ------------------------------------------------------------------------------


def _strip_front_matter(lines: list[str]) -> list[str]:
    if lines and lines[0].strip() == "---":
        for end in range(1, min(len(lines), 60)):
            if lines[end].strip() in ("---", "..."):
                return lines[end + 1 :]
    return lines


def _fence_end(lines: list[str], start: int) -> int | None:
    """End (exclusive) of the fenced code block opening at `start`; None if none opens there.
    An unclosed fence runs to the end, as Markdown renders it."""
    match = _FENCE.match(lines[start])
    if match is None:
        return None
    if match["fence"][0] == "`" and "`" in match["info"]:
        return None  # inline code such as ```x``` is not a fence
    closing = _closing(match)
    for end in range(start + 1, len(lines)):
        if closing.match(lines[end]):
            return end + 1
    return len(lines)


def _closing(opening: re.Match[str]) -> re.Pattern[str]:
    fence = opening["fence"]
    return re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _heading(line: str) -> tuple[int, str] | None:
    match = _ATX.match(line)
    if match is None:
        return None
    title = _CLOSING_HASHES.sub("", match["title"] or "").strip()
    return len(match["marks"]), title


def _interrupts(lines: list[str], i: int) -> bool:
    line = lines[i]
    return (
        not line.strip()
        or _fence_end(lines, i) is not None
        or _heading(line) is not None
        or _THEMATIC.match(line) is not None
        or _LIST_ITEM.match(line) is not None
    )


def _list_end(lines: list[str], start: int) -> int:
    """End (exclusive) of the list starting at `start`: items, their indented or lazy
    continuation lines and fenced code, across blank lines while the list goes on."""
    base = _indent(lines[start])
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            nxt = i
            while nxt < len(lines) and not lines[nxt].strip():
                nxt += 1
            if (
                nxt < len(lines)
                and (_LIST_ITEM.match(lines[nxt]) or _indent(lines[nxt]) > base)
                and not _THEMATIC.match(lines[nxt])
            ):
                i = nxt
                continue
            break
        fence_end = _fence_end(lines, i)
        if fence_end is not None:
            if _indent(line) <= base:
                break
            i = fence_end
            continue
        if _heading(line) is not None or _THEMATIC.match(line):
            break
        i += 1
    return i


def _blocks(lines: list[str]) -> Iterator[_Block | tuple[int, str, str]]:
    """Blocks and headings ((level, title, line)) in document order."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence_end = _fence_end(lines, i)
        if fence_end is not None:
            yield _Block("code", lines[i:fence_end])
            i = fence_end
            continue
        heading = _heading(line)
        if heading is not None:
            yield (*heading, line.strip())
            i += 1
            continue
        if _THEMATIC.match(line):
            i += 1
            continue
        if _LIST_ITEM.match(line):
            end = _list_end(lines, i)
            yield _Block("list", lines[i:end])
            i = end
            continue
        if i + 1 < len(lines) and _SETEXT.match(lines[i + 1]):
            level = 1 if lines[i + 1].strip()[0] == "=" else 2
            yield level, line.strip(), "#" * level + " " + line.strip()
            i += 2
            continue
        end = i + 1
        while end < len(lines) and not _interrupts(lines, end):
            end += 1
        yield _Block("text", lines[i:end])
        i = end


def _sections(items: Iterator[_Block | tuple[int, str, str]]) -> _Section:
    root = _Section((), 0, "")
    stack = [root]
    for item in items:
        if isinstance(item, _Block):
            stack[-1].blocks.append(item)
            continue
        level, title, line = item
        if not title:
            continue
        while stack[-1].level >= level:
            stack.pop()
        section = _Section((*stack[-1].path, title), level, line)
        stack[-1].children.append(section)
        stack.append(section)
    return root


# --- chunking -----------------------------------------------------------------------------


def _emit(section: _Section, limit: int) -> Iterator[Chunk]:
    whole = section.body()
    if not whole.strip():
        return
    if len(whole) <= limit and (section.blocks or len(section.children) != 1):
        yield Chunk(whole, heading_path(section.path))
        return
    heading = heading_path(section.path)
    pieces = [piece for block in section.blocks for piece in _split_block(block, limit)]
    for text in _pack(pieces, limit, "\n\n"):
        yield Chunk(text, heading)
    for child in section.children:
        yield from _emit(child, limit)


def _pack(parts: list[str], limit: int, joiner: str, *, keep_blank: bool = False) -> list[str]:
    """Consecutive parts joined while they fit in `limit`."""
    packed: list[str] = []
    current: str | None = None
    for part in parts:
        if not keep_blank and not part.strip():
            continue
        if current is not None and len(current) + len(joiner) + len(part) <= limit:
            current += joiner + part
            continue
        if current is not None:
            packed.append(current)
        current = part
    if current is not None:
        packed.append(current)
    return packed


def _split_block(block: _Block, limit: int) -> list[str]:
    if len(block.text) <= limit:
        return [block.text]
    if block.kind == "code":
        return _split_fence(block.lines, limit)
    if block.kind == "list":
        return _split_list(block.lines, limit)
    return _split_text(block.text, limit)


def _split_fence(lines: list[str], limit: int) -> list[str]:
    """A fenced block cut between lines, each piece opened and closed like the original."""
    opening = lines[0]
    match = _FENCE.match(opening)
    assert match is not None
    closed = len(lines) > 1 and _closing(match).match(lines[-1]) is not None
    closing = lines[-1] if closed else match["indent"] + match["fence"]
    body = lines[1:-1] if closed else lines[1:]
    budget = max(1, limit - len(opening) - len(closing) - 2)
    cut = [piece for line in body for piece in _hard_cut(line, budget)]
    return [f"{opening}\n{text}\n{closing}" for text in _pack(cut, budget, "\n", keep_blank=True)]


def _split_list(lines: list[str], limit: int) -> list[str]:
    """A list cut between items; an item too big alone is cut like a section's blocks."""
    base = _indent(lines[0])
    items: list[list[str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence_end = _fence_end(lines, i)
        if fence_end is not None and items:
            items[-1].extend(lines[i:fence_end])
            i = fence_end
            continue
        item = _LIST_ITEM.match(line)
        if not items or (item is not None and _indent(line) <= base):
            items.append([])
        items[-1].append(line)
        i += 1
    pieces: list[str] = []
    for item_lines in items:
        text = "\n".join(item_lines).strip("\n")
        if len(text) <= limit:
            pieces.append(text)
        else:
            pieces += _split_item(item_lines, limit)
    return _pack(pieces, limit, "\n")


def _split_item(lines: list[str], limit: int) -> list[str]:
    pieces: list[str] = []
    i = 0
    while i < len(lines):
        fence_end = _fence_end(lines, i)
        if fence_end is not None:
            pieces += _split_fence(lines[i:fence_end], limit)
            i = fence_end
            continue
        pieces += _split_text(lines[i], limit)
        i += 1
    return _pack(pieces, limit, "\n")


def _split_text(text: str, limit: int) -> list[str]:
    """Prose cut between lines, else sentences, else words, else anywhere."""
    if len(text) <= limit:
        return [text]
    for pattern, joiner in (("\n", "\n"), (_SENTENCE_END, " "), (" ", " ")):
        parts = text.split(pattern) if isinstance(pattern, str) else pattern.split(text)
        if len(parts) > 1:
            return _pack([p for part in parts for p in _split_text(part, limit)], limit, joiner)
    return _hard_cut(text, limit)


def _hard_cut(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    return [text[i : i + limit] for i in range(0, len(text), limit)]
