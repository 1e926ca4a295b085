"""KnowledgeBase: what the rest of the engine uses of knowledge, with the embedding model
loaded once, lazily, and only when there is something to embed or search.

Every method here embeds, so callers are workers, the shell or the CLI: never a Slack
listener (it must ack within 3 seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from psycopg_pool import AsyncConnectionPool

from engine.core.config import Settings
from engine.core.redact import Redactor
from engine.knowledge.documents import ImportResult, import_document
from engine.knowledge.embed import Embedder, load_embedder, model_name
from engine.knowledge.search import Hit, bounded, search
from engine.knowledge.starter import prepare_knowledge
from engine.knowledge.votes import Verdict
from engine.store import knowledge as knowledge_store
from engine.store import knowledge_votes
from engine.store.knowledge import Tier

CASE_SOURCE_PREFIX = "case:"
QUERY_CACHE_SIZE = 64
PREPARATION_WAIT_S = 5.0


def case_source(case_id: int) -> str:
    """The source of a case's postmortem document: one document per case, versioned."""
    return f"{CASE_SOURCE_PREFIX}{case_id}"


def case_id_of(source: str) -> int | None:
    rest = source.removeprefix(CASE_SOURCE_PREFIX)
    return int(rest) if rest != source and rest.isdigit() else None


def text_source(text: str) -> str:
    """A pasted note's source: its content, so pasting it again finds the same document."""
    return "note:" + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


class QueryCache:
    """An embedder that remembers its last single-text embeddings: a turn searches past
    cases and runbooks with the same query, and the model should not run twice for it."""

    def __init__(self, inner: Embedder, size: int = QUERY_CACHE_SIZE) -> None:
        self.inner = inner
        self.name = model_name(inner)
        self.dimension = inner.dimension
        self.size = size
        self._vectors: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()  # searches embed in threads, several jobs at once

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if len(texts) != 1:
            return self.inner.embed(texts)
        text = texts[0]
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = self.inner.embed(texts)
        self._keep(text, vector)
        return vector

    def prime(self, texts: list[str]) -> None:
        """Embed the texts not remembered yet in one call of the model: a turn's related
        knowledge searches a dozen short queries, and a batch costs little more than one."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if not missing:
            return
        vectors = self.inner.embed(missing)
        for i, text in enumerate(missing[-self.size :]):
            self._keep(text, vectors[i : i + 1])

    def _keep(self, text: str, vector: NDArray[np.float32]) -> None:
        with self._lock:
            self._vectors[text] = vector
            if len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


@dataclass(frozen=True)
class KnowledgeStats:
    documents: dict[str, int]  # per tier
    chunks: int
    helpful: int
    outdated: int


class KnowledgeBase:
    def __init__(
        self, pool: AsyncConnectionPool, settings: Settings, embedder: Embedder | None = None
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.redactor = Redactor(mask_ips=settings.redact_ips)
        self._embedder = embedder
        self._loading = asyncio.Lock()
        self._queries: QueryCache | None = None
        self._prepared = asyncio.Event()  # cleared while prepare() runs
        self._prepared.set()

    async def embedder(self) -> Embedder:
        """The embedding model, loaded (in a thread, seconds) at its first use."""
        async with self._loading:
            if self._embedder is None:
                self._embedder = await asyncio.to_thread(
                    load_embedder, self.settings.embedding_model
                )
        return self._embedder

    async def prepare(self) -> None:
        """At a worker's start: load the starter runbooks (unless disabled) and re-embed
        chunks of another model; keep the model if that loaded it. Safe in every worker at
        once: imports of the same document take turns and store it once."""
        self._prepared.clear()
        try:
            embedder = await prepare_knowledge(self.pool, self.settings, embedder=self._embedder)
            if self._embedder is None:
                self._embedder = embedder
        finally:
            self._prepared.set()

    async def is_empty(self) -> bool:
        """No chunk to search: callers skip loading the model for nothing. A preparation
        under way (the starter runbooks at a first start) gets a few seconds to finish, so
        the first cases are shown their runbooks, but never holds a turn for long."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._prepared.wait(), PREPARATION_WAIT_S)
        return not await knowledge_store.has_chunks(self.pool)

    async def add(
        self,
        *,
        title: str,
        source: str,
        text: str,
        tier: Tier,
        channel_id: str | None = None,
        tags: Sequence[str] = (),
        link: str | None = None,
    ) -> ImportResult:
        return await import_document(
            self.pool,
            await self.embedder(),
            title=title,
            source=source,
            text=text,
            tier=tier,
            channel_id=channel_id,
            tags=tags,
            link=link,
            redactor=self.redactor,
        )

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        tiers: Sequence[str] | None = None,
        channel_id: str | None = None,
        per_document: int | None = 1,
    ) -> list[Hit]:
        """Hybrid search weighed by Helpful / Outdated; nothing (and no model load) when
        there is no knowledge yet."""
        if not query.strip() or await self.is_empty():
            return []
        return await search(
            self.pool,
            await self._query_cache(),
            query,
            k=k,
            tiers=tiers,
            channel_id=channel_id,
            per_document=per_document,
        )

    async def prime(self, queries: Sequence[str]) -> None:
        """Embed queries about to be searched in one model call (see QueryCache.prime)."""
        texts = [bounded(q) for q in queries if q.strip()]  # as search() embeds them
        if not texts or await self.is_empty():
            return
        cache = await self._query_cache()
        await asyncio.to_thread(cache.prime, texts)

    async def _query_cache(self) -> QueryCache:
        embedder = await self.embedder()
        if self._queries is None or self._queries.inner is not embedder:
            self._queries = QueryCache(embedder)
        return self._queries

    async def vote(
        self, document_id: int, user_id: str, verdict: Verdict, *, case_id: int | None = None
    ) -> tuple[int, int] | None:
        """Record a verdict; the document's (helpful, outdated) after it, None if it is gone."""
        if not await knowledge_votes.record(
            self.pool, document_id=document_id, user_id=user_id, verdict=verdict, case_id=case_id
        ):
            return None
        tally = await knowledge_votes.tally(self.pool, document_id)
        return tally.helpful, tally.outdated

    async def tags(self, document_ids: list[int]) -> dict[int, list[str]]:
        if not document_ids:
            return {}
        return await knowledge_store.document_tags(self.pool, document_ids)

    async def stats(self) -> KnowledgeStats:
        documents = await knowledge_store.documents_per_tier(self.pool)
        totals = await knowledge_store.totals(self.pool)
        return KnowledgeStats(documents, totals.chunks, totals.helpful, totals.outdated)
