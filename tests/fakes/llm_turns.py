"""Replies a fake model sends: LLMTurn JSON as a real model would write it."""

from __future__ import annotations

import json
from typing import Any


def turn(answer: str, *hypotheses: dict[str, Any], **fields: Any) -> str:
    """An LLMTurn JSON reply as a model would send it."""
    return json.dumps(
        {
            "response_type": "answer",
            "answer": answer,
            "working_conclusion": fields.pop("working_conclusion", answer),
            "confidence": fields.pop("confidence", 0.7),
            "hypotheses": list(hypotheses),
            "next_steps": fields.pop("next_steps", ["check the payments-db pool"]),
            "commands": fields.pop("commands", []),
            **fields,
        }
    )


# When a turn asks more than a test scripted, it gets a plain valid turn, not an error.
FILLER = turn("Noted; looking at the evidence.")
