"""Knowledge from Slack: `/faultmaven search`, `/faultmaven kb add`, `/faultmaven reopen`,
and the Helpful / Outdated buttons on cited documents.

Searching and adding embed text, which takes the model: listeners ack with what is going on
and hand the work to a worker, which answers privately. A vote is one row: it is written
right after the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import blocks, parsing
from bot.deps import deps_of
from bot.ids import ActionId
from engine.cases.knowledge_desk import USAGE
from engine.core.models import ReopenCaseRequest
from engine.core.wording import clip
from engine.worker.jobs import JobKind


async def search(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    if not rest.strip():
        await ack("Say what to look for: `/faultmaven search connection pool exhausted`")
        return
    await ack(**blocks.message(f"🔎 Searching runbooks and past cases for “{clip(rest, 80)}”…"))
    await deps_of(context).queue.submit(
        JobKind.SEARCH_KNOWLEDGE,
        parsing.search_request(command, rest),
        dedup_key=f"cmd:{command['trigger_id']}",
    )


async def kb(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str) -> None:
    request = parsing.kb_add_request(command["channel_id"], command["user_id"], f"kb {rest}")
    if request is None or not request.text:
        await ack(**blocks.message(USAGE))
        return
    # A refusal (the global tier is for admins) is said now, not after a trip through the queue.
    await deps_of(context).service.check_knowledge_add(request)
    where = "global knowledge" if request.scope == "global" else "this channel's knowledge"
    await ack(**blocks.message(f"📚 Adding to {where}… I'll tell you here when it is stored."))
    await deps_of(context).queue.submit(
        JobKind.ADD_KNOWLEDGE, request, dedup_key=f"cmd:{command['trigger_id']}"
    )


async def reopen(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    case_id, reason = parsing.case_ref_and_rest(rest)
    if case_id is None:
        await ack("Say which case: `/faultmaven reopen #12 the pool ran dry again`")
        return
    case = await deps_of(context).service.find_case_to_reopen(command["channel_id"], case_id)
    await ack(**blocks.message(f"Reopening case #{case_id} ({case.title})."))
    await deps_of(context).queue.submit(
        JobKind.REOPEN_CASE,
        ReopenCaseRequest(case_id=case_id, user=command["user_id"], reason=reason),
        dedup_key=f"cmd:{command['trigger_id']}",
    )


async def on_vote(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    request = parsing.vote_request(body)
    if request is None:
        text = "That button is from an older version of FaultMaven."
    else:
        text = await deps_of(context).service.vote_on_knowledge(request)
    await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    app.action(ActionId.KNOWLEDGE_HELPFUL.value)(on_vote)
    app.action(ActionId.KNOWLEDGE_OUTDATED.value)(on_vote)
