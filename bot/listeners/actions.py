"""Block Kit buttons: Confirm / Rule out / Run check on the hypotheses of a case summary.

The click is acked at once and handed to a worker; what cannot be done (the case is closed,
the hypothesis is gone) is said to the person who clicked, privately.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import parsing
from bot.deps import deps_of
from bot.ids import ActionId
from engine.core.errors import FaultMavenError
from engine.worker.jobs import JobKind


async def on_hypothesis_button(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    request = parsing.feedback_request(body)
    if request is None:
        await respond(
            text="⚠️ That button is from an older version of FaultMaven; "
            "ask me in the thread for a fresh summary.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    deps = deps_of(context)
    try:
        await deps.service.check_feedback(request)
    except FaultMavenError as exc:
        await respond(
            text=f"⚠️ {exc.user_message}", response_type="ephemeral", replace_original=False
        )
        return
    await deps.queue.submit(JobKind.RECORD_FEEDBACK, request, dedup_key=parsing.action_key(body))


async def on_run_check(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    """Run check: a hypothesis's live check against a configured source, run by a worker;
    its answer is posted in the thread and the next turn applies it."""
    await ack()
    request = parsing.run_check_request(body)
    if request is None:
        await respond(
            text="⚠️ That button is from an older version of FaultMaven; "
            "ask me in the thread for a fresh summary.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    deps = deps_of(context)
    try:
        await deps.service.check_run_check(request)
    except FaultMavenError as exc:
        await respond(
            text=f"⚠️ {exc.user_message}", response_type="ephemeral", replace_original=False
        )
        return
    await deps.queue.submit(JobKind.RUN_CHECK, request, dedup_key=parsing.action_key(body))


def register(app: AsyncApp) -> None:
    app.action(ActionId.CONFIRM_HYPOTHESIS.value)(on_hypothesis_button)
    app.action(ActionId.RULE_OUT_HYPOTHESIS.value)(on_hypothesis_button)
    app.action(ActionId.RUN_CHECK.value)(on_run_check)
