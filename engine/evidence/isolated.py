"""Read one file in a child process: a deadline enforced from outside, a memory cap, and one
clear line instead of a traceback whatever the reader does.

A regular expression that backtracks holds the GIL, so no timeout in the process that runs
it can stop it (an `asyncio.wait_for` around such a thread never fired in 90 s). Each file
is therefore read in a child forked from multiprocessing's fork server, which has the readers
imported already (one start per process, then a fork per file: milliseconds). The child is
given a soft deadline, at which a log stops and reports the part it read; a child still
running a grace period later (half the soft deadline, at most 10 s) is killed and the file
gets a line saying so. Its address space is capped, so one file cannot push the worker into
the kernel's OOM killer.

Every outcome is a report or an `EvidenceRejected` whose message names the file's problem:
a reader's own refusal, "took longer than …", "needed more than … MB", or an unexpected
error, logged here with an id the user can quote.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, cast

from engine.core.errors import EvidenceRejected, FaultMavenError, new_error_id

if TYPE_CHECKING:
    from engine.core.config import Settings
    from engine.core.redact import Redactor
    from engine.evidence.reports import AnyReport

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("forkserver")
# The server imports the readers and reads a tiny file of each kind once (engine/evidence/warm.py),
# so a forked child starts warm.
_CONTEXT.set_forkserver_preload(["engine.evidence.isolated", "engine.evidence.warm"])


def _children_skip_the_main_script() -> None:
    """A child of the fork server runs the parent's main script again (as `__mp_main__`)
    before its target, unless the main module has a spec named "__main__": 100 ms and more
    per file for `faultmaven` (its CLI and everything that imports), where the read itself
    takes a few. Preloading "__main__" in the server does not help on Python 3.11 (it never
    receives the path). The readers need nothing from the main script, so its spec says so.
    """
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = ModuleSpec("__main__", None)


MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """How long and how much memory one file may take. Time grows with size: a reader
    that does its work in linear time needs far less than a second per MB."""

    base_s: float = 20.0
    s_per_mb: float = 1.0
    # After the soft deadline, before the child is killed: time for a log to send the part
    # it read. Half the soft deadline, at most 10 s.
    grace_s: float | None = None
    memory_mb: int = 2048

    def seconds_for(self, size_bytes: int) -> float:
        return self.base_s + self.s_per_mb * size_bytes / MB

    def grace_for(self, seconds: float) -> float:
        return self.grace_s if self.grace_s is not None else min(10.0, seconds / 2)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(
            base_s=settings.read_timeout_s,
            s_per_mb=settings.read_s_per_mb,
            memory_mb=settings.read_memory_mb,
        )


# What the child sends back: ("report", report), ("refused", message) or ("failed", (error,
# traceback)) for an exception no reader meant.
_Outcome = tuple[str, object]


def _read_in_child(
    connection: Connection,
    name: str,
    source: bytes | Path,
    redactor: Redactor | None,
    seconds: float,
    memory_bytes: int,
) -> None:
    # The fork server imported the readers (engine/evidence/warm.py): here this is a lookup.
    # Not at the top of this module, which the parent imports too and needs no reader for.
    from engine.evidence.analyze import analyze

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    deadline = time.monotonic() + seconds
    outcome: _Outcome
    try:
        if isinstance(source, Path):
            with source.open("rb") as stream:
                outcome = ("report", analyze(name, stream, redactor=redactor, deadline=deadline))
        else:
            outcome = ("report", analyze(name, source, redactor=redactor, deadline=deadline))
    except FaultMavenError as exc:
        outcome = ("refused", exc.user_message)
    except MemoryError:
        limit = f"{memory_bytes // MB:,} MB"
        outcome = ("refused", f"The file needs more than {limit} of memory to read.")
    except RecursionError:
        outcome = ("refused", "The file is nested too deeply to read.")
    except Exception as exc:
        # Logged by the parent, with its logging set-up: this process has none of its own.
        outcome = ("failed", (f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()))
    connection.send(outcome)
    connection.close()


def read_isolated(
    name: str,
    source: bytes | Path,
    *,
    redactor: Redactor | None = None,
    limits: ReadLimits | None = None,
) -> AnyReport:
    """The report of one file read in a child process; EvidenceRejected with a clear
    message for anything else. Blocking: call it from a thread in async code."""
    limits = limits or ReadLimits()
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    seconds = limits.seconds_for(size)
    _children_skip_the_main_script()
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
        target=_read_in_child,
        args=(sender, name, source, redactor, seconds, limits.memory_mb * MB),
        name=f"faultmaven-read-{name[:40]}",
        daemon=True,
    )
    child.start()
    sender.close()  # the child holds its own end: EOF here once it exits
    outcome: _Outcome | None = None
    waited = seconds + limits.grace_for(seconds)
    timed_out = False
    try:
        if receiver.poll(waited):
            outcome = receiver.recv()
        else:
            timed_out = True
    except EOFError:  # the child died without an answer: the kernel killed it, a crash
        pass
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if timed_out:
        raise EvidenceRejected(
            f"The file took longer than {waited:.0f} s to read, the time allowed for one "
            "file, so nothing from it is used."
        )
    if outcome is None:
        error_id = new_error_id()
        log.error(
            "reading %s: exit code %s, no answer (error id %s)", name, child.exitcode, error_id
        )
        raise EvidenceRejected(
            f"The file could not be read: the reader stopped (error id {error_id})."
        )
    what, value = outcome
    if what == "refused":
        raise EvidenceRejected(str(value))
    if what == "failed":
        error, details = cast(tuple[str, str], value)
        error_id = new_error_id()
        # One line (no traceback reaches a terminal or a log pipeline unasked); DEBUG has it.
        log.error("reading %s failed (error id %s): %s", name, error_id, error)
        log.debug("error %s:\n%s", error_id, details)
        raise EvidenceRejected(
            f"The file could not be read: the reader failed (error id {error_id})."
        )
    report: AnyReport = value  # type: ignore[assignment]
    return report
