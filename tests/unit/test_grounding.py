"""Grounding a model's citations: what the case holds is kept, loose forms are read as meant,
the rest is dropped and costs its hypothesis confidence."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from engine.core.models import Message
from engine.evidence.analyze import analyze
from engine.evidence.reports import Evidence
from engine.investigate.grounding import (
    UNGROUNDED_CAP,
    CaseSources,
    case_sources,
    ground,
    ground_hypotheses,
    parse_at,
    parse_line,
    parse_source,
)
from engine.investigate.json_reply import parse_reply
from engine.investigate.result import LLMCitation, LLMHypothesis, LLMTurn
from tests.samples import checkout_log
from tests.samples.incident import json_lines

LOG = checkout_log()
LINES = LOG.decode().splitlines()
# The first "connection pool exhausted" error, 1-based as the analyser counts.
POOL_LINE = next(i for i, line in enumerate(LINES, 1) if "pool exhausted" in line)
DAY = date(2026, 11, 21)


def evidence(name: str = "checkout.log", data: bytes = LOG) -> Evidence:
    report = analyze(name, data)
    return Evidence(
        id=1,
        case_id=1,
        source_id="F1",
        name=name,
        kind=report.kind,
        size_bytes=len(data),
        sha256=None,
        status="analysed",
        summary=f"{name}: a log",
        report=report,
        created_at=datetime(2026, 11, 21, 14, 30, tzinfo=UTC),
    )


def said(author: str, text: str) -> Message:
    return Message(
        id=1,
        case_id=1,
        ts="1.0",
        author=author,
        role="user",
        text=text,
        created_at=datetime(2026, 11, 21, 14, 20, tzinfo=UTC),
    )


def sources(*, content: bool = True) -> CaseSources:
    history = [said("U2", "payments-db looks healthy: pool at 12/50, token=[token:3f2a1b]")]
    return case_sources([evidence()], history, DAY, {1: LOG} if content else {})


def cite(**fields: object) -> LLMCitation:
    return LLMCitation.model_validate(fields)


@pytest.mark.parametrize(
    ("written", "read", "loose"),
    [
        (176, 176, False),
        ("176", 176, True),
        ("line 176", 176, True),
        ("L176", 176, True),
        ("#176", 176, True),
        ("lines 176-180", 176, True),
        ("1,234", 1234, True),
        ("near the top", None, True),
        (None, None, False),
    ],
)
def test_line_numbers_in_loose_forms(written: int | str | None, read: int, loose: bool) -> None:
    assert parse_line(written) == (read, loose)


@pytest.mark.parametrize(
    ("written", "name", "line"),
    [
        ("checkout.log", "checkout.log", None),
        ("checkout.log:176", "checkout.log", 176),
        ("checkout.log#L176", "checkout.log", 176),
        ("checkout.log line 176", "checkout.log", 176),
        ("checkout.log (line 176)", "checkout.log", 176),
        ("`checkout.log`", "checkout.log", None),
    ],
)
def test_file_line_sources(written: str, name: str, line: int | None) -> None:
    assert parse_source(written) == (name, line)


def test_a_time_of_day_takes_the_files_date() -> None:
    [log] = sources().files
    at, loose = parse_at("14:05", log, date(2030, 1, 1))
    assert at == datetime(2026, 11, 21, 14, 5, tzinfo=UTC) and loose
    at, loose = parse_at("2026-11-21T14:05:07Z", log, DAY)
    assert at == datetime(2026, 11, 21, 14, 5, 7, tzinfo=UTC) and not loose
    assert parse_at("14:05:07 UTC", None, DAY)[0] == datetime(2026, 11, 21, 14, 5, 7, tzinfo=UTC)
    assert parse_at("just before the deploy", log, DAY) == (None, True)


def test_loose_forms_pass_validation_without_a_repair() -> None:
    """What real models write: none of it may cost a repair call."""
    hypothesis = {
        "statement": "pool exhausted",
        "confidence": 0.8,
        "supporting": [
            {"source": "checkout.log", "text": "pool exhausted", "at": "14:05", "line": "L176"},
            {"source": "checkout.log:176", "text": "pool exhausted", "line": "line 176"},
            {"file": "checkout.log", "quote": "pool exhausted", "line": [176, 180]},
            "checkout.log:176: pool exhausted",
        ],
    }
    reply = {
        "response_type": "answer",
        "answer": "pool",
        "working_conclusion": "pool",
        "confidence": 0.8,
        "hypotheses": [hypothesis],
    }
    turn = parse_reply(json.dumps(reply), LLMTurn)
    cited = turn.hypotheses[0].supporting
    assert [c.line for c in cited] == ["L176", "line 176", 176, None]
    assert cited[0].at == "14:05"
    assert [c.reshaped for c in cited] == [False, False, True, True]


@pytest.mark.parametrize("content", [True, False], ids=["content", "report-only"])
@pytest.mark.parametrize(
    "citation",
    [
        {"source": "checkout.log", "text": "upstream payments-db: connection pool exhausted"},
        {"source": "checkout.log", "text": "connection pool exhausted", "line": POOL_LINE},
        {"source": "checkout.log", "text": "CONNECTION   pool exhausted", "line": POOL_LINE + 2},
        {"source": "checkout.log", "text": "40× ERROR upstream payments-db: connection pool"},
        {"source": "checkout.log", "text": "slow checkout of connection: <*>ms"},
        {
            "source": "logs/checkout.log",
            "text": "`upstream payments-db: connection pool exhausted`",
        },
    ],
    ids=["substring", "line", "near-line", "count-prefix", "template", "path"],
)
def test_what_the_file_holds_is_kept(citation: dict[str, object], content: bool) -> None:
    verdict = ground(cite(**citation), sources(content=content))
    assert verdict.citation is not None, verdict.why
    assert verdict.citation.source == "checkout.log"


def test_a_masked_value_in_the_quote_matches_the_raw_line() -> None:
    line = next(text for text in LINES if "GET /cart/" in text)
    raw = line.split("] ", 1)[1]  # "c.a.checkout.Api - GET /cart/1003 200 17ms"
    masked = raw.split("/cart/")[0] + "/cart/[token:3f2a1b] 200"
    assert ground(cite(source="checkout.log", text=masked), sources()).citation is not None
    elided = raw.split(" GET ")[0] + " GET ... 200"
    assert ground(cite(source="checkout.log", text=elided), sources()).citation is not None
    wrong = raw.split("/cart/")[0] + "/cart/[token:3f2a1b] 503"
    assert ground(cite(source="checkout.log", text=wrong), sources()).citation is None


def test_loose_forms_are_normalised() -> None:
    verdict = ground(
        cite(
            source="checkout.log",
            text="connection pool exhausted",
            line=f"line {POOL_LINE}",
            at="14:05",
        ),
        sources(),
    )
    assert verdict.normalised and verdict.citation is not None
    assert verdict.citation.line == POOL_LINE
    assert verdict.citation.at == datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
    bare = LLMCitation.model_validate(f"checkout.log:{POOL_LINE}: connection pool exhausted")
    verdict = ground(bare, sources())
    assert verdict.normalised and verdict.citation is not None
    assert (verdict.citation.source, verdict.citation.line) == ("checkout.log", POOL_LINE)
    exact = ground(cite(source="checkout.log", text="connection pool exhausted"), sources())
    assert not exact.normalised
    assert exact.citation is not None and exact.citation.line == POOL_LINE  # found, so filled


@pytest.mark.parametrize(
    ("citation", "why"),
    [
        (
            {"source": "nonexistent.log", "text": "connection pool exhausted", "line": 99999},
            "not a file or message of this case",
        ),
        (
            {"source": "checkout.log", "text": "deadlock detected on table orders", "line": 12},
            "not in checkout.log",
        ),
        (
            {"source": "checkout.log", "text": "connection pool exhausted", "line": 1},
            f"line 1 does not hold it (line {POOL_LINE} does)",
        ),
        ({"source": "checkout.log", "text": "ERROR"}, "quote too short"),
        ({"source": "thread", "text": "we rolled back checkout v141"}, "no message"),
    ],
    ids=["unknown-file", "invented-line", "wrong-line", "too-short", "unsaid"],
)
def test_what_the_case_does_not_hold_is_dropped(citation: dict[str, object], why: str) -> None:
    verdict = ground(cite(**citation), sources())
    assert verdict.citation is None and why in verdict.why


def test_without_content_a_line_past_the_end_is_refuted() -> None:
    verdict = ground(
        cite(source="checkout.log", text="connection pool exhausted", line=99999),
        sources(content=False),
    )
    assert verdict.citation is None and "not 99999" in verdict.why


def test_messages_people_wrote_are_sources() -> None:
    verdict = ground(
        cite(source="thread (U2)", text="pool at 12/50, token=[token:999999]"), sources()
    )
    assert verdict.citation is not None and verdict.citation.source == "thread (U2)"
    assert verdict.citation.at == datetime(2026, 11, 21, 14, 20, tzinfo=UTC)
    assert ground(cite(source="U2", text="payments-db looks healthy"), sources()).citation


def test_dropped_citations_lower_the_confidence_and_are_listed() -> None:
    real = {"source": "checkout.log", "text": "connection pool exhausted"}
    fake = {"source": "nonexistent.log", "text": "OOM killer invoked", "line": 99999}
    hypotheses = [
        LLMHypothesis.model_validate(
            {"statement": "pool", "confidence": 0.9, "supporting": [real, fake]}
        ),
        LLMHypothesis.model_validate(
            {"statement": "oom", "confidence": 0.9, "supporting": [fake], "contradicting": [fake]}
        ),
        LLMHypothesis.model_validate({"statement": "dns", "confidence": 0.3}),
    ]
    grounded, check = ground_hypotheses(hypotheses, sources())
    assert (check.kept, len(check.dropped)) == (1, 3)
    assert {d.source for d in check.dropped} == {"nonexistent.log"}
    assert check.dropped[0].hypothesis == "pool" and check.dropped[0].line == 99999
    assert grounded[0].confidence(0.9) == pytest.approx(0.72)  # one of two proofs invented
    assert grounded[1].confidence(0.9) == UNGROUNDED_CAP  # all of its proof invented
    assert grounded[2].confidence(0.3) == 0.3
    assert len(grounded[0].supporting) == 1 and not grounded[1].contradicting


def test_lines_as_the_prompt_shows_them_are_kept() -> None:
    """The prompt numbers lines ("L133>> ...") and shows a JSON record as time, level, source
    and message: a model quoting that is quoting the file."""
    marked = ground(
        cite(source="checkout.log", text=f"L{POOL_LINE}>> {LINES[POOL_LINE - 1]}"), sources()
    )
    assert marked.citation is not None and marked.normalised
    assert marked.citation.line == POOL_LINE
    assert marked.citation.text == LINES[POOL_LINE - 1]

    data = json_lines("payments", seed=2)
    rows = data.decode().splitlines()
    number = next(i for i, row in enumerate(rows, 1) if '"error"' in row)
    message = json.loads(rows[number - 1])["msg"]
    item = evidence("payments.jsonl", data)
    found = case_sources([item], [], DAY, {1: data})
    rendered = f"L{number} 2026-11-21T14:05:00.728Z error [payments] {message}"
    verdict = ground(cite(source="payments.jsonl", text=rendered, line=number), found)
    assert verdict.citation is not None, verdict.why
    wrong = f"2026-11-21T14:05:00.728Z error [payments] {message.replace('pool', 'cache')}"
    assert ground(cite(source="payments.jsonl", text=wrong, line=number), found).citation is None
