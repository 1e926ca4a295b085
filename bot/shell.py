"""`faultmaven shell`: the same engine in a terminal, no Slack (like Hubot's shell adapter).

Each case is a pseudo-thread in the pseudo-channel "shell"; replies print to stdout; files
come from local paths. Work runs in-process: no queue, so no Redis is needed.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TextIO

from bot.terminal import printable
from engine.cases.accuracy import describe_accuracy
from engine.cases.service import CaseService
from engine.core.authz import LocalAdmin
from engine.core.config import Settings
from engine.core.errors import DownloadFailed, EvidenceRejected, FaultMavenError
from engine.core.models import (
    Case,
    CloseCaseRequest,
    FeedbackRequest,
    FileRef,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    MentionRequest,
    OutcomeRequest,
    OutcomeVerdict,
    ReopenCaseRequest,
    ThreadRef,
)
from engine.core.replies import AnswerReply, CaseSummaryReply, Reply
from engine.core.wording import case_line

CHANNEL = "shell"
USER = "you"

HELP = """Commands:
  /open TITLE        start a case
  /upload PATH...    add files to the current case as evidence
  /confirm N         confirm hypothesis N of the case summary;  /ruleout N  rule it out
  /close [TEXT]      close the current case with a resolution (its postmortem is saved)
  /reopen ID [WHY]   open a resolved case again
  /grade ID root|contributing|symptom|wrong   how good a closed case's leading hypothesis was
  /stats             how often the first hypothesis was right, from the grades
  /search TEXT       runbooks, notes and past cases;  /kb add TEXT|URL|PATH  add knowledge
  /status            the current case;  /list  open cases;  /resume ID  switch case
  /help              this text;  /quit  leave (cases are kept)
Anything else is a question about the current case (it opens one if there is none)."""


# What `/grade` takes, as the close summary's buttons say it.
GRADE_WORDS: dict[str, OutcomeVerdict] = {
    "root": "root_cause",
    "root_cause": "root_cause",
    "contributing": "contributing",
    "symptom": "symptom",
    "wrong": "wrong",
}

SUMMARY_HINT = "   (/confirm N or /ruleout N on a hypothesis; the next turn re-plans with it)"


def format_reply(reply: Reply) -> str:
    if isinstance(reply, AnswerReply):
        return f"{reply.text}\n— {reply.footer}"
    if isinstance(reply, CaseSummaryReply):
        if reply.status:  # progress of a run: one line, not the whole summary again
            return f"  … {reply.status}"
        return "\n".join(["📌 " + reply.text.replace("\n", "\n   "), SUMMARY_HINT])
    return reply.text


class TerminalReplier:
    def __init__(self, write: Callable[[str], None], files_dir: Path) -> None:
        self.write = write
        self.files_dir = files_dir
        self._next_id = 0

    async def post(self, channel_id: str, reply: Reply, thread_ts: str | None = None) -> str:
        self.write(format_reply(reply))
        self._next_id += 1
        return f"shell-msg-{self._next_id}"

    async def update(self, channel_id: str, message_id: str, reply: Reply) -> None:
        self.write(format_reply(reply))

    async def pin(self, channel_id: str, message_id: str) -> None:
        """The summary is printed after every turn; nothing to pin in a terminal."""

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> None:
        """A terminal cannot show a PNG: save it and say where."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / filename
        await asyncio.to_thread(path.write_bytes, content)
        self.write(f"[{title}: {path}]")

    async def post_private(self, channel_id: str, user_id: str, reply: Reply) -> None:
        self.write(format_reply(reply))  # a terminal has one reader

    async def link(self, channel_id: str, message_id: str) -> str | None:
        return None


class LocalFileSource:
    """Reads files named on the command line; FileRef.url holds the path."""

    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        return await asyncio.to_thread(self._read, Path(file.url or file.name), max_bytes)

    @staticmethod
    def _read(path: Path, max_bytes: int) -> bytes:
        path = path.expanduser()
        if not path.is_file():
            raise DownloadFailed(f"No such file: {path}")
        size = path.stat().st_size
        if size > max_bytes:
            raise EvidenceRejected(
                f"{path.name} is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB "
                "limit (FAULTMAVEN_MAX_FILE_MB)."
            )
        return path.read_bytes()


def file_ref(path: str) -> FileRef:
    resolved = Path(path).expanduser().resolve()
    # The path and mtime identify the upload: re-uploading a changed file is new evidence.
    mtime = int(resolved.stat().st_mtime) if resolved.is_file() else 0
    return FileRef(source_id=f"local:{resolved}:{mtime}", name=resolved.name, url=str(resolved))


class Shell:
    def __init__(self, service: CaseService, out: TextIO) -> None:
        self.service = service
        self.out = out
        self.case: Case | None = None

    def say(self, text: str) -> None:
        print(printable(text), file=self.out, flush=True)

    @property
    def prompt(self) -> str:
        return f"#{self.case.id}> " if self.case else "faultmaven> "

    async def _open(self, title: str) -> Case:
        thread = ThreadRef(channel_id=CHANNEL, thread_ts=f"shell-{uuid.uuid4().hex[:12]}")
        self.case = await self.service.start_case(thread, title=title, user=USER)
        self.say(f"Case #{self.case.id} opened: {self.case.title}")
        return self.case

    async def handle(self, line: str) -> bool:
        """Handle one input line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            await self._ask(line)
            return True
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        if command in ("/quit", "/exit"):
            return False
        if command == "/help":
            self.say(HELP)
        elif command == "/open":
            await self._open(rest or "Untitled case")
        elif command == "/upload":
            await self._upload(rest)
        elif command in ("/confirm", "/ruleout"):
            await self._feedback("confirm" if command == "/confirm" else "rule_out", rest)
        elif command == "/close":
            await self._close(rest)
        elif command in ("/status", "/list"):
            await self._status(current_only=command == "/status")
        elif command == "/resume":
            await self._resume(rest)
        elif command == "/reopen":
            await self._reopen(rest)
        elif command == "/grade":
            await self._grade(rest)
        elif command == "/stats":
            self.say(describe_accuracy(await self.service.accuracy(None)))
        elif command == "/search":
            await self._search(rest)
        elif command == "/kb":
            await self._kb(rest)
        else:
            self.say(f"Unknown command {command}. Type /help.")
        return True

    async def _ask(self, text: str) -> None:
        case = self.case or await self._open(text)
        await self.service.answer_mention(
            MentionRequest(thread=case.thread, ts=_new_ts(), user=USER, text=text),
            key=uuid.uuid4().hex,
        )

    async def _upload(self, rest: str) -> None:
        paths = shlex.split(rest)
        if not paths:
            self.say("Usage: /upload PATH [PATH...]")
            return
        case = self.case or await self._open(f"Investigating {Path(paths[0]).name}")
        await self.service.add_files(
            FilesRequest(
                thread=case.thread, ts=_new_ts(), user=USER, files=[file_ref(p) for p in paths]
            ),
            key=uuid.uuid4().hex,
        )

    async def _feedback(self, kind: Literal["confirm", "rule_out"], rest: str) -> None:
        if self.case is None:
            self.say("There is no current case. Start one with /open TITLE.")
            return
        hypotheses = await self.service.case_hypotheses(self.case.id)
        try:
            chosen = hypotheses[int(rest.lstrip("#")) - 1]
        except (ValueError, IndexError):
            self.say(f"Usage: /{kind.replace('_', '')} N, N from 1 to {len(hypotheses)}.")
            return
        await self.service.record_feedback(
            FeedbackRequest(case_id=self.case.id, hypothesis_key=chosen.id, kind=kind, user=USER),
            key=uuid.uuid4().hex,
        )

    async def _close(self, resolution: str) -> None:
        if self.case is None:
            self.say("There is no open case to close. Start one with /open TITLE.")
            return
        await self.service.close_case(
            CloseCaseRequest(case_id=self.case.id, user=USER, resolution=resolution),
            key=uuid.uuid4().hex,
        )
        self.case = None

    async def _status(self, *, current_only: bool) -> None:
        stats = await self.service.open_cases(channel_id=CHANNEL)
        if current_only and self.case:
            stats = [s for s in stats if s.case.id == self.case.id]
        if not stats:
            self.say(
                "No open cases." if not current_only else "No current case. /list shows open ones."
            )
        for s in stats:
            self.say(case_line(s))

    async def _resume(self, rest: str) -> None:
        try:
            case_id = int(rest.lstrip("#"))
        except ValueError:
            self.say("Usage: /resume ID")
            return
        stats = await self.service.case_stats(case_id)
        if stats.case.channel_id != CHANNEL or stats.case.status != "open":
            self.say(f"Case #{case_id} is not an open shell case.")
            return
        self.case = stats.case
        self.say(f"Now on case #{case_id}: {self.case.title}")

    async def _reopen(self, rest: str) -> None:
        case_id, _, why = rest.lstrip("#").partition(" ")
        if not case_id.isdigit():
            self.say("Usage: /reopen ID [why]")
            return
        await self.service.reopen_case(
            ReopenCaseRequest(case_id=int(case_id), user=USER, reason=why.strip()),
            key=uuid.uuid4().hex,
        )
        self.case = (await self.service.case_stats(int(case_id))).case

    async def _grade(self, rest: str) -> None:
        case_id, _, word = rest.lstrip("#").partition(" ")
        verdict = GRADE_WORDS.get(word.strip().lower())
        if not case_id.isdigit() or verdict is None:
            self.say("Usage: /grade ID root|contributing|symptom|wrong")
            return
        lead = await self.service.closing_lead(int(case_id))
        said = await self.service.record_outcome(
            OutcomeRequest(
                case_id=int(case_id),
                user=USER,
                channel_id=CHANNEL,
                verdict=verdict,
                hypothesis_key=lead.id if lead else None,
            )
        )
        self.say(said)

    async def _search(self, rest: str) -> None:
        if not rest:
            self.say("Usage: /search TEXT")
            return
        await self.service.search_knowledge(
            KnowledgeSearchRequest(channel_id=CHANNEL, user=USER, query=rest)
        )

    async def _kb(self, rest: str) -> None:
        """`/kb add TEXT|URL|PATH`: a path that exists is read as a file."""
        verb, _, what = rest.partition(" ")
        what = what.strip()
        if verb != "add" or not what:
            self.say("Usage: /kb add TEXT|URL|PATH")
            return
        is_file = await asyncio.to_thread(lambda: Path(what).expanduser().is_file())
        files = [file_ref(what)] if is_file else []
        await self.service.add_knowledge(
            KnowledgeAddRequest(
                channel_id=CHANNEL, user=USER, text="" if files else what, files=files
            ),
            key=uuid.uuid4().hex,
        )


def _new_ts() -> str:
    """A message id that sorts in time order, like Slack's ts."""
    return f"{time.time_ns():020d}"


async def run_shell(
    settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    from bot.runtime import Backends  # starts the embedded Postgres on first use

    interactive = stdin.isatty()
    print(
        "FaultMaven shell — the engine without Slack. Type /help, or describe the incident.",
        file=stdout,
        flush=True,
    )
    backends = await Backends.start(settings, with_redis=False)
    try:
        shell = Shell(
            CaseService(
                backends.pool,
                settings,
                replier=TerminalReplier(
                    lambda t: print(printable(t), file=stdout, flush=True),
                    settings.data_dir / "files",
                ),
                files=LocalFileSource(),
                directory=LocalAdmin(),  # the terminal's user runs this install
            ),
            stdout,
        )
        # The starter runbooks load while the user types (the first time: a few seconds).
        knowledge = asyncio.create_task(shell.service.prepare_knowledge())
        if not settings.llm_models:
            print(
                "(no LLM configured: answers come from the offline reasoner;"
                " set LLM_MODEL to use one)",
                file=stdout,
                flush=True,
            )
        while True:
            if interactive:
                print(shell.prompt, end="", file=stdout, flush=True)
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if not interactive:
                print(printable(f"{shell.prompt}{line.rstrip()}"), file=stdout, flush=True)
            try:
                if not await shell.handle(line):
                    break
            except FaultMavenError as exc:
                shell.say(f"⚠️ {exc.user_message}")
        await _finish(knowledge)
    finally:
        await backends.close()


async def _finish(task: asyncio.Task[None]) -> None:
    """Wait for the knowledge preparation (a short session may end before it does)."""
    try:
        await task
    except Exception as exc:
        print(f"(knowledge not prepared: {exc})", file=sys.stderr)
