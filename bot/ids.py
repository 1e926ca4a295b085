"""Every Block Kit action id the app sends and listens for, in one place (DESIGN.md §4.3)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CONFIRM_HYPOTHESIS = "hypothesis_confirm"
    RULE_OUT_HYPOTHESIS = "hypothesis_rule_out"


# A button's value: which hypothesis of which case. Slack caps values at 2000 characters.
VALUE_SEPARATOR = "|"


def hypothesis_value(case_id: int, key: str) -> str:
    return f"{case_id}{VALUE_SEPARATOR}{key}"[:2000]
