"""How a case ended: the grade and "It helped" buttons of a close summary.

A click is one row, written right after the ack, and answered privately to whoever clicked
(engine/cases/outcomes.py says what is recorded and what cannot be).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import parsing
from bot.deps import deps_of
from bot.ids import ActionId
from engine.core.errors import FaultMavenError

OUTCOME_ACTIONS = (
    ActionId.OUTCOME_ROOT_CAUSE,
    ActionId.OUTCOME_CONTRIBUTING,
    ActionId.OUTCOME_SYMPTOM,
    ActionId.OUTCOME_WRONG,
    ActionId.OUTCOME_HELPED,
)


async def on_outcome(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    request = parsing.outcome_request(body)
    if request is None:
        text = "⚠️ That button is from an older version of FaultMaven."
    else:
        try:
            text = await deps_of(context).service.record_outcome(request)
        except FaultMavenError as exc:
            text = f"⚠️ {exc.user_message}"
    await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    for action in OUTCOME_ACTIONS:
        app.action(action.value)(on_outcome)
