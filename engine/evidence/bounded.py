"""Parsing untrusted text with bounds: nesting depth, integer size, and recursion.

Every reader gets files from people who are not trying to help it. The standard parsers
recurse once per nesting level (JSON, TOML, YAML) and convert integers of any length, so
`[[[[…` a few thousand deep, or one 100,001-digit number, raised RecursionError or ValueError
out of the analysis instead of a line the user can act on. Here, such input is a `TooComplex`
(a ValueError, like a syntax error) whose message says which bound it broke.
"""

from __future__ import annotations

import json
import re
import tomllib
from itertools import accumulate
from typing import Any

MAX_NESTING = 200  # real configs and telemetry nest a few dozen levels at most
MAX_INT_DIGITS = 4300  # Python's own limit for int(str); longer integers stay text


class TooComplex(ValueError):
    """Input a parser must not be given: too deep, or a value too large to convert."""


# A double-quoted string, escapes included. One character per step: a `+` inside the `*`
# would backtrack exponentially on a string that never closes.
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside double-quoted strings, in time linear in `text`.

    It runs before a recursive parser is given the text. Close enough for JSON, TOML and YAML
    flow style: it only has to be right for input that nests deeply.
    """
    if text.count("[") + text.count("{") <= MAX_NESTING:  # nearly every file: no scan at all
        return 0
    brackets = _BRACKETS.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets), initial=0))


def _too_deep() -> TooComplex:
    return TooComplex(f"nested deeper than {MAX_NESTING:,} levels")


def check_nesting(text: str) -> None:
    if nesting_depth(text) > MAX_NESTING:
        raise _too_deep()


def _integer(digits: str) -> int | str:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        return f"<integer of {len(digits.lstrip('-')):,} digits>"
    return int(digits)


def load_json(text: str, **options: Any) -> Any:
    """json.loads within the bounds above; `options` as json.loads takes them."""
    check_nesting(text)
    try:
        return json.loads(text, parse_int=_integer, **options)
    except RecursionError:  # nesting the scan could not see (it stops at the limit)
        raise _too_deep() from None


def load_toml(text: str) -> dict[str, Any]:
    """tomllib.loads within the bounds above."""
    check_nesting(text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # int() of a number past Python's digit limit
        raise TooComplex(f"a number longer than {MAX_INT_DIGITS:,} digits") from None
