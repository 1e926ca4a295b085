"""Block Kit buttons: Confirm / Rule out / Run check on the hypotheses of a case summary.

The click is acked at once and handed to a worker; what cannot be done (the case is closed,
the hypothesis is gone) is said to the person who clicked, privately.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import parsing
from bot.deps import deps_of
from bot.ids import ActionId
from engine.core.errors import FaultMavenError
from engine.worker.jobs import JobKind

STALE_BUTTON = (
    "⚠️ That button is from an older version of FaultMaven; ask me in the thread for a fresh "
    "summary."
)


async def _take_click(
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    request: BaseModel | None,
    check: Callable[[Any], Awaitable[object]],
    kind: JobKind,
) -> None:
    """A click checked at once (what cannot be done is said privately), then queued."""
    if request is None:
        await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    try:
        await check(request)
    except FaultMavenError as exc:
        await respond(
            text=f"⚠️ {exc.user_message}", response_type="ephemeral", replace_original=False
        )
        return
    await deps_of(context).queue.submit(kind, request, dedup_key=parsing.action_key(body))


async def on_hypothesis_button(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    service = deps_of(context).service
    request = parsing.feedback_request(body)
    await _take_click(
        body, context, respond, request, service.check_feedback, JobKind.RECORD_FEEDBACK
    )


async def on_run_check(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    """Run check: a hypothesis's live check against a configured source, run by a worker;
    its answer is posted in the thread and the next turn applies it."""
    await ack()
    service = deps_of(context).service
    request = parsing.run_check_request(body)
    await _take_click(body, context, respond, request, service.check_run_check, JobKind.RUN_CHECK)


def register(app: AsyncApp) -> None:
    app.action(ActionId.CONFIRM_HYPOTHESIS.value)(on_hypothesis_button)
    app.action(ActionId.RULE_OUT_HYPOTHESIS.value)(on_hypothesis_button)
    app.action(ActionId.RUN_CHECK.value)(on_run_check)
