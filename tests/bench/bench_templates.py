"""Template mining: our miner against Drain3 on Loghub-2k, accuracy and throughput.

Run: .venv/bin/python tests/bench/bench_templates.py

Data: the 8 Loghub-2k datasets with corrected ground truth in `../shared/data/loghub-2k/`
(read in place, never copied). Loghub: Jieming Zhu, Shilin He, Pinjia He, Jinyang Liu and
Michael R. Lyu, "Loghub: A Large Collection of System Log Datasets for AI-driven Log
Analytics", IEEE International Symposium on Software Reliability Engineering (ISSRE), 2023.

Measures (see tests/bench/loghub.py):
- GA, grouping accuracy (Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
  ICSE-SEIP 2019): a line is correct when the set of lines in its predicted group equals the
  set of lines in its ground-truth group; GA = correct lines / all lines.
- PA: the share of lines whose predicted template equals the ground-truth EventTemplate,
  after collapsing runs of whitespace and nothing else.
- lines/s: lines handled per second, best of REPEATS runs.

Inputs differ on purpose: ours reads the raw file (it decodes it, learns the header,
splits records and strips the header itself); Drain3 gets the easier Content column.
Drain3 runs with `TemplateMinerConfig()` defaults plus the masking instructions of Drain3's
own example config (examples/drain3.ini in logpai/Drain3: ID, IP, SEQ, HEX, NUM, CMD). Its
masks print as <IP>, <NUM>, ...; for PA every such placeholder counts as `<*>`. Both
report each line's cluster with the cluster's final template.

Throughput on 200k lines: the repository's generated application log (tests/bench/logs.py,
with stack traces), where Drain3 gets each line's message (the part after
`time level [thread] logger - `) and, for reference, the raw lines; then each Loghub
dataset's 2,000 lines repeated to 200,000 with every number re-drawn (so no run merely
replays the first), Drain3 again on the matching Content.
"""

from __future__ import annotations

import gc
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from drain3 import TemplateMiner as Drain3  # noqa: E402
from drain3.masking import MaskingInstruction  # noqa: E402
from drain3.template_miner_config import TemplateMinerConfig  # noqa: E402

from engine.evidence.logs.mining import mine_log  # noqa: E402
from tests.bench import loghub  # noqa: E402
from tests.bench.logs import generate_log  # noqa: E402

REPEATS = 3
BIG = 200_000
# Drain3's examples/drain3.ini, [MASKING] section.
DRAIN3_MASKING = (
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
)
_DRAIN3_MASK = re.compile(r"<(?:ID|IP|SEQ|HEX|NUM|CMD)>")
_GENERATED_HEAD = re.compile(r"\S+ \S+ \w+\s+\[[^\]]*\] \S+ - ")
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?![A-Za-z])")


def drain3_miner() -> Drain3:
    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN3_MASKING]
    config.profiling_enabled = False
    return Drain3(config=config)


def run_drain3(contents: Sequence[str]) -> tuple[list[int], list[str]]:
    """Each line's cluster id and the cluster's final template, masks shown as <*>."""
    miner = drain3_miner()
    ids = [miner.add_log_message(content)["cluster_id"] for content in contents]
    final = {c.cluster_id: _DRAIN3_MASK.sub("<*>", c.get_template()) for c in miner.drain.clusters}
    return ids, [final[i] for i in ids]


def run_ours(raw: bytes) -> tuple[list[int], list[str]]:
    mined = mine_log(raw)
    text = {t.template_id: t.template for t in mined.templates}
    return mined.template_ids, [text[i] for i in mined.template_ids]


def best_rate(lines: int, work: Callable[[], object]) -> float:
    """Lines per second of the fastest of REPEATS runs."""
    best = float("inf")
    for _ in range(REPEATS):
        gc.collect()
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return lines / best


def accuracy_table() -> None:
    print("| Dataset | GA ours | GA Drain3 | PA ours | PA Drain3 | lines/s ours | lines/s Drain3 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    sums = [0.0] * 6
    for name in loghub.DATASETS:
        data = loghub.load(name)
        ours_ids, ours_templates = run_ours(data.raw)
        drain_ids, drain_templates = run_drain3(data.contents)
        figures = (
            loghub.grouping_accuracy(data.event_ids, ours_ids),
            loghub.grouping_accuracy(data.event_ids, drain_ids),
            loghub.parsing_accuracy(data.templates, ours_templates),
            loghub.parsing_accuracy(data.templates, drain_templates),
            best_rate(len(data.contents), partial(mine_log, data.raw)),
            best_rate(len(data.contents), partial(run_drain3, data.contents)),
        )
        sums = [s + f for s, f in zip(sums, figures, strict=True)]
        print(_row(name, figures))
    print(_row("**Mean**", [s / len(loghub.DATASETS) for s in sums]))


def _row(label: str, figures: Sequence[float]) -> str:
    accuracy = " | ".join(f"{f:.3f}" for f in figures[:4])
    return f"| {label} | {accuracy} | {figures[4]:,.0f} | {figures[5]:,.0f} |"


def _redraw_numbers(text: str, rng: random.Random) -> str:
    def redraw(m: re.Match[str]) -> str:
        return "".join(rng.choice("0123456789") for _ in m.group())

    return _NUMBER.sub(redraw, text)


def scaled_loghub(data: loghub.Dataset, lines: int, seed: int = 1) -> tuple[bytes, list[str]]:
    """`data` repeated to `lines` lines with numbers re-drawn, and the matching contents."""
    rng = random.Random(seed)
    raw_lines = data.raw.decode().splitlines()
    out_lines, contents = [], []
    while len(out_lines) < lines:
        for raw, content in zip(raw_lines, data.contents, strict=True):
            line = _redraw_numbers(raw, rng)
            start = raw.rstrip().rfind(content)  # the content is the line's tail
            out_lines.append(line)
            contents.append(line[start : start + len(content)] if start >= 0 else content)
    return ("\n".join(out_lines[:lines]) + "\n").encode(), contents[:lines]


def _rate_row(label: str, ours: float, theirs: float) -> str:
    return f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.1f}x |"


def throughput_table() -> None:
    print(f"| {BIG:,}-line file | ours lines/s | Drain3 lines/s | ours / Drain3 |")
    print("|---|---:|---:|---:|")
    generated = generate_log(BIG)
    raw_lines = generated.decode().splitlines()
    messages = [
        line[m.end() :] if (m := _GENERATED_HEAD.match(line)) else line for line in raw_lines
    ]
    ours = best_rate(BIG, partial(mine_log, generated))
    theirs = best_rate(BIG, partial(run_drain3, messages))
    print(_rate_row("generated app log (Drain3: messages)", ours, theirs))
    theirs = best_rate(BIG, partial(run_drain3, raw_lines))
    print(_rate_row("generated app log (Drain3: raw lines)", ours, theirs))
    for name in loghub.DATASETS:
        raw, contents = scaled_loghub(loghub.load(name), BIG)
        ours = best_rate(BIG, partial(mine_log, raw))
        theirs = best_rate(BIG, partial(run_drain3, contents))
        print(_rate_row(f"{name} x100, numbers re-drawn", ours, theirs))


def main() -> None:
    if not loghub.available():
        sys.exit(f"Loghub-2k not found at {loghub.DATA_DIR}")
    accuracy_table()
    print()
    throughput_table()


if __name__ == "__main__":
    main()
