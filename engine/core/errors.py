"""Typed errors whose message is fit to show a user (DESIGN.md section 4, rule 7).

Adapters catch `FaultMavenError` and show `user_message` as is; anything else is
logged with an id the user can quote.
"""

from __future__ import annotations

import uuid


def new_error_id() -> str:
    """A short id to show a user and log beside an unexpected failure, so it can be quoted."""
    return uuid.uuid4().hex[:8]


class FaultMavenError(Exception):
    """An error a user caused or can act on; `user_message` is shown verbatim."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class EvidenceRejected(FaultMavenError):
    """A file that cannot be used as evidence (empty, binary, too large, ...)."""


class DownloadFailed(FaultMavenError):
    """A file could not be fetched from the chat surface."""


class CaseNotFound(FaultMavenError):
    """No case matches what the user asked for."""


class AmbiguousCase(FaultMavenError):
    """Several open cases match; the user must pick one."""

    def __init__(self, user_message: str, case_ids: list[int]) -> None:
        super().__init__(user_message)
        self.case_ids = case_ids


class UnknownCommand(FaultMavenError):
    """A subcommand the bot does not know."""


class ConfigurationError(FaultMavenError):
    """Settings that prevent the product from starting (e.g. missing Slack tokens)."""
