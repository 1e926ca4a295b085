"""Reading the JSON object out of LLM replies, however the model wrapped it."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from engine.investigate.json_reply import ReplyError, extract_json, parse_reply
from engine.investigate.result import LLMTurn

TURN = {
    "response_type": "answer",
    "answer": "payments-db pool is exhausted",
    "working_conclusion": "connection pool exhaustion on payments-db",
    "confidence": 0.7,
}


class Point(BaseModel):
    x: int
    y: int


def test_plain_json() -> None:
    assert extract_json('{"a": 1, "b": [1, 2]}') == {"a": 1, "b": [1, 2]}
    assert extract_json("  [1, 2]\n") == [1, 2]


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"a": {"b": 2}}\n```',
        '```\n{"a": {"b": 2}}\n```',
        'Here you go:\n```json\n{"a": {"b": 2}}\n```\nHope this helps!',
        '```JSON {"a": {"b": 2}} ```',
    ],
    ids=["json-fence", "bare-fence", "prose-around-fence", "same-line-fence"],
)
def test_code_fences(text: str) -> None:
    assert extract_json(text) == {"a": {"b": 2}}


def test_prose_before_and_after() -> None:
    text = 'Sure! Based on the logs:\n{"a": 1, "b": {"c": [3]}}\nLet me know if you need more.'
    assert extract_json(text) == {"a": 1, "b": {"c": [3]}}


def test_braces_and_quotes_inside_strings_do_not_confuse_the_scan() -> None:
    inner = {"cmd": 'kubectl get pods -o jsonpath="{.items[*]}" }}', "note": 'a \\" b } {'}
    text = "Answer follows " + json.dumps(inner) + " and then {more prose}"
    assert extract_json(text) == inner


def test_the_first_complete_object_wins() -> None:
    assert extract_json('first {"n": 1} then {"n": 2}') == {"n": 1}


def test_braces_in_prose_before_the_object_are_skipped() -> None:
    assert extract_json('Use {service} as the key. {"n": 1}') == {"n": 1}
    assert extract_json('An unclosed { brace, then {"n": 1}') == {"n": 1}


def test_an_invalid_outer_object_is_not_replaced_by_an_inner_one() -> None:
    with pytest.raises(ReplyError, match="not valid JSON"):
        extract_json('{"outer": {"inner": 1}, }')


def test_reasoning_blocks_are_ignored() -> None:
    assert extract_json('<think>maybe {"n": 0}?</think>\n{"n": 1}') == {"n": 1}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the reply is empty"),
        ("   \n", "the reply is empty"),
        ("The pool is exhausted, restart it.", "no JSON object in the reply"),
        ('{"a": 1, "b": [1, 2', "never closes"),
        ('{"a": [1, 2}', "brackets do not match"),
        ("{'a': 1}", "not valid JSON"),
    ],
)
def test_no_json_says_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        extract_json(text)
    assert isinstance(info.value, ReplyError) and len(info.value.reason) < 120


def test_parse_reply_validates() -> None:
    point = parse_reply('```json\n{"x": 1, "y": 2}\n```', Point)
    assert point == Point(x=1, y=2)


def test_validation_errors_name_the_fields() -> None:
    bad = {**TURN, "confidence": 150, "response_type": "shrug"}
    bad.pop("answer")
    bad["hypotheses"] = [{"confidence": 0.5}]
    with pytest.raises(ReplyError) as info:
        parse_reply(json.dumps(bad), LLMTurn)
    reason = info.value.reason
    assert "response_type: Input should be 'answer'" in reason
    assert "answer: Field required" in reason
    assert "confidence: Input should be less than or equal to 1" in reason
    assert "hypotheses[0].statement: Field required" in reason
    assert len(reason) <= 400


def test_many_validation_errors_are_cut_short() -> None:
    many = {"hypotheses": [{"confidence": "high"} for _ in range(30)]}
    with pytest.raises(ReplyError) as info:
        parse_reply(json.dumps(many), LLMTurn)
    reason = info.value.reason
    assert len(reason) <= 400
    assert reason.startswith("response_type: Field required")
    assert reason.endswith("more)")


def test_a_json_value_that_is_not_an_object_fails_validation() -> None:
    with pytest.raises(ReplyError, match="valid dictionary"):
        parse_reply("[1, 2]", Point)


@pytest.mark.parametrize(("written", "read"), [("85%", 0.85), (85, 0.85), ("0.4", 0.4)])
def test_llm_turn_reads_percentages_as_fractions(written: object, read: float) -> None:
    hypothesis = {"statement": "pool exhaustion", "confidence": written}
    text = "Result:\n" + json.dumps({**TURN, "confidence": written, "hypotheses": [hypothesis]})
    turn = parse_reply(text, LLMTurn)
    assert turn.confidence == pytest.approx(read)
    assert turn.hypotheses[0].confidence == pytest.approx(read)
