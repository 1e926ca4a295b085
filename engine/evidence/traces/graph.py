"""One trace's spans -> a tree: self times, the critical path, and where each error comes from.

Real exports are messy, so the tree is built defensively: a span whose parent is missing
(an orphan, e.g. a partial export) becomes a root; a parent chain that loops is cut at its
earliest span; a child that starts before its parent (clocks of two hosts disagree) is
shifted, with its subtree, to start with the parent, as Jaeger's UI does. Everything is
iterative, since a pathological file could nest deeper than Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.evidence.traces.parse import Span

# A caller error is blamed on a callee that errored too, or on one that was still running
# when the caller gave up (a timeout), or that took nearly all of the caller's time.
_TIMEOUT_SHARE = 0.9


@dataclass
class TraceTree:
    spans: list[Span]
    parent: list[int | None]
    children: list[list[int]]
    depth: list[int]
    roots: list[int]
    start: list[float]  # adjusted for clock skew; spans without a start sit after siblings
    self_us: list[float]
    orphans: int = 0
    cycles: int = 0
    skewed: int = 0
    duplicates: int = 0  # exact repeats of a span, dropped
    renamed: int = 0  # other spans sharing an id, given a suffix so both stay
    critical_us: dict[int, float] = field(default_factory=dict)

    def end(self, i: int) -> float:
        return self.start[i] + self.spans[i].duration_us

    @property
    def root(self) -> int:
        """The root that stands for the trace: the longest one (orphans make several)."""
        return max(self.roots, key=lambda i: (self.spans[i].duration_us, -self.start[i]))

    @property
    def duration_us(self) -> float:
        """The root's duration: how long the request took, even if work it started ran on.
        With several roots (orphans) and start times, from the first start to the last end."""
        if len(self.roots) == 1 or any(self.spans[i].start_us is None for i in self.roots):
            return self.spans[self.root].duration_us
        return max(map(self.end, range(len(self.spans)))) - min(self.start)

    def label(self, i: int) -> str:
        span = self.spans[i]
        return f"{span.service}:{span.operation}" if span.operation else span.service


def _unique_ids(spans: list[Span]) -> tuple[list[Span], int, int]:
    """Spans with ids unique within the trace: exact repeats (the same trace exported twice)
    dropped, other clashes renamed so both spans stay; with both counts.

    Zipkin's shared spans reuse the client's id for the server half: the client becomes
    "<id>~client" and the server its child, so children of "<id>" stay on the server side.
    """
    kept: list[Span] = []
    seen: dict[str, Span] = {}
    dropped = renamed = 0
    for span in spans:
        other = seen.get(span.span_id)
        if other is None:
            seen[span.span_id] = span
        elif span.shared != other.shared:
            server, client = (span, other) if span.shared else (other, span)
            client.span_id += "~client"
            server.parent_id = client.span_id
            seen[client.span_id], seen[server.span_id] = client, server
        elif (span.service, span.start_us, span.duration_us) == (
            other.service,
            other.start_us,
            other.duration_us,
        ):
            dropped += 1
            continue
        else:
            span.span_id = f"{span.span_id}~{len(kept)}"
            seen[span.span_id] = span
            renamed += 1
        kept.append(span)
    return kept, dropped, renamed


def _link(spans: list[Span]) -> tuple[list[int | None], int, int]:
    """Parent index of each span, orphans (parent named but absent) and loops cut."""
    index = {span.span_id: i for i, span in enumerate(spans)}
    parent: list[int | None] = []
    orphans = 0
    for i, span in enumerate(spans):
        p = index.get(span.parent_id) if span.parent_id else None
        if span.parent_id and p is None:
            orphans += 1
        parent.append(p if p != i else None)
    cycles = 0
    state = [0] * len(spans)  # 0 unseen, 1 on the walk in progress, 2 done
    for i in range(len(spans)):
        path: list[int] = []
        j: int | None = i
        while j is not None and state[j] == 0:
            state[j] = 1
            path.append(j)
            j = parent[j]
        if j is not None and state[j] == 1:  # the walk came back to itself: a loop
            loop = path[path.index(j) :]
            head = min(loop, key=lambda k: (spans[k].start_us or 0.0, k))
            parent[head] = None
            cycles += 1
        for k in path:
            state[k] = 2
    return parent, orphans, cycles


def _order(roots: list[int], children: list[list[int]]) -> list[int]:
    """Parents before children (breadth first)."""
    order = list(roots)
    for i in order:
        order.extend(children[i])
    return order


def _place(tree: TraceTree, order: list[int]) -> None:
    """Start times with clock skew undone, and depths."""
    spans, start = tree.spans, tree.start
    shift = [0.0] * len(spans)
    for i in order:
        p = tree.parent[i]
        if p is None:
            start[i] = spans[i].start_us or 0.0
            continue
        tree.depth[i] = tree.depth[p] + 1
        shift[i] = shift[p]
        raw = spans[i].start_us
        if raw is None:
            continue  # placed after its siblings below
        start[i] = raw + shift[i]
        if start[i] < start[p]:
            tree.skewed += 1
            shift[i] += start[p] - start[i]
            start[i] = start[p]
    for i in order:
        cursor = start[i]
        for c in tree.children[i]:
            if spans[c].start_us is None:
                start[c] = cursor
                cursor += spans[c].duration_us


def _covered(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for lo, hi in sorted(intervals):
        if hi > reach:
            total += hi - max(lo, reach)
            reach = hi
    return total


def _self_times(tree: TraceTree) -> None:
    for i, span in enumerate(tree.spans):
        lo, hi = tree.start[i], tree.end(i)
        inside = [
            (max(lo, tree.start[c]), min(hi, tree.end(c)))
            for c in tree.children[i]
            if tree.start[c] < hi and tree.end(c) > lo
        ]
        tree.self_us[i] = max(0.0, span.duration_us - _covered(inside))


def _critical_path(tree: TraceTree, root: int) -> None:
    """Time each span itself holds up the root, the way Jaeger's UI finds the critical path:
    from the root's end, step into the child that finished last before the cursor, and so on;
    time not covered by such a child is the span's own."""
    lo = {root: tree.start[root]}
    hi = {root: tree.end(root)}
    pending: dict[int, list[int]] = {}

    def enter(i: int) -> None:
        # Children clipped to the parent's window; those outside it (fire-and-forget work)
        # do not hold the parent up.
        kids = []
        for c in tree.children[i]:
            lo[c], hi[c] = max(tree.start[c], lo[i]), min(tree.end(c), hi[i])
            if lo[c] < hi[c]:
                kids.append(c)
        pending[i] = sorted(kids, key=lambda c: hi[c])  # popped from the end: latest first

    critical = tree.critical_us
    enter(root)
    span, cursor = root, hi[root]
    while True:
        kids = pending[span]
        while kids and hi[kids[-1]] > cursor:
            kids.pop()  # overlaps the child already walked, so it was not the one waited on
        if kids:
            child = kids.pop()
            critical[span] = critical.get(span, 0.0) + cursor - hi[child]
            enter(child)
            span, cursor = child, hi[child]
            continue
        critical[span] = critical.get(span, 0.0) + max(0.0, cursor - lo[span])
        parent = tree.parent[span]
        if span == root or parent is None:
            return
        span, cursor = parent, lo[span]


def build_tree(spans: Sequence[Span]) -> TraceTree:
    """The tree of one trace's spans (all with the same trace id)."""
    spans, duplicates, renamed = _unique_ids(list(spans))
    parent, orphans, cycles = _link(spans)
    children: list[list[int]] = [[] for _ in spans]
    for i, p in enumerate(parent):
        if p is not None:
            children[p].append(i)
    roots = [i for i, p in enumerate(parent) if p is None]
    n = len(spans)
    tree = TraceTree(spans, parent, children, [0] * n, roots, [0.0] * n, [0.0] * n, orphans, cycles)
    tree.duplicates, tree.renamed = duplicates, renamed
    _place(tree, _order(roots, children))
    _self_times(tree)
    _critical_path(tree, tree.root)
    return tree


def blamed_child(tree: TraceTree, i: int) -> int | None:
    """The child an error of span `i` is explained by, if any (see _TIMEOUT_SHARE)."""
    kids = tree.children[i]
    failed = [c for c in kids if tree.spans[c].error]
    if failed:
        return max(failed, key=lambda c: tree.spans[c].duration_us)
    duration = tree.spans[i].duration_us
    slow = [
        c
        for c in kids
        if tree.spans[c].service != tree.spans[i].service
        and (tree.end(c) >= tree.end(i) or tree.spans[c].duration_us >= _TIMEOUT_SHARE * duration)
    ]
    return max(slow, key=lambda c: tree.spans[c].duration_us) if slow else None


def error_origin(tree: TraceTree, i: int) -> tuple[int, list[int]]:
    """Where the error of span `i` starts: the deepest span down the chain of blamed
    children, and the spans above it on that chain (the callers that failed with it)."""
    chain = [i]
    while (child := blamed_child(tree, chain[-1])) is not None:
        chain.append(child)
    return chain[-1], chain[:-1]
