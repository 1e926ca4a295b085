"""Grounding a model's citations: what is kept, read from a loose form, dropped, per kind.

Run: .venv/bin/python tests/bench/bench_grounding.py [--per-kind N] [--seed S]

A scripted fake model (no network: its replies are written here, then read through the same
`LLMTurn` validation the LLM client applies) cites lines of each case's file in 13 ways:

  kept as written    exact (a run of words of a real line, its line number), near-line (the
                     number off by 1-3), masked (a value replaced by `<*>`, `[token:3f2a1b]` or
                     `...`), template (an error template of the report), summary-copy (a
                     detail line of the evidence summary the prompt shows, count and all)
  kept, normalised   loose-line ("line 176", "L176", "176", "#176"), loose-at ("at": "14:05"),
                     file-line (source "app.log:176", no line field), prompt-line (a whole
                     line as the prompt shows it, "L176>> 2026-... ERROR ...", no line field)
  dropped            invented-file (a real quote under a file the case does not have),
                     invented-text (a plausible line the file does not hold), wrong-line (a
                     real quote, a line number nowhere near it), mutated (a real quote with
                     one word changed, its line number given)

Cases: generated logs (tests/samples, tests/bench/logs.py: Java app logs, JSON lines, ISO
times) and, when ../shared/data/ is there, the 8 Loghub-2k files and the logs and kubectl
outputs of the k8s-troubleshooting set (skipped with the reason when absent). Each citation
is grounded twice: with the file's content (as stored) and on its report alone (content
purged by retention, or an archive). `ok` is the share that ended as its kind should.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.core.errors import FaultMavenError  # noqa: E402
from engine.evidence.analyze import analyze, describe_report, summarize_report  # noqa: E402
from engine.evidence.logs.report import LogReport  # noqa: E402
from engine.evidence.reports import Evidence  # noqa: E402
from engine.investigate.grounding import (  # noqa: E402
    LINE_SLACK,
    CaseSources,
    case_sources,
    ground,
)
from engine.investigate.json_reply import ReplyError, parse_reply  # noqa: E402
from engine.investigate.result import LLMTurn  # noqa: E402
from tests.bench.logs import generate_log  # noqa: E402
from tests.samples import checkout_log  # noqa: E402
from tests.samples.incident import json_lines, plain_log  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LOGHUB = DATA / "loghub-2k"
K8S = DATA / "k8s-troubleshooting"
K8S_FILES = 12  # the first logs and kubectl outputs of the set, by name

KEPT = ("exact", "near-line", "masked", "template", "summary-copy")
NORMALISED = ("loose-line", "loose-at", "file-line", "prompt-line")
DROPPED = ("invented-file", "invented-text", "wrong-line", "mutated")
KINDS = (*KEPT, *NORMALISED, *DROPPED)
INVENTED = (
    "kernel: Out of memory: Killed process 4242 (java) total-vm:8123456kB",
    "FATAL: remaining connection slots are reserved for superuser connections",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "upstream timed out (110: Connection timed out) while reading response header",
    "OOMKilled: container payments exceeded its memory limit of 512Mi",
    "ERROR [main] o.a.k.c.NetworkClient - Broker 3 disconnected: certificate expired",
    "Deadlock found when trying to get lock; try restarting transaction",
    "x509: certificate signed by unknown authority while dialing etcd-2:2379",
)
MASKS = ("<*>", "[token:3f2a1b]", "...")
_TIME = re.compile(r"\b(\d{2}):(\d{2})(?::\d{2})?\b")
_WORD = re.compile(r"[A-Za-z]{4,}")


@dataclass
class Case:
    group: str  # generated / loghub / k8s
    name: str
    data: bytes


@dataclass
class Cited:
    kind: str
    citation: dict[str, object]


def generated() -> list[Case]:
    return [
        Case("generated", "checkout.log", checkout_log()),
        Case("generated", "app.log", generate_log(5000, seed=3)),
        Case("generated", "payments.jsonl", json_lines("payments", seed=2)),
        Case("generated", "search.log", plain_log("search", seed=4, offset_hours=1)),
    ]


def real() -> tuple[list[Case], list[str]]:
    cases: list[Case] = []
    skipped: list[str] = []
    if LOGHUB.is_dir():
        for path in sorted(LOGHUB.glob("*/*_2k.log")):
            cases.append(Case("loghub", path.name, path.read_bytes()))
    else:
        skipped.append(f"Loghub-2k: {LOGHUB} is absent")
    if K8S.is_dir():
        paths = sorted(p for p in K8S.glob("*/*") if p.suffix in (".log", ".txt"))[:K8S_FILES]
        cases.extend(Case("k8s", p.name, p.read_bytes()) for p in paths)
    else:
        skipped.append(f"k8s-troubleshooting: {K8S} is absent")
    return cases, skipped


def evidence_of(case: Case) -> Evidence | None:
    try:
        report = analyze(case.name, case.data)
    except FaultMavenError:
        return None
    return Evidence(
        id=1,
        case_id=1,
        source_id=case.name,
        name=case.name,
        kind=report.kind,
        size_bytes=len(case.data),
        sha256=None,
        status="analysed",
        summary=summarize_report(report),
        report=report,
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
    )


def _window(words: list[str], rng: random.Random) -> list[str]:
    """A run of 4 to 10 words from the line's second word on (a model leaves out the time)."""
    size = min(len(words) - 1, rng.randint(4, 10))
    start = rng.randint(1, len(words) - size)
    return words[start : start + size]


def _holds(lines: list[str], around: int, text: str) -> bool:
    """Whether a line near `around` (1-based) holds `text` as written (spaces collapsed)."""
    low = " ".join(text.split()).lower()
    return any(
        low in " ".join(lines[n - 1].split()).lower()
        for n in range(max(1, around - LINE_SLACK), min(len(lines), around + LINE_SLACK) + 1)
    )


def citations(case: Case, item: Evidence, per_kind: int, rng: random.Random) -> list[Cited]:
    """What the scripted model cites of this file, `per_kind` of each kind where it can."""
    lines = case.data.decode("utf-8", "replace").splitlines()
    whole = " ".join(case.data.decode("utf-8", "replace").split()).lower()
    usable = [(n, line.split()) for n, line in enumerate(lines, 1) if len(line.split()) >= 6]
    if not usable:
        return []
    name = item.name
    out: list[Cited] = []

    def real_quote() -> tuple[int, str, list[str]]:
        n, words = rng.choice(usable)
        run = _window(words, rng)
        return n, " ".join(run), run

    for _ in range(per_kind):
        n, quote, run = real_quote()
        out.append(Cited("exact", {"source": name, "text": quote, "line": n}))
        n, quote, _ = real_quote()
        near = max(1, n + rng.choice([-3, -2, -1, 1, 2, 3]))
        out.append(Cited("near-line", {"source": name, "text": quote, "line": near}))
        n, _, run = real_quote()
        at = rng.randrange(len(run))
        masked = " ".join([*run[:at], rng.choice(MASKS), *run[at + 1 :]])
        out.append(Cited("masked", {"source": name, "text": masked, "line": n}))
        n, quote, _ = real_quote()
        line = rng.choice([f"line {n}", f"L{n}", str(n), f"#{n}"])
        out.append(Cited("loose-line", {"source": name, "text": quote, "line": line}))
        n, quote, _ = real_quote()
        clock = _TIME.search(lines[n - 1])
        at_text = f"{clock.group(1)}:{clock.group(2)}" if clock else "14:05"
        out.append(Cited("loose-at", {"source": name, "text": quote, "line": n, "at": at_text}))
        n, quote, _ = real_quote()
        out.append(Cited("file-line", {"source": f"{name}:{n}", "text": quote}))
        n, _, _ = real_quote()
        shown = f"L{n}{rng.choice(['', '>>'])} {lines[n - 1]}"
        out.append(Cited("prompt-line", {"source": name, "text": shown}))
        n, quote, _ = real_quote()
        out.append(Cited("invented-file", {"source": "nonexistent.log", "text": quote, "line": n}))
        invented = rng.choice(INVENTED)
        if invented.lower() not in whole:
            out.append(
                Cited(
                    "invented-text",
                    {"source": name, "text": invented, "line": rng.randint(1, len(lines))},
                )
            )
        n, quote, _ = real_quote()
        far = rng.randint(1, len(lines))
        if abs(far - n) > 10 * LINE_SLACK and not _holds(lines, far, quote):
            out.append(Cited("wrong-line", {"source": name, "text": quote, "line": far}))
        n, quote, run = real_quote()
        words = [i for i, w in enumerate(run) if _WORD.fullmatch(w)]
        if words:
            i = rng.choice(words)
            changed = " ".join(
                [*run[:i], "payments" if run[i] != "payments" else "orders", *run[i + 1 :]]
            )
            if changed.lower() not in whole:
                out.append(Cited("mutated", {"source": name, "text": changed, "line": n}))

    report = item.report
    if isinstance(report, LogReport):
        for template in report.templates[:per_kind]:
            out.append(Cited("template", {"source": name, "text": template.template}))
    details = describe_report(item.report, 8) if item.report is not None else []
    for detail in details[:per_kind]:
        out.append(Cited("summary-copy", {"source": name, "text": detail}))
    return out


def reply_of(cited: list[Cited]) -> str:
    """The fake model's reply: one hypothesis per kind, its citations as supporting."""
    by_kind: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for c in cited:
        by_kind[c.kind].append(c.citation)
    return json.dumps(
        {
            "response_type": "answer",
            "answer": "scripted",
            "working_conclusion": "scripted",
            "confidence": 0.5,
            "hypotheses": [
                {"statement": kind, "confidence": 0.5, "supporting": found}
                for kind, found in by_kind.items()
            ],
        }
    )


@dataclass
class Tally:
    n: int = 0
    kept: int = 0
    normalised: int = 0
    dropped: int = 0
    ok: int = 0
    ok_report: int = 0


def expected(kind: str, kept: bool, normalised: bool) -> bool:
    if kind in DROPPED:
        return not kept
    if kind in NORMALISED:
        return kept and normalised
    return kept


def run(per_kind: int, seed: int) -> int:
    rng = random.Random(seed)
    cases = generated()
    more, skipped = real()
    cases.extend(more)
    tallies: dict[str, Tally] = {kind: Tally() for kind in KINDS}
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[str] = []
    repairs = replies = 0
    seconds = 0.0
    for case in cases:
        item = evidence_of(case)
        if item is None:
            skipped.append(f"{case.name}: not analysed")
            continue
        cited = citations(case, item, per_kind, rng)
        if not cited:
            continue
        replies += 1
        try:
            turn = parse_reply(reply_of(cited), LLMTurn)
        except ReplyError as exc:  # what would have cost a repair call
            repairs += 1
            misses.append(f"{case.name}: reply needs a repair: {exc.reason}")
            continue
        kinds = [kind for h in turn.hypotheses for kind in [h.statement] * len(h.supporting)]
        raws = [raw for h in turn.hypotheses for raw in h.supporting]
        day = date(2026, 11, 21)
        with_content: CaseSources = case_sources([item], [], day, {1: case.data})
        report_only: CaseSources = case_sources([item], [], day)
        for kind, raw in zip(kinds, raws, strict=True):
            started = time.perf_counter()
            verdict = ground(raw, with_content)
            seconds += time.perf_counter() - started
            alone = ground(raw, report_only)
            tally = tallies[kind]
            tally.n += 1
            kept = verdict.citation is not None
            tally.kept += kept
            tally.normalised += kept and verdict.normalised
            tally.dropped += not kept
            good = expected(kind, kept, verdict.normalised)
            tally.ok += good
            tally.ok_report += expected(kind, alone.citation is not None, alone.normalised)
            groups[case.group]["n"] += 1
            groups[case.group]["ok"] += good
            if not good and len(misses) < 12:
                why = verdict.why or "kept"
                misses.append(f"{kind} in {case.name}: {raw.text[:70]!r} line {raw.line}: {why}")
    print_table(tallies, groups, replies, repairs, seconds, skipped, misses)
    return 0


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def print_table(
    tallies: dict[str, Tally],
    groups: dict[str, Counter[str]],
    replies: int,
    repairs: int,
    seconds: float,
    skipped: list[str],
    misses: list[str],
) -> None:
    print("| kind | should be | citations | kept | normalised | dropped | ok | ok, report only |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, t in tallies.items():
        should = "kept" if kind in KEPT else "normalised" if kind in NORMALISED else "dropped"
        print(
            f"| {kind} | {should} | {t.n} | {pct(t.kept, t.n)} | {pct(t.normalised, t.n)} | "
            f"{pct(t.dropped, t.n)} | {pct(t.ok, t.n)} | {pct(t.ok_report, t.n)} |"
        )
    total = sum(t.n for t in tallies.values())
    ok = sum(t.ok for t in tallies.values())
    print()
    print(
        f"{total} citations in {replies} replies; {repairs} replies would have needed a repair "
        f"call; as their kind should: {pct(ok, total)} with content, "
        f"{pct(sum(t.ok_report for t in tallies.values()), total)} on the report alone; "
        f"{seconds / max(1, total) * 1000:.2f} ms per citation with content"
    )
    for group, c in groups.items():
        print(f"  {group}: {c['n']} citations, {pct(c['ok'], c['n'])} as their kind should")
    for line in skipped:
        print(f"skipped: {line}")
    if misses:
        print("not as their kind should (first ones):")
        for line in misses:
            print(f"  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=4, help="citations of each kind per file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return run(args.per_kind, args.seed)


if __name__ == "__main__":
    sys.exit(main())
