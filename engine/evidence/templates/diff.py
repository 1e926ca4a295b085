"""How two tokens of the same position differ, for the template miner.

Two messages can share a template only where they differ in values. Here a difference is
first trimmed to what really differs ("user=root" vs "user=ftp" differ in "root" vs "ftp"),
then judged by its shape: digits, a wildcard or punctuation inside a word ("node7",
"ns.example.com") make a value; a plain word ("opened"/"closed"), an upper-case word (a state
such as RUNNING) or punctuation ("address:" vs "address") make a different event.
"""

from __future__ import annotations

import re

from engine.evidence.templates.tokens import VAR

_CAPS = re.compile(r"[A-Z][A-Z_]*[A-Z]")
_LETTERS = re.compile(r"[A-Za-z]*")


def is_state_word(token: str) -> bool:
    """Upper-case words (RUNNING, LOOKING, TASK_ABORT) name states and kinds, not values."""
    return _CAPS.fullmatch(token) is not None


def _inner(ch: str) -> bool:
    return ch.isalnum() or ch == VAR


def split_common(a: str, b: str) -> tuple[str, str, str, str]:
    """(prefix, middle of a, middle of b, suffix): the common ends, cut at punctuation so a
    word or value is never split ("user=root"/"user=ftp" -> "user=", "root", "ftp", "")."""
    limit = min(len(a), len(b))
    n = 0
    while n < limit and a[n] == b[n]:
        n += 1
    while (
        n and _inner(a[n - 1]) and ((n < len(a) and _inner(a[n])) or (n < len(b) and _inner(b[n])))
    ):
        n -= 1
    ra, rb = a[n:], b[n:]
    limit = min(len(ra), len(rb))
    m = 0
    while m < limit and ra[-1 - m] == rb[-1 - m]:
        m += 1
    while (
        m
        and _inner(ra[-m])
        and ((m < len(ra) and _inner(ra[-m - 1])) or (m < len(rb) and _inner(rb[-m - 1])))
    ):
        m -= 1
    return a[:n], ra[: len(ra) - m], rb[: len(rb) - m], ra[len(ra) - m :]


def _value_like(middle: str) -> bool:
    if VAR in middle or any(c.isdigit() for c in middle):
        return True
    if not any(c.isalnum() for c in middle) or is_state_word(middle):
        return False  # punctuation changes the event; upper-case words are states
    return not _LETTERS.fullmatch(middle)  # "ns.example.com" is a value, "opened" a word


def may_differ(a: str, b: str) -> bool:
    """Whether two differing middles can be values of the same event (one may be empty)."""
    if _value_like(a):
        return b == "" or _value_like(b)
    return a == "" and _value_like(b)


def generalise(a: str, b: str) -> str:
    """One template token for both: the common ends around a wildcard."""
    prefix, _, _, suffix = split_common(a, b)
    # A wildcard next to a wildcard adds nothing ("<*>:amd64" and "<*>" give "<*>").
    return prefix.removesuffix(VAR) + VAR + suffix.removeprefix(VAR)
