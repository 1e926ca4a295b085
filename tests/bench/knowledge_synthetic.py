"""Generated knowledge chunks for the scale part of bench_knowledge.py.

Embedding 100k chunks with MiniLM on 2 CPUs takes far too long, so the embeddings are
synthetic. They are clustered, not uniform noise: cluster centres are real corpus chunk
embeddings pushed a random way (cosine ~0.9 to the chunk), and each generated chunk is its
centre plus noise (cosine ~0.8 to the centre), so they live in the model's space around the
places real queries land. The noise follows the covariance of the corpus's own embeddings
(the top 10 principal directions carry ~40% of the variance, the top 100 ~93%), as variation
between real texts does. Isotropic noise would spread every cluster over all 384 dimensions,
a much harder nearest-neighbour problem than text embeddings pose: with it, HNSW recall@10 at
100k chunks was 0.63 at ef_search 40 (0.88 with the corpus covariance).

The text of a generated chunk is lines of its centre's corpus chunk plus a line or two of
other chunks, with service names and digits varied: the vocabulary and its frequencies are the
corpus's, so full-text matches over 100k chunks touch realistically many rows.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SERVICES = (
    "checkout", "payments", "orders", "search", "billing", "inventory", "auth", "cart",
    "ledger", "notifications", "shipping", "catalog", "pricing", "reports", "gateway",
    "profile", "reviews", "fraud", "recommendations", "media",
)  # fmt: skip
_SERVICE = re.compile(r"\b(" + "|".join(SERVICES) + r")\b")
_DIGIT = re.compile(r"\d")
CENTRE_SHIFT = 0.5  # norm of the push from a corpus chunk to a centre: cosine ~0.89
POINT_NOISE = 0.75  # norm of a chunk's noise around its centre: cosine ~0.8


@dataclass(frozen=True)
class SourceChunk:
    heading: str
    text: str
    embedding: NDArray[np.float32]


@dataclass
class Generated:
    headings: list[str]
    texts: list[str]
    embeddings: NDArray[np.float32]  # (n, dim), L2-normalised


def _unit(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


def noise_basis(embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows B such that z @ B, z standard normal, has the covariance of `embeddings` scaled to
    an expected squared norm of 1."""
    centred = embeddings - embeddings.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    scale = np.sqrt(np.sum(singular**2))
    return (singular[:, None] * directions / scale).astype(np.float32)


def _noise(
    rng: np.random.Generator, n: int, basis: NDArray[np.float32], norm: float
) -> NDArray[np.float32]:
    """n draws of the corpus-shaped noise, of about `norm` length."""
    return (rng.standard_normal((n, basis.shape[0])).astype(np.float32) @ basis * norm).astype(
        np.float32
    )


def generate(
    sources: list[SourceChunk], n: int, *, clusters: int = 2000, seed: int = 7
) -> Generated:
    """`n` chunks in `clusters` clusters around the `sources` (real corpus chunks)."""
    rng = np.random.default_rng(seed)
    digits = random.Random(seed)
    base = np.stack([s.embedding for s in sources]).astype(np.float32)
    basis = noise_basis(base)
    centre_source = rng.integers(0, len(sources), size=clusters)
    centres = _unit(base[centre_source] + _noise(rng, clusters, basis, CENTRE_SHIFT))
    # Cluster sizes vary like topics do: a few big ones, many small ones.
    weights = rng.pareto(1.5, size=clusters) + 1.0
    cluster_of = rng.choice(clusters, size=n, p=weights / weights.sum())
    embeddings = _unit(centres[cluster_of] + _noise(rng, n, basis, POINT_NOISE))

    lines = [[ln for ln in s.text.splitlines() if ln.strip()] or [s.text] for s in sources]
    headings: list[str] = []
    texts: list[str] = []
    for i in range(n):
        origin = int(centre_source[cluster_of[i]])
        own = lines[origin]
        keep = max(1, int(len(own) * rng.uniform(0.5, 1.0)))
        start = int(rng.integers(0, len(own) - keep + 1))
        body = own[start : start + keep]
        for _ in range(int(rng.integers(1, 3))):
            other = lines[int(rng.integers(0, len(lines)))]
            line = other[int(rng.integers(0, len(other)))]
            body.insert(int(rng.integers(0, len(body) + 1)), line)
        service = SERVICES[int(rng.integers(0, len(SERVICES)))]
        text = "\n".join(body)
        text = _SERVICE.sub(service, text)
        text = _DIGIT.sub(lambda _: digits.choice("0123456789"), text)
        texts.append(text)
        headings.append(sources[origin].heading)
    return Generated(headings, texts, embeddings)
