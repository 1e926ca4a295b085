"""The `faultmaven` command: run, shell, analyze, investigate, templates, kb, tools, db, audit,
stats."""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import sys
import warnings
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.audit import audit
from bot.cli.kb import kb_app
from bot.cli.stats import stats
from bot.cli.tools import tools_app
from bot.terminal import echo
from engine.core.config import Settings
from engine.core.errors import FaultMavenError

if TYPE_CHECKING:  # the CLI imports the heavy evidence modules only in the commands
    from engine.evidence.reports import AnyReport
    from engine.evidence.suspects.ranking import Suspect
    from engine.evidence.timeline import TimelineEvent
    from engine.investigate.result import Investigation

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="FaultMaven: troubleshooting copilot for Slack.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(tools_app, name="tools")
app.command("audit")(audit)
app.command("stats")(stats)


def _setup_logging(level: str) -> None:
    from engine.ops.log_setup import configure_logging

    # FAULTMAVEN_LOG_FORMAT=json: one JSON object per line, with case and event ids, for log
    # pipelines. Every command has read these settings already, so they validate here.
    configure_logging(level, Settings().log_format)
    # platformdirs warns about XDG_RUNTIME_DIR inside pgserver; it is noise for users.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _fail(message: str, code: int = 2) -> None:
    echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def run(
    role: Annotated[str, typer.Option(help="all | bot | worker")] = "all",
) -> None:
    """Run FaultMaven in Slack (socket mode)."""
    from bot.runtime import check_slack_settings, run_process

    settings = Settings()
    _setup_logging(settings.log_level)
    if role not in ("all", "bot", "worker"):
        _fail(f"Unknown role {role!r}: use all, bot or worker.")
    try:
        check_slack_settings(settings, role)  # type: ignore[arg-type]
    except FaultMavenError as exc:
        _fail(exc.user_message)
    asyncio.run(run_process(settings, role))  # type: ignore[arg-type]


@app.command()
def manifest(
    http: Annotated[
        str | None,
        typer.Option(
            "--http", metavar="URL", help="HTTP mode: the https URL Slack sends requests to"
        ),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="manifest.yml to start from")] = None,
) -> None:
    """Print the Slack app manifest: manifest.yml (socket mode), or with --http the variant
    for HTTP mode behind a load balancer (Request URL https://<host>/slack/events)."""
    from bot.serving.http_mode import http_manifest_text, manifest_text

    try:
        text = manifest_text(file)
        echo(http_manifest_text(text, http) if http else text, nl=False)
    except FaultMavenError as exc:
        _fail(exc.user_message)


@app.command()
def shell() -> None:
    """Chat with the engine in this terminal, no Slack needed."""
    from bot.shell import run_shell

    settings = Settings()
    _setup_logging("WARNING")
    asyncio.run(run_shell(settings))


def _analyse_files(
    files: list[Path], settings: Settings, *, show: bool
) -> tuple[list[AnyReport], int]:
    """(reports, files that failed) of local files, each printed when `show`."""
    from engine.cases.local_files import analyse_local_files
    from engine.core.redact import Redactor
    from engine.evidence.isolated import ReadLimits

    reports: list[AnyReport] = []
    failed = 0
    read = analyse_local_files(
        files,
        max_file_bytes=settings.max_file_bytes,
        redactor=Redactor(mask_ips=settings.redact_ips),
        limits=ReadLimits.from_settings(settings),
    )
    for item in read:
        if item.report is None:
            failed += 1
            echo(f"{item.shown}: {item.problem}", err=True)
            continue
        reports.append(item.report)
        if show:
            # Here, not above: the module imports every reader (numpy and the rest), which
            # this process would hold while a child reads the file (they run in the child).
            from engine.evidence.analyze import describe_report, report_notes, summarize_report

            echo(summarize_report(item.report))
            for line in describe_report(item.report, limit=5):
                echo(f"  {line}")
            for note in report_notes(item.report):
                echo(f"  note: {note}")
    return reports, failed


@app.command()
def analyze(
    files: Annotated[
        list[Path], typer.Argument(help="logs, metrics, traces, configs, or archives of them")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the full reports as JSON")] = False,
) -> None:
    """Print the evidence report of local files (archives are opened member by member)."""
    from engine.evidence.suspects.ranking import rank_case_suspects
    from engine.evidence.timeline import merged_timeline

    reports, failed = _analyse_files(files, Settings(), show=not as_json)
    suspects = rank_case_suspects(reports)
    timeline = merged_timeline(reports)
    if as_json:
        combined = {
            "reports": [r.model_dump(mode="json") for r in reports],
            "suspects": [s.model_dump(mode="json") for s in suspects],
            "timeline": [e.model_dump(mode="json") for e in timeline],
        }
        echo(json.dumps(combined, indent=2))
    else:
        _echo_case_view(suspects, timeline)
    if failed:
        raise typer.Exit(1)


@app.command()
def investigate(
    files: Annotated[list[Path], typer.Argument(help="evidence, as if uploaded to a new case")],
    question: Annotated[
        str, typer.Option("-q", "--question", help="what you would ask in the thread")
    ] = "What is going on?",
    as_json: Annotated[
        bool, typer.Option("--json", help="print the structured result as JSON")
    ] = False,
    live: Annotated[
        bool,
        typer.Option("--live", help="may query the configured sources (FAULTMAVEN_SOURCES_FILE)"),
    ] = False,
) -> None:
    """Run one investigation on local files, as if uploaded to a new case, and print it.

    The same turn as in Slack: the LLM when one is configured (LLM_MODEL), else the offline
    reasoner. With --live it may query the configured sources; each run is listed
    (`tool_runs` in the JSON) and audited."""
    from engine.investigate.local import investigate_files

    settings = Settings()
    _setup_logging("WARNING")
    reports, failed = _analyse_files(files, settings, show=False)
    if live:
        result = asyncio.run(_investigate_live(reports, question, settings))
    else:
        result = asyncio.run(investigate_files(reports, question, settings))
    if as_json:
        echo(result.model_dump_json(indent=2))
    else:
        _echo_investigation(result)
    if failed:
        raise typer.Exit(1)


async def _investigate_live(
    reports: list[AnyReport], question: str, settings: Settings
) -> Investigation:
    from bot.runtime import Backends
    from engine.cases.live_investigation import investigate_live

    backends = await Backends.start(settings, with_redis=False)  # the runs' audit rows
    try:
        return await investigate_live(reports, question, settings, pool=backends.pool)
    except FaultMavenError as exc:  # a sources file that cannot be used
        _fail(str(exc))
        raise
    finally:
        await backends.close()


def _echo_investigation(result: Investigation) -> None:
    from engine.evidence.suspects.ranking import describe_suspect

    echo(f"{result.working_conclusion}\n")
    if result.hypotheses:
        echo("Hypotheses:")
        for rank, hypothesis in enumerate(result.hypotheses, 1):
            echo(f"  {rank}. [{hypothesis.confidence:.0%}] {hypothesis.statement}")
            for citation in hypothesis.supporting[:2]:
                echo(f"       {citation.source}: {citation.text}")
    if result.suspects:
        echo("Suspects:")
        for rank, suspect in enumerate(result.suspects, 1):
            echo(f"  {rank}. {describe_suspect(suspect)}")
    if result.next_steps:
        echo("Next steps:")
        for step in result.next_steps:
            echo(f"  - {step}")
    if result.tool_runs:
        echo("Live runs:")
        for note in result.tool_runs:
            echo(f"  - {note.line}: {note.summary}" if note.ok else f"  - {note.line}")


def _echo_case_view(suspects: list[Suspect], timeline: list[TimelineEvent]) -> None:
    """All files together: who is suspect, and what happened when."""
    from engine.evidence.suspects.ranking import describe_suspect
    from engine.evidence.timeline import describe_event

    if suspects:
        echo("\nSuspects (all files):")
        for rank, suspect in enumerate(suspects, 1):
            echo(f"  {rank}. {describe_suspect(suspect, reasons=4)}")
    if timeline:
        with_date = len({event.at.date() for event in timeline}) > 1
        echo("\nTimeline (UTC):")
        for event in timeline:
            echo(f"  {describe_event(event, with_date)}")


@app.command()
def templates(
    file: Annotated[Path, typer.Argument(help="log file to mine")],
    csv: Annotated[
        bool, typer.Option("--csv", help="one row per record: line,template_id,template")
    ] = False,
    top: Annotated[int, typer.Option(help="templates listed without --csv")] = 20,
) -> None:
    """Group a log's records into templates, `<*>` where values go."""
    import csv as csv_format

    from bot.terminal import printable
    from engine.core.errors import EvidenceRejected
    from engine.core.redact import Redactor
    from engine.evidence.logs.mining import mine_log

    # Templates keep the words of the log, secrets too when no value mask took them out.
    redactor = Redactor(mask_ips=Settings().redact_ips)

    @functools.cache  # a CSV row per record, a few thousand distinct templates
    def shown(template: str) -> str:
        return printable(redactor.redact(template).text)

    try:
        if not file.is_file():
            raise EvidenceRejected(f"No such file: {file}")
        mined = mine_log(file.read_bytes())
    except FaultMavenError as exc:
        _fail(f"{file}: {exc.user_message}", 1)
    if csv:
        writer = csv_format.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("line", "template_id", "template"))
        writer.writerows((row.line, row.template_id, shown(row.template)) for row in mined.rows())
        return
    records = len(mined.lines)
    header = " ".join(mined.header) or "none found"
    echo(f"{file}: {records:,} records, {len(mined.templates):,} templates (header: {header})")
    echo(f"{'records':>9} {'share':>6} {'id':>5}  template")
    for t in mined.templates[:top]:
        share = t.records / records
        echo(f"{t.records:>9,} {share:>6.1%} {t.template_id:>5}  {shown(t.template)[:200]}")
    hidden = len(mined.templates) - top
    if hidden > 0:
        echo(f"  ... {hidden:,} more (--top N, or --csv for every record)")
    for note in mined.notes:
        echo(f"  note: {note}")


@db_app.command("migrate")
def migrate() -> None:
    """Apply pending database migrations (they also apply on every start)."""

    async def _migrate() -> list[str]:
        from engine.ops.embedded import EmbeddedServices
        from engine.store.db import open_pool
        from engine.store.migrate import apply_migrations

        settings = Settings()
        embedded = EmbeddedServices(settings.data_dir)
        url = settings.database_url or embedded.postgres_url()
        pool = await open_pool(url, max_size=1)
        try:
            async with pool.connection() as conn:
                return await apply_migrations(conn)
        finally:
            await pool.close()
            embedded.close()

    _setup_logging("WARNING")
    applied = asyncio.run(_migrate())
    echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@db_app.command("rotate-key")
def rotate_key() -> None:
    """Seal every stored evidence file with FAULTMAVEN_EVIDENCE_KEY.

    Rotation: put the old key in FAULTMAVEN_EVIDENCE_OLD_KEYS and the new one in
    FAULTMAVEN_EVIDENCE_KEY, restart, run this, then drop the old key. Rows stored in clear
    (before encryption) are sealed too. Safe to interrupt and run again.
    """
    from bot.runtime import Backends
    from engine.store.evidence import reseal_all

    async def _rotate() -> int:
        settings = Settings()
        backends = await Backends.start(settings, with_redis=False)
        try:
            return await reseal_all(backends.pool, settings.evidence_cipher())
        finally:
            await backends.close()

    _setup_logging("WARNING")
    try:
        changed = asyncio.run(_rotate())
    except FaultMavenError as exc:
        _fail(exc.user_message)
    echo(f"sealed with the current key: {changed} evidence file(s)")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # As Ctrl-C does: unwind, so `finally` blocks and atexit hooks stop what this command
    # started (the embedded PostgreSQL of `kb import`, the reader processes).
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    app()
