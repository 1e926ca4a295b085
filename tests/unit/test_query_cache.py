"""A turn searches past cases and runbooks with one query: the model embeds it once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from engine.knowledge.base import QueryCache


class Counting:
    name = "counting"
    dimension = 2

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        self.seen.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_a_query_is_embedded_once_and_batches_are_not_cached() -> None:
    inner = Counting()
    cache = QueryCache(inner, size=2)
    first = cache.embed(["pool exhausted"])
    again = cache.embed(["pool exhausted"])
    assert np.array_equal(first, again) and inner.seen == [["pool exhausted"]]
    cache.embed(["a", "b"])
    cache.embed(["a", "b"])
    assert inner.seen[1:] == [["a", "b"], ["a", "b"]]
    assert cache.name == "counting" and cache.dimension == 2


def test_the_oldest_query_is_forgotten_first() -> None:
    inner = Counting()
    cache = QueryCache(inner, size=2)
    for text in ("one", "two", "one", "three", "two"):
        cache.embed([text])
    # "one" was used again before "three" came, so "two" was the one to go.
    assert [batch[0] for batch in inner.seen] == ["one", "two", "three", "two"]
