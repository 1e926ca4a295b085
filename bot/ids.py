"""Every Block Kit action id the app sends and listens for, in one place (DESIGN.md §4.3)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CONFIRM_HYPOTHESIS = "hypothesis_confirm"
    RULE_OUT_HYPOTHESIS = "hypothesis_rule_out"
    RUN_CHECK = "hypothesis_run_check"
    KNOWLEDGE_HELPFUL = "knowledge_helpful"
    KNOWLEDGE_OUTDATED = "knowledge_outdated"
    # How a case ended, on its close summary: the grade of its leading hypothesis (value:
    # hypothesis_value), and "it helped" on a page it was shown (value: document_value).
    OUTCOME_ROOT_CAUSE = "outcome_root_cause"
    OUTCOME_CONTRIBUTING = "outcome_contributing"
    OUTCOME_SYMPTOM = "outcome_symptom"
    OUTCOME_WRONG = "outcome_wrong"
    OUTCOME_HELPED = "outcome_helped"
    INVESTIGATE_ALERT = "alert_investigate"  # value: the ts of the alert message


# A button's value: which hypothesis of which case. Slack caps values at 2000 characters.
VALUE_SEPARATOR = "|"


def hypothesis_value(case_id: int, key: str) -> str:
    return f"{case_id}{VALUE_SEPARATOR}{key}"[:2000]


def document_value(document_id: int, case_id: int | None) -> str:
    """A Helpful / Outdated button's value: the document, and the case it was cited in."""
    return f"{document_id}{VALUE_SEPARATOR}{case_id or ''}"


def parse_document_value(value: str) -> tuple[int, int | None] | None:
    document, _, case = value.partition(VALUE_SEPARATOR)
    if not document.isdigit() or (case and not case.isdigit()):
        return None
    return int(document), int(case) if case else None
