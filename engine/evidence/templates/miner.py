"""Online log template mining: group messages into templates with `<*>` where values go.

`TemplateMiner.add(message)` places one message at a time; nothing is configured per log.

1. Masking (`template_tokens`) turns obvious values into wildcards: numbers, ids, hex,
   addresses, paths, URLs. Most messages then repeat exactly and are placed by one dict
   lookup.
2. A new masked message is compared with the templates of its length that share its first
   two words, or have wildcards there (Drain's observation: the first words name the
   event). It joins the one it agrees with most, if they agree on at least half of the
   positions and every position where they differ looks like a value on both sides (digits,
   a wildcard, punctuation inside a word: "node7", "ns.example.com"). Differing plain words
   ("opened"/"closed"), upper-case words (states such as RUNNING) and punctuation
   ("address:"/"address") mean a different event (`template_diff`).
3. Words do become values when enough of them are seen in one place: once SKELETON_VALUES
   templates differ only in one position ("session opened for user cyrus/news/test"), they
   merge into one with `<*>` there. Two values are not enough: "stored as bytes/values" is
   two events.
4. A template that becomes more general absorbs the special cases filed before it
   ("Invalid user ubnt from <*>" once "Invalid user <*> from <*>" exists), so the result
   depends little on the order lines arrive in.

Where two tokens differ only inside, the common part stays: "user=root" and "user=ftp" give
"user=<*>", "(uid=0)" and "()" give "(<*>)". Work per new message is bounded
(MAX_CANDIDATES), so a log of all-different lines still runs in linear time.

Template ids are stable: an id always names the same template, and when templates merge the
older id survives (`resolve` maps a merged id onto it). A template can still widen as values
arrive, so `template(id)` is the current form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from engine.evidence.templates.diff import generalise, is_state_word, may_differ, split_common
from engine.evidence.templates.tokens import (
    VAR,
    Masker,
    collapse_runs,
    mask_across,
    render,
    shape_of,
)

MAX_CANDIDATES = 200  # templates compared per group; bounds the cost of all-new lines
# A file where most new messages found no template to join (prose, random text, a hostile
# upload) gets fewer comparisons per message once that is clear: templates are then of
# little use, and 200 comparisons a line made 200,000 such lines take minutes.
NOISY_AFTER = 2000  # messages placed before the file can be judged noisy
NOISY_SHARE = 0.5  # share of placed messages that started a template of their own
NOISY_CANDIDATES = 4
# Words of a message that take part in its template; the rest is one <*>. Filing a template
# compares it position by position with its neighbours, so a 500,000-word line (one pasted
# blob) would take hours; no real event has a template hundreds of words long.
MAX_TEMPLATE_TOKENS = 256
# Templates a file may have. Each costs its words and its place in the indexes; 200,000
# lines of prose (a template each) took 1.2 GB. Past this, a message that joins no template
# is counted in one last template, "<*>", so memory stays bounded whatever the file.
MAX_TEMPLATES = 20_000
MIN_SIMILARITY = 0.5  # share of positions a message must share with a template to join it
SKELETON_VALUES = 3  # distinct words at one position before that position becomes <*>
_MAX_SEEN = 200_000  # masked messages remembered for the one-lookup path
_MAX_BY_SHAPE = 8_192  # message shapes remembered with their template (the masker's many)


class TemplateMatch(NamedTuple):
    template_id: int
    template: str


class Template(NamedTuple):
    template_id: int
    template: str
    records: int  # how many records have it


@dataclass(slots=True, eq=False)
class _Cluster:
    id: int
    tokens: list[str]
    count: int = 0
    into: _Cluster | None = None  # set when merged into an older cluster


def _live(cluster: _Cluster) -> _Cluster:
    while cluster.into is not None:
        cluster = cluster.into
    return cluster


def _skeleton_keys(tokens: list[str]) -> list[tuple[int, int, int]]:
    """Per position p, a key for "these tokens with p left out", in linear time.

    Hashes keep memory flat; members are re-checked token by token before merging.
    """
    n = len(tokens)
    before = [0] * (n + 1)
    for i, token in enumerate(tokens):
        before[i + 1] = hash((before[i], token))
    after = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        after[i] = hash((tokens[i], after[i + 1]))
    return [(p, before[p], after[p + 1]) for p in range(n)]


def _bounded(tokens: list[str]) -> list[str]:
    if len(tokens) <= MAX_TEMPLATE_TOKENS:
        return tokens
    return [*tokens[: MAX_TEMPLATE_TOKENS - 1], VAR]


def fits_glob(parts: tuple[str, ...], token: str) -> bool:
    """Whether `token` is the literal `parts` in order with anything (or nothing) between them,
    as `<*>` means in a template token: "id=<*>,<*>" is ("id=", ",", "").

    Matched left to right, each middle part at its first place, which is exact for wildcards
    that stand for any text and takes time linear in the token. A regular expression built
    from the template (`.*` per `<*>`) backtracks exponentially on a token like "1,2,...,39"
    against "<*>,<*>,...,<*>" (a 219-byte CSV held a worker for minutes).
    """
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        return token == first
    if len(token) < len(first) + len(last) or not token.startswith(first):
        return False
    if not token.endswith(last):
        return False
    position, end = len(first), len(token) - len(last)
    for part in parts[1:-1]:
        found = token.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


class TemplateMiner:
    """Online template miner; feed it messages (headers already removed) in order."""

    def __init__(self) -> None:
        self._masker = Masker()
        self._known, self._mask = self._masker.known, self._masker.mask
        self._seen: dict[str, _Cluster] = {}
        # ...and by the message's shape, where the shape alone gives the masked message:
        # one look-up for the messages that repeat but for their numbers.
        self._by_shape: dict[str, _Cluster] = {}
        self._clusters: list[_Cluster] = []
        # Live clusters by `_bucket`; dicts keep them in id order.
        self._buckets: dict[tuple[int, str, str], dict[int, _Cluster]] = {}
        self._skeletons: dict[tuple[int, int, int], dict[int, _Cluster]] = {}
        self._patterns: dict[str, tuple[str, ...]] = {}  # a template token's literal parts
        self._placed = 0  # messages compared with templates (not found by their masked key)
        self._candidate_cap = MAX_CANDIDATES
        self._overflow_cluster: _Cluster | None = None

    def add(self, message: str) -> TemplateMatch:
        template_id = self.add_id(message, shape_of(message))
        return TemplateMatch(template_id, self.template(template_id))

    def add_id(self, message: str, shape: str) -> int:
        """`add` for whole files: `shape` is `shape_of(message)`, cut from the shape of the
        whole text (much faster than line by line), and only the id comes back."""
        cluster = self._by_shape.get(shape)
        if cluster is not None and cluster.into is None:
            cluster.count += 1
            return cluster.id
        key = self._known.get(shape)
        if key is None:
            key = self._mask(message, shape)
        cluster = self._seen.get(key)
        if cluster is None:
            cluster = self._place(_bounded(mask_across(key).split()))
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()
                self._by_shape.clear()  # it holds what `_seen` does, by another key
            self._seen[key] = cluster
        elif cluster.into is not None:
            cluster = self._seen[key] = _live(cluster)
        if key is self._known.get(shape):  # the shape alone gave the key: so it always will
            if len(self._by_shape) >= _MAX_BY_SHAPE:
                self._by_shape.clear()
            self._by_shape[shape] = cluster
        cluster.count += 1
        return cluster.id

    def resolve(self, template_id: int) -> int:
        """The id that `template_id` lives on as (itself unless it was merged)."""
        return _live(self._clusters[template_id - 1]).id

    def template(self, template_id: int) -> str:
        return self._render(_live(self._clusters[template_id - 1]))

    def final_ids(self) -> list[int]:
        """For every id ever given (index id - 1), the id it lives on as now."""
        return [_live(cluster).id for cluster in self._clusters]

    def templates(self) -> list[Template]:
        """Live templates, most frequent first."""
        live = [c for c in self._clusters if c.into is None]
        live.sort(key=lambda c: (-c.count, c.id))
        return [Template(c.id, self._render(c), c.count) for c in live]

    @staticmethod
    def _render(cluster: _Cluster) -> str:
        return render(collapse_runs(" ".join(cluster.tokens)))

    def _fits(self, template_token: str, token: str) -> bool:
        parts = self._patterns.get(template_token)
        if parts is None:
            parts = self._patterns[template_token] = tuple(template_token.split(VAR))
        return fits_glob(parts, token)

    def _covers(self, template: list[str], tokens: list[str]) -> bool:
        return len(template) == len(tokens) and all(
            t == x or (VAR in t and self._fits(t, x)) for t, x in zip(template, tokens, strict=True)
        )

    def _agreement(self, template: list[str], tokens: list[str], need: int = 0) -> int:
        """Positions where `tokens` fit `template`; -1 if a difference is not a value, or
        once fewer than `need` positions can agree (the caller has a better one already)."""
        agree = 0
        allowed = len(tokens) - need  # differing positions that still leave `need`
        for t, x in zip(template, tokens, strict=True):
            if t == x or (VAR in t and self._fits(t, x)):
                agree += 1
                continue
            allowed -= 1
            if allowed < 0:  # lines of prose, all different: most candidates stop here
                return -1
            if t.isalpha() and x.isalpha():  # two different words: the common case, quickly
                return -1
            _, a, b, _ = split_common(t, x)
            if not may_differ(a, b):
                return -1
        return agree

    @staticmethod
    def _bucket(tokens: list[str]) -> tuple[int, str, str]:
        """Length and the first two words, a wildcard for any that may be a value.

        The first word names the event (as in Drain), so it only counts as a value when it
        has digits or a wildcard; the second does for any shape but a plain word.
        """
        first = tokens[0] if tokens else ""
        if VAR in first or any(c.isdigit() for c in first):
            first = VAR
        second = tokens[1] if len(tokens) > 1 else ""
        if not second.rstrip(":,;.").isalpha():
            second = VAR
        return len(tokens), first, second

    def _candidates(self, tokens: list[str]) -> list[_Cluster]:
        """Templates a message may join: same length, same first two words or wildcards there.

        At most MAX_CANDIDATES per group (NOISY_CANDIDATES in a noisy file), the oldest
        first, so a log whose every line is new (prose) costs linear time, not quadratic.
        """
        n, first, second = self._bucket(tokens)
        keys = dict.fromkeys((n, a, b) for a in (first, VAR) for b in (second, VAR))
        out: list[_Cluster] = []
        for key in keys:
            out.extend(islice(self._buckets.get(key, {}).values(), self._candidate_cap))
        return out

    def _place(self, tokens: list[str]) -> _Cluster:
        best: _Cluster | None = None
        best_agree = -1
        least = math.ceil(MIN_SIMILARITY * len(tokens))  # fewer agreeing positions join nothing
        for cluster in self._candidates(tokens):
            agree = self._agreement(cluster.tokens, tokens, need=max(least, best_agree + 1))
            if agree > best_agree:
                best, best_agree = cluster, agree
        self._placed += 1
        if self._placed == NOISY_AFTER and len(self._clusters) > NOISY_SHARE * NOISY_AFTER:
            self._candidate_cap = NOISY_CANDIDATES
        if best is not None and best_agree >= MIN_SIMILARITY * len(tokens):
            widened = [
                t if t == x or (VAR in t and self._fits(t, x)) else generalise(t, x)
                for t, x in zip(best.tokens, tokens, strict=True)
            ]
            if widened != best.tokens:
                self._unfile(best)
                best.tokens = widened
                self._index(best)
            return _live(best)
        if len(self._clusters) >= MAX_TEMPLATES:
            return self._overflow()
        cluster = _Cluster(len(self._clusters) + 1, tokens)
        self._clusters.append(cluster)
        self._index(cluster)
        return _live(cluster)

    def _overflow(self) -> _Cluster:
        """The last template, for every message past MAX_TEMPLATES that joins no other. Not
        indexed: nothing is compared with it or merged into it."""
        if self._overflow_cluster is None:
            self._overflow_cluster = _Cluster(len(self._clusters) + 1, [VAR])
            self._clusters.append(self._overflow_cluster)
        return self._overflow_cluster

    def _unfile(self, cluster: _Cluster) -> None:
        self._buckets[self._bucket(cluster.tokens)].pop(cluster.id, None)

    def _index(self, cluster: _Cluster) -> None:
        """File a new or changed template, then merge what it implies."""
        tokens = cluster.tokens
        self._buckets.setdefault(self._bucket(tokens), {})[cluster.id] = cluster
        keys = _skeleton_keys(tokens)
        # A template that has become general swallows the special cases filed before it
        # ("Invalid user ubnt from <*>" once "Invalid user <*> from <*>" exists), as they
        # would have joined it had it come first. Found through the skeleton of each
        # wildcard position, so only templates differing there are looked at.
        covered: dict[int, _Cluster] = {}
        for p, token in enumerate(tokens):
            if VAR in token:
                for member in self._skeletons.get(keys[p], {}).values():
                    other = _live(member)
                    if other is not cluster and self._covers(tokens, other.tokens):
                        covered[other.id] = other
        if covered:
            self._merge([cluster, *covered.values()], tokens)
            return
        for p in range(1, len(tokens)):  # never the first word: it names the event
            token = tokens[p]
            if token == VAR or is_state_word(token):
                continue
            members = self._skeletons.setdefault(keys[p], {})
            members[cluster.id] = cluster
            live: dict[int, _Cluster] = {}
            for member in members.values():
                other = _live(member)
                if (
                    len(other.tokens) == len(tokens)
                    and other.tokens[:p] == tokens[:p]
                    and other.tokens[p + 1 :] == tokens[p + 1 :]
                ):
                    live[other.id] = other
            if len(live) >= SKELETON_VALUES:
                token = tokens[p]
                for other in live.values():
                    token = generalise(token, other.tokens[p])
                self._merge(list(live.values()), [*tokens[:p], token, *tokens[p + 1 :]])
                return

    def _merge(self, clusters: list[_Cluster], template: list[str]) -> None:
        """One cluster with `template` from `clusters`; the oldest id survives."""
        keep, *others = sorted(clusters, key=lambda c: c.id)
        for cluster in clusters:
            self._unfile(cluster)
        for other in others:
            other.into = keep
            keep.count += other.count
        keep.tokens = template
        self._index(keep)
