"""Read the JSON object out of an LLM reply, however it was wrapped.

Models asked for "only JSON" still add code fences, a sentence before or after, or a reasoning
block. `extract_json` finds the object; `parse_reply` validates it against a pydantic model and
turns any failure into a short reason that can be sent back to the model in a repair turn.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

MAX_REASON_CHARS = 400
# Each candidate start may scan to the end of the text; bound the work on brace-heavy prose.
_MAX_STARTS = 64

_FENCE = re.compile(r"```[ \t]*(?:json[c5]?|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


class ReplyError(ValueError):
    """The reply holds no usable object; `reason` is short enough to show the model."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract_json(text: str) -> object:
    """The JSON value in `text`: the whole text, a fenced block, or the first complete object.

    Raises ReplyError (a ValueError) saying why nothing usable was found.
    """
    text = _THINK.sub("", text).strip()
    if not text:
        raise ReplyError("the reply is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for fenced in _FENCE.findall(text):
        try:
            return json.loads(fenced.strip())
        except json.JSONDecodeError:
            continue  # the bracket scan below still looks inside the fence
    return _first_object(text)


def _first_object(text: str) -> object:
    problem = "no JSON object in the reply"
    pos = 0
    for _ in range(_MAX_STARTS):
        start = text.find("{", pos)
        if start < 0:
            break
        end = _closing_brace(text, start)
        if end < 0:
            problem = (
                "the JSON object never closes (was the reply cut off?)"
                if end == _UNCLOSED
                else "the JSON object's brackets do not match"
            )
            pos = start + 1  # maybe a stray brace in prose; try the next one
            continue
        try:
            return json.loads(text[start : end + 1])
        except json.JSONDecodeError as exc:
            problem = f"the JSON object is not valid JSON: {exc.msg} at character {exc.pos}"
            pos = end + 1  # skip the whole span so an inner object is never taken for it
    raise ReplyError(problem)


_UNCLOSED, _MISMATCHED = -1, -2


def _closing_brace(text: str, start: int) -> int:
    """Index of the bracket closing the one at `start`, skipping brackets inside strings;
    _UNCLOSED or _MISMATCHED when there is none."""
    stack: list[str] = []
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return _MISMATCHED
            if not stack:
                return i
    return _UNCLOSED


def parse_reply(text: str, model_cls: type[T]) -> T:
    """Extract and validate; ReplyError carries a short summary fit for a repair prompt."""
    data = extract_json(text)
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise ReplyError(summarize_validation(exc)) from exc


def summarize_validation(exc: ValidationError, limit: int = MAX_REASON_CHARS) -> str:
    """`field.path: message` per error, joined, cut to about `limit` characters."""
    parts = []
    for error in exc.errors(include_url=False):
        path = _path(error.get("loc", ()))
        parts.append(f"{path}: {error['msg']}" if path else str(error["msg"]))
    summary = "; ".join(parts)
    if len(summary) <= limit:
        return summary
    kept: list[str] = []
    for part in parts:
        if len("; ".join([*kept, part])) > limit - 20:
            break
        kept.append(part)
    if not kept:
        return summary[: limit - 1] + "…"
    return "; ".join(kept) + f"; (+{len(parts) - len(kept)} more)"


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
