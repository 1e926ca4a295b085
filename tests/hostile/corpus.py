"""Hostile and malformed uploads, generated (nothing large is committed).

Each `Hostile` is a file as a careless user or an attacker would drop it into a thread, with
what the product must do with it: give a report (of a kind, when that is what the file is)
or refuse it with a clear message. Never a traceback, never a hang, never a file written
outside the data directory. `tests/hostile/test_corpus.py` runs every one through the
readers; `tests/bench/bench_hostile.py` measures their time and memory.

Classes: encodings, binaries, archives (bombs, traversal, links, devices, nesting, encrypted,
empty), parser bombs (deep nesting, billion laughs, huge numbers, YAML tags), lines that made
regular expressions backtrack, huge lines and huge counts, control characters, hostile file
names, secrets and prompt injection.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tests.hostile.builders import (
    SAMPLE_LOG,
    billion_laughs,
    control_characters,
    distinct_errors,
    injection,
    joined_lines,
    log_line,
    many_members,
    nested_zips,
    prose,
    random_floats,
    secrets_log,
    tar_links_and_devices,
    tar_of,
    tar_traversal,
    utf16,
    zip_bomb,
    zip_of,
    zip_with_link,
)

Outcome = Literal["report", "refused", "either"]


@dataclass(frozen=True)
class Hostile:
    label: str  # what the input is, for test ids and the benchmark table
    category: str
    name: str  # the file name as uploaded
    make: Callable[[], bytes]
    outcome: Outcome
    kind: str | None = None  # the report's kind when one is expected
    worst: bool = False  # the worst of its category, timed by the benchmark at full size

    @property
    def data(self) -> bytes:
        return self.make()


def corpus() -> list[Hostile]:
    """Every hostile input, small enough to run in the tests (the benchmark scales some up)."""
    numbered = ",".join(map(str, range(1, 41))) + "\n" + ",".join(map(str, range(1, 40))) + "\n"
    items = [
        # --- encodings
        Hostile(
            "UTF-16 LE with BOM",
            "encoding",
            "utf16le.log",
            lambda: utf16(SAMPLE_LOG, "utf-16-le", b"\xff\xfe"),
            "report",
            "log",
        ),
        Hostile(
            "UTF-16 BE with BOM",
            "encoding",
            "utf16be.log",
            lambda: utf16(SAMPLE_LOG, "utf-16-be", b"\xfe\xff"),
            "report",
            "log",
        ),
        Hostile(
            "UTF-16 LE without BOM",
            "encoding",
            "utf16nobom.log",
            lambda: utf16(SAMPLE_LOG, "utf-16-le"),
            "report",
            "log",
        ),
        Hostile(
            "UTF-32 with BOM",
            "encoding",
            "utf32.log",
            lambda: SAMPLE_LOG.encode("utf-32"),
            "either",
        ),
        Hostile(
            "Latin-1 accents",
            "encoding",
            "latin1.log",
            lambda: SAMPLE_LOG.replace("refused", "refusée").encode("latin-1"),
            "report",
            "log",
        ),
        Hostile(
            "invalid UTF-8 bytes mixed in",
            "encoding",
            "mixed.log",
            lambda: SAMPLE_LOG.encode() + b"\xff\xfe\xfa broken \xc3\x28\n" * 5,
            "report",
            "log",
        ),
        Hostile(
            "a BOM and nothing else", "encoding", "bom.log", lambda: b"\xef\xbb\xbf", "refused"
        ),
        Hostile("empty file", "encoding", "empty.log", lambda: b"", "refused"),
        Hostile(
            "only blank lines", "encoding", "blank.log", lambda: b"\n \n\t\n" * 1000, "refused"
        ),
        Hostile(
            "lone CRs as line ends",
            "encoding",
            "cr.log",
            lambda: SAMPLE_LOG.replace("\n", "\r").encode(),
            "report",
            "log",
        ),
        Hostile(
            "lone CR and delimiters on line 1",
            "encoding",
            "lonecr.log",
            lambda: b"a,b\rc,d\nx,y\n",
            "report",
        ),
        # --- binaries
        Hostile(
            "ELF binary named .log",
            "binary",
            "app.log",
            lambda: b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 16,
            "refused",
        ),
        Hostile(
            "ELF header with a lone CR and delimiters",
            "binary",
            "core.log",
            lambda: b"\x7fELF,\x01,\x01\r\x00\n" + bytes(range(256)) * 4,
            "refused",
        ),
        Hostile(
            "PNG named .csv",
            "binary",
            "chart.csv",
            lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
            "refused",
        ),
        Hostile("NUL bytes only", "binary", "zeros.log", lambda: b"\x00" * 100_000, "refused"),
        Hostile(
            "random bytes",
            "binary",
            "random.log",
            lambda: random.Random(1).randbytes(50_000),
            "refused",
        ),
        Hostile(
            "leading NUL run then a log",
            "binary",
            "rotated.log",
            lambda: b"\x00" * 70_000 + SAMPLE_LOG.encode(),
            "report",
            "log",
        ),
        # --- archives
        Hostile(
            "zip bomb (300 MB of one byte)", "archive", "logs.zip", zip_bomb, "refused", worst=True
        ),
        Hostile(
            "gzip bomb",
            "archive",
            "app.log.gz",
            lambda: gzip.compress(b"\x00" * (300 * 1024 * 1024)),
            "refused",
        ),
        Hostile(
            "xz bomb",
            "archive",
            "app.log.xz",
            lambda: lzma.compress(b"A" * (300 * 1024 * 1024)),
            "refused",
        ),
        Hostile(
            "bz2 bomb",
            "archive",
            "app.log.bz2",
            lambda: bz2.compress(b"A" * (100 * 1024 * 1024)),
            "refused",
        ),
        Hostile("zip nested 6 deep", "archive", "nested.zip", lambda: nested_zips(6), "refused"),
        Hostile("zip of 5,000 members", "archive", "many.zip", many_members, "refused"),
        Hostile(
            "tar with ../ and absolute paths",
            "archive",
            "escape.tar",
            lambda: tar_of(tar_traversal),
            "report",
        ),
        Hostile(
            "tar with links and devices",
            "archive",
            "links.tar.gz",
            lambda: tar_of(tar_links_and_devices, "w:gz"),
            "report",
        ),
        Hostile(
            "zip with a symlink member",
            "archive",
            "link.zip",
            lambda: zip_with_link("passwd.log", "/etc/passwd"),
            "report",
        ),
        Hostile(
            "zip with ../ member names",
            "archive",
            "slip.zip",
            lambda: zip_of({"../../evil.log": b"ERROR x\n", "ok.log": b"INFO ok\n"}),
            "report",
        ),
        Hostile(
            "zip flagged encrypted",
            "archive",
            "secret.zip",
            lambda: zip_of({"app.log": SAMPLE_LOG.encode()}, flag_encrypted=True),
            "refused",
        ),
        Hostile(
            "zip of folders only",
            "archive",
            "folders.zip",
            lambda: zip_of({"a/": b"", "a/b/": b""}),
            "refused",
        ),
        Hostile(
            "truncated zip",
            "archive",
            "cut.zip",
            lambda: zip_of({"app.log": SAMPLE_LOG.encode() * 50})[:300],
            "refused",
        ),
        Hostile(
            "truncated gzip",
            "archive",
            "cut.log.gz",
            lambda: gzip.compress(SAMPLE_LOG.encode() * 50)[:200],
            "refused",
        ),
        Hostile(
            "multi-member gzip",
            "archive",
            "joined.log.gz",
            lambda: gzip.compress(SAMPLE_LOG.encode()) + gzip.compress(SAMPLE_LOG.encode()),
            "report",
        ),
        # --- parser bombs
        Hostile(
            "JSON nested 5,000 deep",
            "parser",
            "deep.json",
            lambda: b"[" * 5000 + b"]" * 5000,
            "either",
            worst=True,
        ),
        Hostile(
            "JSON lines nested 5,000 deep",
            "parser",
            "deep.jsonl",
            lambda: b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n",
            "either",
        ),
        Hostile(
            "YAML flow nested 5,000 deep",
            "parser",
            "deep.yaml",
            lambda: b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "either",
        ),
        Hostile(
            "YAML blocks nested 2,000 deep",
            "parser",
            "indent.yaml",
            lambda: "".join(" " * i + f"k{i}:\n" for i in range(2000)).encode(),
            "either",
        ),
        Hostile(
            "TOML nested 5,000 deep",
            "parser",
            "deep.toml",
            lambda: b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "either",
        ),
        Hostile(
            "100,001-digit JSON integer",
            "parser",
            "bigint.json",
            lambda: b'{"v": ' + b"9" * 100_001 + b"}",
            "either",
        ),
        Hostile(
            "100,001-digit TOML integer",
            "parser",
            "bigint.toml",
            lambda: b"v = " + b"9" * 100_001 + b"\n",
            "either",
        ),
        Hostile("billion laughs YAML", "parser", "laughs.yaml", billion_laughs, "either"),
        Hostile(
            "YAML python tags",
            "parser",
            "tags.yaml",
            lambda: b"a: !!python/object/apply:os.system ['touch /tmp/faultmaven-pwned']\n",
            "either",
        ),
        Hostile(
            "JSON NaN and Infinity",
            "parser",
            "nan.json",
            lambda: b'{"v": NaN, "w": Infinity, "x": -Infinity}',
            "either",
        ),
        Hostile(
            "metrics of 1.7e308",
            "parser",
            "huge.csv",
            lambda: b"time,v\n" + joined_lines(60, lambda i: f"2026-11-21T14:{i:02d}:00Z,1.7e308"),
            "refused",
        ),
        Hostile(
            ".env quote that never closes",
            "parser",
            "unclosed.env",
            lambda: b'A="' + b"abc def\n" * 300_000,
            "report",
            "config",
            worst=True,
        ),
        Hostile(
            "INI with 100,000 sections",
            "parser",
            "sections.ini",
            lambda: joined_lines(100_000, lambda i: f"[s{i}]\nk = v"),
            "either",
        ),
        # --- backtracking
        Hostile(
            "numbered CSV columns (219 bytes)",
            "backtracking",
            "numbers.csv",
            lambda: numbered.encode(),
            "either",
            worst=True,
        ),
        Hostile(
            "4-line CSV of 130 random floats",
            "backtracking",
            "floats.csv",
            lambda: random_floats(4, 130, 3),
            "either",
        ),
        Hostile(
            "key repeated a megabyte long",
            "backtracking",
            "keys.log",
            lambda: b"key" * 350_000 + b"\n",
            "either",
        ),
        Hostile(
            "password= repeated",
            "backtracking",
            "pw.log",
            lambda: (b"password=" * 100_000) + b"\n",
            "either",
        ),
        Hostile(
            "10,000 delimiters on one line",
            "backtracking",
            "pipes.log",
            lambda: b"|" * 10_000 + b"\nERROR x\n",
            "either",
        ),
        Hostile(
            "quotes that never close",
            "backtracking",
            "quotes.log",
            lambda: b'"' * 200_000 + b"\n",
            "either",
        ),
        # --- huge lines and counts
        Hostile("one 1 MB line", "size", "oneline.log", lambda: b"x" * (1 << 20) + b"\n", "report"),
        Hostile(
            "one 5 MB line",
            "size",
            "fiveline.log",
            lambda: b"ERROR " + b"y" * (5 << 20) + b"\n",
            "report",
            worst=True,
        ),
        Hostile(
            "CSV with 50,000 columns",
            "size",
            "wide.csv",
            lambda: (
                ",".join(f"c{i}" for i in range(50_000))
                + "\n"
                + ",".join(map(str, range(50_000)))
                + "\n"
            ).encode(),
            "either",
        ),
        Hostile(
            "lines of varied prose, each an ERROR",
            "size",
            "prose.log",
            lambda: prose(20_000),
            "report",
            "log",
            worst=True,
        ),
        Hostile(
            "distinct error lines",
            "size",
            "distinct.log",
            lambda: distinct_errors(20_000),
            "report",
            "log",
            worst=True,
        ),
        Hostile(
            "a CSV log with a 300 KB field",
            "size",
            "export.csv",
            lambda: b'time,level,message\n2026-11-21T14:00:00Z,ERROR,"' + b"z" * 300_000 + b'"\n',
            "either",
        ),
        # --- control characters
        Hostile(
            "OSC and CSI escapes in log lines",
            "control",
            "escapes.log",
            control_characters,
            "report",
            "log",
        ),
        Hostile(
            "NUL and bell inside lines",
            "control",
            "bells.log",
            lambda: joined_lines(30, lambda i: log_line(i, "x\x07y\x00z")),
            "either",
        ),
        # --- file names
        Hostile(
            "name with a newline",
            "name",
            "evil\nname.log",
            lambda: SAMPLE_LOG.encode(),
            "report",
            "log",
        ),
        Hostile(
            "name with ../",
            "name",
            "../../etc/cron.d/x.log",
            lambda: SAMPLE_LOG.encode(),
            "report",
            "log",
        ),
        Hostile(
            "name with escapes and RTL override",
            "name",
            "\x1b]0;x\x07gol.\u202etxt",
            lambda: SAMPLE_LOG.encode(),
            "report",
            "log",
        ),
        Hostile(
            "a 1,000-character name",
            "name",
            "a" * 996 + ".log",
            lambda: SAMPLE_LOG.encode(),
            "report",
            "log",
        ),
        # --- secrets and injection
        Hostile("34 secret shapes", "secrets", "secrets.log", secrets_log, "report", "log"),
        Hostile(
            "prompt injection before real OOM errors",
            "injection",
            "inject.log",
            injection,
            "report",
            "log",
        ),
    ]
    return items
