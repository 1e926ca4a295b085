"""Fusion variants of knowledge search, compared by cross-validation over the TUNE queries of
both corpora, offline, from the halves that tests/bench/knowledge_fusion_dump.py saved.

Run: .venv/bin/python tests/bench/knowledge_fusion_cv.py [--dump /tmp/knowledge_fusion.pkl]
     [--misses VARIANT]

Each variant is a family of document scorers with a parameter grid. For each family, 5-fold
cross-validation over the pooled tune queries picks the parameters on four folds (best MRR,
the first of equals in grid order: grids list the simpler settings first) and measures them
on the fifth; repeated over several shuffles of the folds (the first is the bench's: seed 17)
so that one lucky split does not choose. Printed per family: held-out MRR and R@1 (mean over
the shuffles), the bench's split alone, and the best in-sample MRR for reference.

A document's halves, as search.py's rank_documents takes them: T its best chunk's BM25 over
`ideal` (0 when no chunk holds a query word), V its best chunk's cosine among the 100 nearest
chunks (0 when none is); T2 / V2 the second best chunk's. C, the text half's coverage of the
query: the share of the query words' IDF that the document's best text chunk holds.
"""

from __future__ import annotations

import argparse
import math
import pickle
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

FOLDS = 5
SEEDS = (17, 1, 2, 3, 4, 5, 6, 7, 8, 9)
VECTOR_CANDIDATES = 100
SECTION_BONUS = 0.05
W = [round(i / 20, 2) for i in range(21)]  # text weights 0, 0.05, ... 1


@dataclass
class Doc:
    key: str
    t: float  # best chunk BM25 / ideal
    v: float  # best chunk cosine (0 when not among the nearest chunks)
    t2: float
    v2: float
    c: float  # IDF share of the query words held by the best text chunk
    rest: list[tuple[float, float]]  # (t, v) of every chunk, for the section bonus


@dataclass
class Q:
    corpus: str
    text: str
    kind: str
    expected: tuple[str, ...]
    docs: list[Doc]


def _idf(df: float, total: float) -> float:
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def load(path: Path) -> list[Q]:
    queries: list[Q] = []
    for corpus in pickle.loads(path.read_bytes()):
        keys = corpus["keys"]
        for row in corpus["queries"]:
            text, inputs = row["text"], row["bm25_inputs"]
            ideal = text["ideal"] or 1.0
            coverage: dict[int, float] = {}
            if inputs:
                holding: dict[str, set[int]] = {w: set() for w in inputs["words"]}
                for _, doc, _, freqs in inputs["found"]:
                    for w, f in zip(inputs["words"], freqs, strict=True):
                        if f > 0:
                            holding[w].add(doc)
                df = {w: float(len(s)) for w, s in holding.items()}
                for w, e in inputs["known"].items():
                    df[w] = max(df[w], e)
                n = max(inputs["documents"], len({d for _, d, _, _ in inputs["found"]}))
                weight = [_idf(df[w], n) for w in inputs["words"]]
                total = sum(weight) or 1.0
                for chunk, _, _, freqs in inputs["found"]:
                    coverage[chunk] = (
                        sum(i for i, f in zip(weight, freqs, strict=True) if f > 0) / total
                    )
            per_chunk: dict[int, list[float]] = {}  # chunk -> [doc, t, v]
            for chunk, score in text["chunks"].items():
                per_chunk[chunk] = [text["documents"][chunk], score / ideal, 0.0]
            for chunk, doc, cos in row["similar"][:VECTOR_CANDIDATES]:
                per_chunk.setdefault(chunk, [doc, 0.0, 0.0])[2] = cos
            by_doc: dict[int, list[tuple[int, float, float]]] = {}
            for chunk, (doc, t, v) in per_chunk.items():
                by_doc.setdefault(int(doc), []).append((chunk, t, v))
            docs = []
            for doc, chunks in by_doc.items():
                ts = [*sorted((t for _, t, _ in chunks), reverse=True), 0.0]
                vs = [*sorted((max(v, 0.0) for _, _, v in chunks), reverse=True), 0.0]
                best_text = max(chunks, key=lambda c: c[1])
                docs.append(
                    Doc(
                        keys[doc],
                        ts[0],
                        vs[0],
                        ts[1],
                        vs[1],
                        coverage.get(best_text[0], 0.0),
                        [(t, max(v, 0.0)) for _, t, v in chunks],
                    )
                )
            docs.sort(key=lambda d: d.key)
            queries.append(
                Q(corpus["name"], row["query"], row["kind"], tuple(row["expected"]), docs)
            )
    return queries


Scorer = Callable[[Q], dict[str, float]]


def rank(q: Q, scores: dict[str, float]) -> int | None:
    order = sorted(scores, key=lambda k: (-scores[k], k))[:10]
    for i, key in enumerate(order, start=1):
        if key in q.expected:
            return i
    return None


def rr(r: int | None) -> float:
    return 0.0 if r is None else 1.0 / r


# --- the families ----------------------------------------------------------------------------


def _bonus(d: Doc, w: float, bonus: float, tn: float = 1.0, vn: float = 1.0) -> float:
    """The current section bonus: `bonus` x the next two chunks' fused scores."""
    if not bonus:
        return 0.0
    fused = sorted((w * t / tn + (1 - w) * v / vn for t, v in d.rest), reverse=True)
    return bonus * sum(max(f, 0.0) for f in fused[1:3])


def weighted(w: float, bonus: float = SECTION_BONUS) -> Scorer:
    """Production: w x T + (1 - w) x V, plus the section bonus."""
    return lambda q: {d.key: w * d.t + (1 - w) * d.v + _bonus(d, w, bonus) for d in q.docs}


def _stats(values: Sequence[float]) -> tuple[float, float, float, float]:
    lo, hi = min(values), max(values)
    mean = statistics.fmean(values)
    sd = statistics.pstdev(values) or 1.0
    return lo, hi, mean, sd


def minmax(w: float, which: str) -> Scorer:
    """Each half min-max normalised over the query's candidate documents (`which`: t, v or
    tv says which halves)."""

    def score(q: Q) -> dict[str, float]:
        tl, th, _, _ = _stats([d.t for d in q.docs])
        present = [d.v for d in q.docs if d.v > 0] or [0.0]
        vl, vh, _, _ = _stats(present)
        out = {}
        for d in q.docs:
            t = (d.t - tl) / ((th - tl) or 1.0) if "t" in which else d.t
            v = (max(d.v - vl, 0.0)) / ((vh - vl) or 1.0) if "v" in which and d.v else d.v
            out[d.key] = w * t + (1 - w) * v
        return out

    return score


def by_max(w: float, bonus: float) -> Scorer:
    """Each half over its best document's (T / max T, V / max V)."""

    def score(q: Q) -> dict[str, float]:
        th = max(d.t for d in q.docs) or 1.0
        vh = max(d.v for d in q.docs) or 1.0
        return {
            d.key: w * d.t / th + (1 - w) * d.v / vh + _bonus(d, w, bonus, th, vh) for d in q.docs
        }

    return score


def zscore(w: float) -> Scorer:
    def score(q: Q) -> dict[str, float]:
        _, _, tm, ts = _stats([d.t for d in q.docs])
        _, _, vm, vs = _stats([d.v for d in q.docs])
        return {d.key: w * (d.t - tm) / ts + (1 - w) * (d.v - vm) / vs for d in q.docs}

    return score


def rrf(k: float, w: float) -> Scorer:
    """Reciprocal rank fusion, each half's rank among documents, weighted."""

    def score(q: Q) -> dict[str, float]:
        out = {d.key: 0.0 for d in q.docs}
        for half, weight in (("t", w), ("v", 1 - w)):
            ordered = sorted(
                (d for d in q.docs if getattr(d, half) > 0), key=lambda d: -getattr(d, half)
            )
            for i, d in enumerate(ordered, start=1):
                out[d.key] += weight / (k + i)
        return out

    return score


def combmnz(w: float) -> Scorer:
    """CombMNZ: the min-max fused sum times the number of halves that found the document."""
    inner = minmax(w, "tv")

    def score(q: Q) -> dict[str, float]:
        fused = inner(q)
        return {d.key: fused[d.key] * ((d.t > 0) + (d.v > 0)) for d in q.docs}

    return score


def adaptive_top(w_lo: float, w_hi: float, at: float) -> Scorer:
    """The text weight ramps from w_lo to w_hi as the best text document's T reaches `at`:
    a text half whose best page holds a small share of `ideal` is trusted less."""

    def score(q: Q) -> dict[str, float]:
        top = max(d.t for d in q.docs)
        w = w_lo + (w_hi - w_lo) * min(1.0, top / at)
        return {d.key: w * d.t + (1 - w) * d.v + _bonus(d, w, SECTION_BONUS) for d in q.docs}

    return score


def adaptive_coverage(w_lo: float, w_hi: float, at: float) -> Scorer:
    """As adaptive_top, by the best text document's coverage C of the query's IDF."""

    def score(q: Q) -> dict[str, float]:
        best = max(q.docs, key=lambda d: (d.t, d.key))
        w = w_lo + (w_hi - w_lo) * min(1.0, best.c / at)
        return {d.key: w * d.t + (1 - w) * d.v + _bonus(d, w, SECTION_BONUS) for d in q.docs}

    return score


def disagreement(w_agree: float, w_disagree: float) -> Scorer:
    """One weight when the halves' best documents agree, another when they do not."""

    def score(q: Q) -> dict[str, float]:
        bt = max(q.docs, key=lambda d: (d.t, d.key)).key
        bv = max(q.docs, key=lambda d: (d.v, d.key)).key
        w = w_agree if bt == bv else w_disagree
        return {d.key: w * d.t + (1 - w) * d.v + _bonus(d, w, SECTION_BONUS) for d in q.docs}

    return score


def margin(w: float, gap: float, w_low: float) -> Scorer:
    """When the text half's best document leads its second by less than `gap` (of ideal),
    the text half's weight drops to w_low: a text half that cannot tell pages apart."""

    def score(q: Q) -> dict[str, float]:
        ts = [*sorted((d.t for d in q.docs), reverse=True), 0.0]
        ww = w if ts[0] - ts[1] >= gap else w_low
        return {d.key: ww * d.t + (1 - ww) * d.v + _bonus(d, ww, SECTION_BONUS) for d in q.docs}

    return score


def top2(w: float, lam_t: float, lam_v: float) -> Scorer:
    """A document's half is its best chunk plus lam x its second best."""
    return lambda q: {
        d.key: w * (d.t + lam_t * d.t2) + (1 - w) * (d.v + lam_v * d.v2) for d in q.docs
    }


def covered(w: float, gamma: float) -> Scorer:
    """The text half times the document's coverage C ** gamma: many generic words matched
    on a page count less than the rare ones."""
    return lambda q: {
        d.key: w * d.t * (d.c**gamma) + (1 - w) * d.v + _bonus(d, w, SECTION_BONUS) for d in q.docs
    }


def geometric(w: float, eps: float) -> Scorer:
    """A product, not a sum: (T + eps) ** w x (V + eps) ** (1 - w) rewards a page that
    both halves find over one that a single half finds strongly."""
    return lambda q: {d.key: (d.t + eps) ** w * (d.v + eps) ** (1 - w) for d in q.docs}


def imputed(w: float, share: float) -> Scorer:
    """A page the vector half did not reach (V = 0) takes `share` of the lowest V reached
    instead of 0: its cosine is unknown, not nil."""

    def score(q: Q) -> dict[str, float]:
        floor = share * min((d.v for d in q.docs if d.v > 0), default=0.0)
        return {
            d.key: w * d.t + (1 - w) * (d.v or floor) + _bonus(d, w, SECTION_BONUS) for d in q.docs
        }

    return score


def families() -> dict[str, list[tuple[Any, Scorer]]]:
    ramps = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]
    tenth = [round(i / 10, 1) for i in range(11)]
    return {
        "weighted (current, bonus 0.05)": [(w, weighted(w)) for w in W],
        "weighted, bonus 0/0.05/0.1/0.2": [
            ((w, b), weighted(w, b)) for b, w in product((0.0, 0.05, 0.1, 0.2), W)
        ],
        "min-max both halves": [(w, minmax(w, "tv")) for w in W],
        "min-max vector only": [(w, minmax(w, "v")) for w in W],
        "min-max text only": [(w, minmax(w, "t")) for w in W],
        "over best (T/maxT, V/maxV)": [((w, b), by_max(w, b)) for b, w in product((0.0, 0.05), W)],
        "z-score": [(w, zscore(w)) for w in W],
        "RRF (k, weight)": [
            ((k, w), rrf(k, w)) for k, w in product((1, 2, 5, 10, 20, 30, 60), tenth)
        ],
        "CombMNZ (min-max)": [(w, combmnz(w)) for w in W],
        "adaptive by best T": [
            ((lo, hi, at), adaptive_top(lo, hi, at)) for at, lo, hi in product(ramps, tenth, tenth)
        ],
        "adaptive by coverage": [
            ((lo, hi, at), adaptive_coverage(lo, hi, at))
            for at, lo, hi in product((0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0), tenth, tenth)
        ],
        "disagreement": [((a, b), disagreement(a, b)) for a, b in product(tenth, tenth)],
        "text margin": [
            ((w, g, lo), margin(w, g, lo))
            for g, w, lo in product((0.01, 0.02, 0.03, 0.05, 0.08), tenth, tenth)
        ],
        "top-2 chunks": [
            ((w, a, b), top2(w, a, b))
            for a, b, w in product((0.0, 0.1, 0.2, 0.3, 0.5), (0.0, 0.1, 0.2, 0.3, 0.5), W)
        ],
        "geometric (T+e)^w (V+e)^(1-w)": [
            ((w, e), geometric(w, e)) for e, w in product((0.01, 0.05, 0.1, 0.3), W)
        ],
        "missing V imputed": [((w, s), imputed(w, s)) for s, w in product((0.0, 0.5, 0.8, 1.0), W)],
        "text x coverage^g": [
            ((w, g), covered(w, g)) for g, w in product((0.0, 0.25, 0.5, 1.0, 2.0), W)
        ],
    }


# --- cross-validation ------------------------------------------------------------------------


def cross_validate(
    rrs: list[list[float]], r1s: list[list[float]], seeds: Iterable[int]
) -> tuple[float, float, float, list[int]]:
    """Held-out MRR and R@1, mean over seeds; the bench seed's MRR; its chosen indices.
    rrs[p][i]: reciprocal rank of query i under grid point p."""
    n = len(rrs[0])
    mrrs, r1_all, bench, chosen_bench = [], [], 0.0, []
    for seed in seeds:
        order = list(range(n))
        random.Random(seed).shuffle(order)
        folds = [order[f::FOLDS] for f in range(FOLDS)]
        held, held1, chosen = 0.0, 0.0, []
        for fold in folds:
            out = set(fold)
            train = [i for i in range(n) if i not in out]
            best = max(range(len(rrs)), key=lambda p: (sum(rrs[p][i] for i in train), -p))
            chosen.append(best)
            held += sum(rrs[best][i] for i in fold)
            held1 += sum(r1s[best][i] for i in fold)
        mrrs.append(held / n)
        r1_all.append(held1 / n)
        if seed == 17:
            bench, chosen_bench = held / n, chosen
    return statistics.fmean(mrrs), statistics.fmean(r1_all), bench, chosen_bench


def main(args: argparse.Namespace) -> None:
    queries = load(args.dump)
    corpora = sorted({q.corpus for q in queries}, key=lambda c: c != "ours")
    print(
        f"{len(queries)} tune queries ({', '.join(corpora)}),"
        f" {FOLDS}-fold CV x {len(SEEDS)} shuffles"
    )
    print(
        f"{'family':<34} {'CV MRR':>7} {'CV R@1':>7} {'seed17':>7} {'in-sample':>9}"
        "  per corpus (in-sample best)  chosen (seed 17)"
    )
    for name, grid in families().items():
        ranks = [[rank(q, scorer(q)) for q in queries] for _, scorer in grid]
        rrs = [[rr(r) for r in row] for row in ranks]
        r1s = [[1.0 if r == 1 else 0.0 for r in row] for row in ranks]
        mrr, r1, bench, chosen = cross_validate(rrs, r1s, SEEDS)
        best = max(range(len(grid)), key=lambda p: (sum(rrs[p]), -p))
        pairs = list(zip(rrs[best], queries, strict=True))
        per = " / ".join(
            f"{statistics.fmean(x for x, q in pairs if q.corpus == c):.3f}" for c in corpora
        )
        params = sorted({str(grid[p][0]) for p in chosen})
        print(
            f"{name:<34} {mrr:7.3f} {r1:7.3f} {bench:7.3f} {statistics.fmean(rrs[best]):9.3f}"
            f"  {per:<27}  {', '.join(params)[:60]}"
        )
        if args.misses and args.misses == name:
            for q, r in zip(queries, ranks[best], strict=True):
                if r != 1:
                    print(f"    {q.corpus} rank {r} {q.text[:80]!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, default=Path("/tmp/knowledge_fusion.pkl"))
    parser.add_argument("--misses", help="print the tune misses of this family's best setting")
    main(parser.parse_args())
