"""How outcomes are asked for and shown: the close summary's grade and "It helped" buttons
(read back as requests), and the accuracy figures of `/faultmaven stats` and App Home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import parsing
from bot.blocks import render
from bot.home_view import home_view
from bot.ids import ActionId
from engine.cases.accuracy import describe_accuracy, summarize
from engine.core.replies import CaseClosedReply, HelpedOption, OutcomePrompt
from engine.store.outcomes import GradedCase

OPENED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
LINK = "https://slack.example/t/3"


def click(button: dict[str, Any], channel: str = "C1") -> dict[str, Any]:
    return {
        "user": {"id": "U9"},
        "channel": {"id": channel},
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
    }


def closed_reply() -> CaseClosedReply:
    return CaseClosedReply(
        case_id=12,
        title="checkout 502s",
        text="✅ Case #12 resolved.",
        outcome=OutcomePrompt(
            hypothesis_key="tls:payments",
            statement="TLS handshake or certificate problem in payments",
            helped=[
                HelpedOption(document_id=7, kind="runbook", title="TLS and certificates"),
                HelpedOption(document_id=9, kind="case", title="Case #3: cert expired", link=LINK),
            ],
        ),
    )


def test_the_close_summary_grades_in_one_click_and_reads_back() -> None:
    blocks = render(closed_reply())["blocks"]
    [grade] = [b for b in blocks if b.get("block_id") == "outcome-grade"]
    labels = [e["text"]["text"] for e in grade["elements"]]
    assert labels == ["Root cause", "Contributing", "Only a symptom", "Wrong"]
    wrong = grade["elements"][3]
    request = parsing.outcome_request(click(wrong))
    assert request is not None
    assert (request.case_id, request.verdict, request.hypothesis_key) == (
        12,
        "wrong",
        "tls:payments",
    )
    assert request.channel_id == "C1" and request.user == "U9"

    helped = [b for b in blocks if str(b.get("block_id", "")).startswith("outcome-helped:")]
    assert [b["text"]["text"] for b in helped] == [
        "Runbook: TLS and certificates",
        "Past case: <https://slack.example/t/3|Case #3: cert expired>",
    ]
    request = parsing.outcome_request(click(helped[1]["accessory"]))
    assert request is not None
    assert (request.case_id, request.document_id, request.verdict) == (12, 9, None)
    assert helped[1]["accessory"]["action_id"] == ActionId.OUTCOME_HELPED


def test_a_forged_outcome_value_is_no_request() -> None:
    bad = {"action_id": ActionId.OUTCOME_ROOT_CAUSE.value, "value": "twelve|x"}
    assert parsing.outcome_request(click(bad)) is None
    no_case = {"action_id": ActionId.OUTCOME_HELPED.value, "value": "7|"}
    assert parsing.outcome_request(click(no_case)) is None


def test_a_close_without_anything_to_grade_has_no_buttons() -> None:
    reply = closed_reply().model_copy(update={"outcome": None})
    assert not [b for b in render(reply)["blocks"] if b["type"] == "actions"]


def graded(
    n: int,
    verdict: str,
    signature: str | None,
    *,
    first_lead: bool = True,
    minutes: float = 10,
    reopened: int = 0,
) -> GradedCase:
    grades = {"root_cause": 100, "contributing": 65, "symptom": 35, "wrong": 0}
    key = f"{signature}:svc"
    return GradedCase(
        case_id=n,
        verdict=verdict,
        grade=grades[verdict],
        signature=signature,
        hypothesis_key=key,
        first_lead_key=key if first_lead else "other:svc",
        opened_at=OPENED,
        first_seen_at=OPENED + timedelta(minutes=minutes),
        reopened=reopened,
    )


def test_the_figures_count_first_guesses_time_and_wrong_signatures() -> None:
    stats = summarize(
        "T1",
        6,
        [
            graded(1, "root_cause", "tls", minutes=4),
            graded(2, "root_cause", "tls", first_lead=False, minutes=30),
            graded(3, "wrong", "http-5xx", reopened=1),
            graded(4, "symptom", "http-5xx"),
            graded(5, "contributing", None),
        ],
    )
    assert (stats.closed, stats.graded, stats.first_right, stats.right_at_close) == (6, 5, 1, 2)
    assert stats.first_right_share == 0.2 and stats.right_at_close_share == 0.4
    assert stats.median_minutes_to_right == 17.0
    assert stats.mean_grade == 60.0 and stats.reopened == 1
    assert [(s.signature, s.wrong, s.graded) for s in stats.signatures][:1] == [("http-5xx", 2, 2)]

    text = describe_accuracy(stats)
    assert "6 closed cases, 5 graded" in text
    assert "First hypothesis right: *1/5* (20%)" in text
    assert "Median time to the right hypothesis: *17 min*" in text
    assert "Gets wrong: `http-5xx` 2/2" in text
    assert len(text.splitlines()) <= 6  # short and scannable

    home = str(home_view([], accuracy=stats))
    assert "How right FaultMaven was" in home and "First hypothesis right" in home


def test_no_graded_case_says_how_to_grade() -> None:
    text = describe_accuracy(summarize("T1", 3, []))
    assert "none graded yet" in text and "close summary" in text
