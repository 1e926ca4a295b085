"""Run a command and sample the resident memory of its whole process tree.

FaultMaven reads each file in a child process (forked from multiprocessing's fork server), so
the command's own peak (getrusage) misses the reading; the tree is sampled instead.

Two sums per sample. RSS, the figure the limits are stated in: each process's resident
memory, so a page shared by the fork server and the child it forked counts twice. PSS, beside
it for reference only: a page shared by n processes counts 1/n in each, so the sum is the
memory the tree really holds. Each process's own peak RSS is kept too, by role.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    role: str  # "command", "fork server", "reader", "resource tracker" or the program's name
    rss_kb: int
    pss_kb: int


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    return children


def _kb(path: str, key: str) -> int | None:
    """The value of `key` in a /proc file, in kB; None when the process is gone (or a
    zombie, which has no memory to show)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return None


def _role(pid: int, parent: int, root: int) -> str:
    if pid == root:
        return "command"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = b" ".join(argv).decode(errors="replace")
    if not argv[0]:
        return "?"
    if "multiprocessing.forkserver" in text:
        # The server is started by the command; every process it forks runs the same line.
        return "fork server" if parent == root else "reader"
    if "multiprocessing.resource_tracker" in text:
        return "resource tracker"
    return Path(argv[0].decode(errors="replace")).name


def tree_memory(pid: int, *, with_pss: bool = True) -> list[ProcessMemory]:
    """RSS (and PSS, from smaps_rollup) of `pid` and every process below it."""
    children = _children()
    found: list[ProcessMemory] = []
    todo = [(pid, 0)]
    while todo:
        current, parent = todo.pop()
        todo.extend((child, current) for child in children.get(current, []))
        rss = _kb(f"/proc/{current}/status", "VmRSS:")
        if rss is None:  # gone since the listing
            continue
        pss = (_kb(f"/proc/{current}/smaps_rollup", "Pss:") or 0) if with_pss else 0
        found.append(ProcessMemory(current, _role(current, parent, pid), rss, pss))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and every process below it."""
    return sum(p.rss_kb for p in tree_memory(pid, with_pss=False)) / 1024


@dataclass
class Measured:
    seconds: float
    peak_mb: float  # the highest sum of the tree's RSS in one sample
    exit_code: int
    output: str
    peak_pss_mb: float = 0.0  # the highest sum of the tree's PSS in one sample
    # Each role's own highest RSS (a role of several processes: the highest of them).
    peak_by_role_mb: dict[str, float] = field(default_factory=dict)

    def roles(self) -> str:
        """'command 44, fork server 52, …' in MB."""
        return ", ".join(f"{role} {mb:.0f}" for role, mb in self.peak_by_role_mb.items())


def measure(
    command: list[str], *, env: dict[str, str] | None = None, limit_s: float = 3600.0
) -> Measured:
    """Run `command` (stdout and stderr together), sampling its tree's memory every 20 ms."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    peak = peak_pss = 0.0
    by_role: dict[str, float] = {}
    chunks: list[bytes] = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    while process.poll() is None:
        sample = tree_memory(process.pid)
        peak = max(peak, sum(p.rss_kb for p in sample) / 1024)
        peak_pss = max(peak_pss, sum(p.pss_kb for p in sample) / 1024)
        for p in sample:
            by_role[p.role] = max(by_role.get(p.role, 0.0), p.rss_kb / 1024)
        if time.monotonic() - started > limit_s:
            process.kill()
        chunk = process.stdout.read()
        if chunk:
            chunks.append(chunk)
        time.sleep(0.02)
    rest = process.stdout.read()
    if rest:
        chunks.append(rest)
    seconds = time.monotonic() - started
    output = b"".join(chunks).decode(errors="replace")
    return Measured(seconds, peak, process.returncode, output, peak_pss, by_role)
