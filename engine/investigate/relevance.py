"""What bears on the question: the terms of a text, and how well texts match a query.

Used by the memory (which older messages to bring back) and by the evidence choice (which
parts of the files to show). A query is the question's terms, worth twice those of the
leading open hypotheses; identifiers (payments-db, v142, 13:58) count for more than words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from engine.investigate.result import Hypothesis

QUESTION_WEIGHT = 2.0  # the question outweighs the hypotheses
HYPOTHESES_FOR_RETRIEVAL = 3

_WORD = re.compile(r"[a-z0-9][a-z0-9_.:/-]*[a-z0-9]|[a-z0-9]")
_SPLIT = re.compile(r"[-_./:]")
_SUFFIXES = ("ments", "ment", "ing", "ed", "es", "s", "e")
_STOP_WORDS = """about above after again against all also and any are because been before being
    below between both but can could did does doing down during each few for from further had
    has have having here how into its just more most now off once only other our out over own
    same should some still such than that the their them then there these they this those
    through too under until very was were what when where which while who why will with would
    you your yes not see let get got one two think know look looking maybe seem like"""
_STOP = frozenset(_STOP_WORDS.split())


def _stem(word: str) -> str:
    """Crude, but enough for "deploy", "deployed", "deployment" to meet."""
    if any(c.isdigit() for c in word):
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    """Words and identifiers (payments-db, v142, 13:58), and the parts of identifiers."""
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        parts = [word, *_SPLIT.split(word)] if _SPLIT.search(word) else [word]
        for part in parts:
            if part in _STOP or (len(part) < 3 and not any(c.isdigit() for c in part)):
                continue
            found.add(_stem(part))
    return found


def is_identifier(term: str) -> bool:
    return any(c.isdigit() or c in "-_./:" for c in term)


def query(question: str, hypotheses: Iterable[Hypothesis]) -> dict[str, float]:
    """What makes an item relevant: the question's terms, then the terms of the leading
    hypotheses that are still open (a ruled-out one should not steer what is recalled)."""
    weights: dict[str, float] = {}
    leading = sorted(
        (h for h in hypotheses if h.status != "ruled_out"), key=lambda h: -h.confidence
    )[:HYPOTHESES_FOR_RETRIEVAL]
    for h in leading:
        for term in terms(f"{h.id} {h.component or ''} {h.statement}"):
            weights[term] = 1.0
    for term in terms(question):
        weights[term] = QUESTION_WEIGHT
    return weights


def ranked(texts: list[str], weights: dict[str, float]) -> list[tuple[float, int]]:
    """(score, index) of the texts that share terms with the query, best first. Terms found in
    many texts count for little; identifiers count for more than words."""
    bags = [terms(t) for t in texts]
    df = Counter(term for bag in bags for term in bag)
    scored = []
    for i, bag in enumerate(bags):
        score = sum(
            weight
            * math.log((len(bags) + 1) / (df[term] + 0.5))
            * (1.5 if is_identifier(term) else 1)
            for term, weight in weights.items()
            if term in bag
        )
        if score > 0:
            scored.append((score, i))
    return sorted(scored, key=lambda pair: (-pair[0], -pair[1]))
