"""Markdown chunking: heading paths, code blocks, lists, long sections."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.knowledge.chunk import Chunk, chunk_markdown

RUNBOOK = """\
# Postgres

How we run Postgres.

## Connections

### Pool exhausted

Symptoms: `sorry, too many clients already`.

### Idle in transaction

Sessions hold locks while idle.

## Disk

Disk full: `No space left on device`.
"""


def _fences_balanced(text: str) -> bool:
    return len(re.findall(r"^\s*```", text, flags=re.MULTILINE)) % 2 == 0


def test_a_section_that_fits_is_one_chunk_with_its_subheadings_in_the_text() -> None:
    chunks = chunk_markdown(RUNBOOK)
    assert len(chunks) == 1
    assert chunks[0].heading == "Postgres"
    assert "### Pool exhausted" in chunks[0].text and "## Disk" in chunks[0].text
    assert not chunks[0].text.startswith("# Postgres")  # the heading is in the path


def test_each_chunk_carries_its_heading_path() -> None:
    chunks = chunk_markdown(RUNBOOK, max_chars=60)
    assert [c.heading for c in chunks] == [
        "Postgres",
        "Postgres > Connections > Pool exhausted",
        "Postgres > Connections > Idle in transaction",
        "Postgres > Disk",
    ]
    assert chunks[1].text == "Symptoms: `sorry, too many clients already`."


def test_text_before_any_heading_has_an_empty_path_and_setext_headings_count() -> None:
    text = "Preface line.\n\nTitle\n=====\n\nBody one.\n\nPart\n----\n\nBody two.\n"
    chunks = chunk_markdown(text, max_chars=20)
    assert chunks == [
        Chunk("Preface line.", ""),
        Chunk("Body one.", "Title"),
        Chunk("Body two.", "Title > Part"),
    ]


def test_a_heading_inside_a_code_block_is_code() -> None:
    text = "# Redis\n\n```sh\n# flush the cache\nredis-cli FLUSHALL\n```\n"
    chunks = chunk_markdown(text)
    assert chunks == [Chunk("```sh\n# flush the cache\nredis-cli FLUSHALL\n```", "Redis")]


def test_a_code_block_is_never_split_mid_fence() -> None:
    code = "\n".join(f"SELECT {i} FROM pg_stat_activity;" for i in range(60))
    text = f"# Queries\n\nRun these:\n\n```sql\n{code}\n```\n\nThen look.\n"
    chunks = chunk_markdown(text, max_chars=300)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert _fences_balanced(chunk.text), chunk.text
    code_chunks = [c for c in chunks if "SELECT" in c.text]
    for chunk in code_chunks:  # each piece is fenced again as the original was
        assert re.search(r"^```sql\n(SELECT [^\n]*\n)+```$", chunk.text, flags=re.MULTILINE)
    # every line of the code is kept, once, in order
    lines = [line for c in code_chunks for line in c.text.splitlines() if "SELECT" in line]
    assert lines == code.splitlines()


def test_a_code_block_that_fits_stays_whole_with_its_blank_lines() -> None:
    text = "# A\n\nIntro.\n\n```yaml\na: 1\n\nb: 2\n```\n\nAfter.\n"
    chunks = chunk_markdown(text, max_chars=30)
    assert chunks == [Chunk("Intro.\n\n```yaml\na: 1\n\nb: 2\n```", "A"), Chunk("After.", "A")]


def test_an_unclosed_fence_runs_to_the_end_and_its_pieces_are_closed() -> None:
    text = "# Log\n\n```\n" + "\n".join(f"line {i} of the log output" for i in range(40))
    chunks = chunk_markdown(text, max_chars=200)
    assert len(chunks) > 1
    assert all(c.text.startswith("```\n") and c.text.endswith("\n```") for c in chunks)


def test_a_list_stays_with_its_intro_and_together() -> None:
    text = (
        "# Disk\n\nFree space first:\n\n- rotate logs\n- prune images\n  (old layers too)\n"
        "- delete dumps\n\n" + "Other notes. " * 20
    )
    chunks = chunk_markdown(text, max_chars=120)
    assert chunks[0] == Chunk(
        "Free space first:\n\n- rotate logs\n- prune images\n  (old layers too)\n- delete dumps",
        "Disk",
    )


def test_a_long_list_is_split_between_items() -> None:
    items = [f"{i}. check item number {i} carefully" for i in range(1, 31)]
    text = "# Checklist\n\n" + "\n".join(items) + "\n"
    chunks = chunk_markdown(text, max_chars=200)
    assert len(chunks) > 1
    rebuilt = [line for c in chunks for line in c.text.splitlines()]
    assert rebuilt == items
    for chunk in chunks:
        assert re.match(r"\d+\. ", chunk.text)


def test_a_list_item_with_a_code_block_keeps_the_block_with_the_item() -> None:
    text = (
        "# Steps\n\n- look at the pods:\n\n  ```sh\n  kubectl get pods\n\n  kubectl top pods\n"
        "  ```\n- then the nodes\n"
    )
    chunks = chunk_markdown(text)
    assert len(chunks) == 1
    assert "  kubectl get pods\n\n  kubectl top pods\n  ```\n- then the nodes" in chunks[0].text


def test_a_long_section_is_split_into_chunks_within_the_limit() -> None:
    sentences = [f"Sentence {i} says the replica lags behind the primary." for i in range(80)]
    text = (
        "# Replication\n\n## Lag\n\n" + " ".join(sentences[:40]) + "\n\n" + " ".join(sentences[40:])
    )
    chunks = chunk_markdown(text, max_chars=400)
    assert len(chunks) >= 8
    assert all(len(c.text) <= 400 for c in chunks)
    assert all(c.heading == "Replication > Lag" for c in chunks)
    words = " ".join(c.text for c in chunks).split()
    assert words == " ".join(sentences).split()


def test_a_word_longer_than_the_limit_is_cut() -> None:
    chunks = chunk_markdown("x" * 250, max_chars=100)
    assert [len(c.text) for c in chunks] == [100, 100, 50]


def test_front_matter_and_empty_sections_give_no_chunks() -> None:
    text = "---\ntitle: Runbook\n---\n# Empty\n\n## Also empty\n"
    assert chunk_markdown(text) == []
    assert chunk_markdown("") == []


_line = st.one_of(
    st.text(alphabet="abc xyz.!?-*#`123", min_size=0, max_size=80),
    st.sampled_from(["```", "```sh", "~~~", "# H1", "## H2", "### H3", "- item", "1. item", ""]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, max_size=60), st.integers(min_value=40, max_value=400))
def test_any_text_chunks_within_the_limit_and_loses_no_words(
    lines: list[str], max_chars: int
) -> None:
    lines = ["start", *lines]  # never front matter
    text = "\n".join(lines)
    chunks = chunk_markdown(text, max_chars=max_chars)
    for chunk in chunks:
        assert chunk.text.strip()
        # a fence line plus its closing can exceed a tiny limit; nothing else may
        assert len(chunk.text) <= max_chars or chunk.text.startswith(("```", "~~~"))
    kept = " ".join(c.heading + " " + c.text for c in chunks)
    # headings of sections with nothing in them leave no chunk: check the other lines
    underline = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
    body = "\n".join(
        line
        for i, line in enumerate(lines)
        if not line.lstrip().startswith("#")
        and not (i + 1 < len(lines) and underline.match(lines[i + 1]))
    )
    for word in re.findall(r"[a-z0-9]+", body):
        assert word in kept
