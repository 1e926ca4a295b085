"""Who may do what: the channels FaultMaven works in, who closes a case, who edits the
global knowledge tier.

Admins are the users in FAULTMAVEN_ADMINS plus those the chat surface calls admins (Slack
workspace admins and owners, through a `WorkspaceDirectory`). A refusal is a `NotAllowed`
whose message says what was refused and who may do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.core.config import Settings
from engine.core.errors import FaultMavenError
from engine.core.models import Case
from engine.core.ports import WorkspaceDirectory

log = logging.getLogger(__name__)


class NotAllowed(FaultMavenError):
    """An action this user may not take here; `action` names it for the audit log."""

    def __init__(self, user_message: str, *, action: str = "") -> None:
        super().__init__(user_message)
        self.action = action


class LocalAdmin:
    """The directory of a terminal (`faultmaven shell`): its one user runs the install."""

    async def is_admin(self, user_id: str) -> bool:
        return True


class Authorizer:
    def __init__(
        self,
        settings: Settings,
        directory: WorkspaceDirectory | None = None,
        *,
        user_ref: Callable[[str], str] = str,
    ) -> None:
        self.allowed_channels = frozenset(settings.allowed_channels)
        self.close_policy = settings.close_policy
        self.admins = frozenset(settings.admins)
        self.directory = directory
        self.user_ref = user_ref

    def _admins_named(self) -> str:
        """Admins for a message: the configured ones by name, then the rule."""
        named = ", ".join(self.user_ref(u) for u in sorted(self.admins)[:5])
        if named:
            return f"FaultMaven admins ({named}, or a Slack workspace admin or owner)"
        return (
            "FaultMaven admins (Slack workspace admins and owners, or users in FAULTMAVEN_ADMINS)"
        )

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self.admins:
            return True
        if self.directory is None:
            return False
        try:
            return await self.directory.is_admin(user_id)
        except Exception:
            # Failing closed: a directory outage denies admin-only actions, never grants them.
            log.warning("could not tell whether %s is an admin", user_id, exc_info=True)
            return False

    def channel_allowed(self, channel_id: str) -> bool:
        """No allowlist means every channel the bot was invited to."""
        return not self.allowed_channels or channel_id in self.allowed_channels

    def channel_refusal(self, channel_id: str) -> NotAllowed | None:
        """Why FaultMaven may not act in `channel_id`, None when it may. Reads settings only,
        so the Slack gate decides before its ack without waiting on anything."""
        if self.channel_allowed(channel_id):
            return None
        return NotAllowed(
            "FaultMaven is not enabled in this channel, so I did not act on this. "
            f"Whoever runs FaultMaven can enable it by adding `{channel_id}` to "
            f"FAULTMAVEN_ALLOWED_CHANNELS; ask one of the {self._admins_named()}.",
            action="channel",
        )

    async def check_channel(self, channel_id: str) -> None:
        if (refusal := self.channel_refusal(channel_id)) is not None:
            raise refusal

    async def check_close(self, case: Case, user_id: str, participants: set[str]) -> None:
        """Close policy: anyone, the case's participants (its opener and everyone who wrote
        or uploaded in its thread), or its opener only; admins may always close."""
        if self.close_policy == "anyone" or user_id == case.opened_by:
            return
        if self.close_policy == "participants" and user_id in participants:
            return
        if await self.is_admin(user_id):
            return
        who = (
            f"its opener ({self.user_ref(case.opened_by)})"
            if self.close_policy == "opener"
            else f"the people taking part in it (its opener {self.user_ref(case.opened_by)} "
            "and anyone who wrote or uploaded in its thread)"
        )
        raise NotAllowed(
            f"You may not close case #{case.id}: only {who} or {self._admins_named()} may. "
            "The case stays open.",
            action="close",
        )

    async def check_global_knowledge(self, user_id: str) -> None:
        if not await self.is_admin(user_id):
            raise NotAllowed(
                f"Only {self._admins_named()} may change the global knowledge shared by "
                "every channel; ask one of them.",
                action="knowledge.global",
            )
