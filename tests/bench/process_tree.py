"""Run a command and sample the resident memory of its whole process tree.

FaultMaven reads each file in a child process (forked from multiprocessing's fork server), so
the command's own peak (getrusage) misses the reading; the tree is sampled instead.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    exit_code: int
    output: str


def measure(
    command: list[str], *, env: dict[str, str] | None = None, limit_s: float = 3600.0
) -> Measured:
    """Run `command` (stdout and stderr together), sampling its tree's memory every 20 ms."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    peak = 0.0
    chunks: list[bytes] = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
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
    return Measured(seconds, peak, process.returncode, output)
