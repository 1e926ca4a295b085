"""`/faultmaven` subcommands: open, close, status, list, help (knowledge ones in
bot/listeners/knowledge.py, digest in digest_command.py, sources and query in
sources_command.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import blocks, parsing
from bot.deps import deps_of
from bot.listeners import knowledge
from bot.listeners.digest_command import on_digest
from bot.listeners.sources_command import on_query, on_sources
from bot.listeners.stats_command import on_stats
from engine.core.errors import FaultMavenError, UnknownCommand
from engine.core.models import CloseCaseRequest
from engine.worker.jobs import JobKind

HELP = """*FaultMaven* — troubleshooting copilot. A thread is a case; files in it are evidence.
• `/faultmaven open <title>` — start a case (its thread is the case)
• `@FaultMaven <question>` in any thread — open or continue that thread's case and answer
• Upload logs into a case thread — I analyse them and reply with a summary
• `/faultmaven close [#id] [resolution]` — close the channel's open case (or case #id)
• `/faultmaven reopen #id [why]` — the fix did not hold: open a resolved case again
• `/faultmaven search <text>` — runbooks, team notes and past cases (only you see the results)
• `/faultmaven kb add [--global] <url|text>` — add knowledge (or share a file with `kb add`)
• `/faultmaven digest on|off` — a daily list of this channel's open cases
• `/faultmaven stats` — how often my first hypothesis was right, from graded closed cases
• `/faultmaven sources` — the live sources this channel may query, and whether they answer
• `/faultmaven query [#id] <source> <what>` — ask one (PromQL, a Postgres check, a URL…)
• `/faultmaven status [#id]` · `/faultmaven list` · `/faultmaven help`"""


async def _open(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    if not rest.strip():
        await ack("Give the case a title: `/faultmaven open checkout 502s since 14:00`")
        return
    await ack()
    await deps_of(context).queue.submit(
        JobKind.OPEN_CASE,
        parsing.open_request(command, rest),
        dedup_key=f"cmd:{command['trigger_id']}",
    )


async def _close(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    deps = deps_of(context)
    case_id, resolution = parsing.case_ref_and_rest(rest)
    # A refusal (FAULTMAVEN_CLOSE_POLICY) is the ephemeral ack; the case stays open.
    case = await deps.service.case_to_close(
        command["channel_id"], case_id, command["user_id"], key=f"cmd:{command['trigger_id']}"
    )
    await ack(
        **blocks.message(
            f"Closing case #{case.id} ({case.title}); the resolution summary goes in its thread."
        )
    )
    await deps.queue.submit(
        JobKind.CLOSE_CASE,
        CloseCaseRequest(case_id=case.id, user=command["user_id"], resolution=resolution),
        dedup_key=f"cmd:{command['trigger_id']}",
    )


async def _status(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    service = deps_of(context).service
    case_id, _ = parsing.case_ref_and_rest(rest)
    if case_id is not None:
        stats = await service.case_stats(case_id)
        await ack(**blocks.message(f"{blocks.case_line(stats)} — status *{stats.case.status}*"))
        return
    await ack(
        **blocks.case_list(
            await service.open_cases(channel_id=command["channel_id"]),
            empty="No open cases in this channel. Start one with `/faultmaven open <title>`.",
        )
    )


async def _list(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    await _status(ack, command, context, "")


async def _help(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    await ack(HELP)


SUBCOMMANDS = {"open": _open, "close": _close, "status": _status, "list": _list, "help": _help}
SUBCOMMANDS["digest"] = on_digest
SUBCOMMANDS["stats"] = on_stats
SUBCOMMANDS.update(sources=on_sources, query=on_query)
SUBCOMMANDS.update(search=knowledge.search, kb=knowledge.kb, reopen=knowledge.reopen)


async def on_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    name, rest = parsing.split_command(command.get("text", ""))
    handler = SUBCOMMANDS.get(name)
    try:
        if handler is None:
            raise UnknownCommand(
                f"I don't know `{name}`. Try `/faultmaven help` for what I can do."
            )
        await handler(ack, command, context, rest)
    except FaultMavenError as exc:
        await ack(**blocks.message(exc.user_message))


def register(app: AsyncApp) -> None:
    app.command("/faultmaven")(on_command)
