"""Alerts open cases: an Alertmanager group, or an alert message another integration posted.

An Alertmanager notification (engine/core/alert_webhook.py; one per alert group) either
- opens the group's case, when the group has none: a root message in the routed channel, the
  payload as the case's first evidence (the alert reader parses it), the live series hook
  (`LiveSeries`), then a first turn that answers "what is going on" as a question would be;
- or is a later notification of the group: no new case. A change of what fires is one line
  in the thread, the group's resolution another ("✅ Alertmanager: X resolved at 14:32 UTC"),
  once per resolution, and an exact repeat says nothing. A group that fires again after it
  resolved and its case was closed opens a new case; a closed case is never reopened.

Every step is safe to repeat for the same notification: the job's key is the group and its
`state_hash` (engine/worker/queue.py refuses a second copy for a day), posts go through
`Poster.post_once`, evidence rows are unique per source id, the question per ts. Two
notifications of a new group at once open one case: the first claims the group row
(engine/store/alert_groups.py), the other is retried until the case exists.

The Investigate button (bot/listeners/alert_messages.py) opens a case on an alert message's
own thread with its text as evidence, and runs the first turn the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from engine.cases import alert_words
from engine.cases.alert_series import pull_alert_series, pulled_line
from engine.cases.conversation import THINKING
from engine.cases.service import CaseService
from engine.cases.turns import answer_key
from engine.core.alert_webhook import AlertmanagerWebhook, group_id
from engine.core.models import AlertGroupRequest, AlertMessageRequest, Case
from engine.core.replies import CaseOpenedReply, NoticeReply
from engine.store import alert_groups, audit, cases, messages
from engine.store.alert_groups import AlertGroup

log = logging.getLogger(__name__)

OPENED_BY = "alertmanager"  # the case's opener: no person opened it
# A claim on a new group older than this is taken over: its opener's worker died. Longer
# than opening takes (a post and a few rows), shorter than Alertmanager's group_interval.
STALE_CLAIM_S = 120.0
MESSAGE_EVIDENCE = "alert-message.txt"

# The hook where live data joins the case before its first turn: given the service, the new
# case and the notification, it stores what it pulls as evidence (service.intake.ingest_bytes,
# so the readers analyse it) and returns how many items it stored. A failure costs the extra
# data, never the case (`AlertCases._pull_live_series`).
LiveSeries = Callable[[CaseService, Case, AlertmanagerWebhook], Awaitable[int]]


class GroupBeingOpened(Exception):
    """Another notification of the group is opening its case right now: this one is retried
    (engine/worker/jobs.py) and then finds the case."""


async def alert_series(service: CaseService, case: Case, hook: AlertmanagerWebhook) -> int:
    """The firing alerts' own series from the Prometheus source allowed in the case's channel,
    kept as evidence before the first turn (engine/cases/alert_series.py). The Investigate
    button has no rule expression to query by, so it pulls nothing."""
    runs = await pull_alert_series(service.tools, case, hook)
    if runs:
        await service.poster.post_once(
            f"alert-series:{case.id}",
            case.channel_id,
            NoticeReply(text=pulled_line(runs)),
            case.thread_ts,
            case.id,
        )
    return len(runs)


@dataclass
class AlertCases:
    service: CaseService
    live_series: LiveSeries = alert_series

    @property
    def pool(self) -> AsyncConnectionPool:
        return self.service.pool

    # --- Alertmanager ------------------------------------------------------------------

    async def take(self, req: AlertGroupRequest, *, key: str) -> Case | None:
        """Open or update the case of the notification's group; its case (None when a
        resolution of a group we never saw fire arrives: there is nothing to say)."""
        hook = req.webhook
        existing = await alert_groups.get(self.pool, hook.group_key)
        if not hook.firing and (existing is None or existing.case_id is None):
            if existing is not None:  # its case is being opened: say it resolved once it is
                raise GroupBeingOpened(f"the case of alert group {group_id(hook.group_key)}")
            log.info("alert group %s resolved before it opened a case", group_id(hook.group_key))
            return None
        group = await alert_groups.claim(
            self.pool,
            group_key=hook.group_key,
            channel_id=req.channel_id,
            key=key,
            stale_s=STALE_CLAIM_S,
        )
        case = await cases.get(self.pool, group.case_id) if group.case_id else None
        if case is not None and _fires_again_after_close(group, case, hook):
            if await alert_groups.start_over(
                self.pool, group_key=hook.group_key, case_id=case.id, key=key
            ):
                log.info("alert group of case %s fires again: a new case", case.id)
            group = await alert_groups.get(self.pool, hook.group_key) or group
            case = None
        if case is None:
            if group.opener_key != key:
                raise GroupBeingOpened(f"the case of alert group {group_id(hook.group_key)}")
            case = await self._open(req, group, key=key)
        elif group.opener_key != key or group.state is not None:
            await self._follow_up(case, group, req)
            return case
        # The opening notification, or its retry before its first look was done.
        await self._first_look(case, req)
        await alert_groups.first_look_done(
            self.pool, group_key=hook.group_key, state=hook.state_hash()
        )
        return case

    async def _open(self, req: AlertGroupRequest, group: AlertGroup, *, key: str) -> Case:
        """The case root message in the routed channel, and the case whose thread it is."""
        hook = req.webhook
        title = alert_words.group_title(hook)
        opened = CaseOpenedReply(
            case_id=0, title=title, opened_by=OPENED_BY, text=alert_words.opened_text(hook, title)
        )
        # Keyed by the group and its incident: a retry or a takeover of a dead opener's claim
        # updates the message already posted.
        post_key = f"alert-open:{group_id(hook.group_key)}:{group.incident}"
        root_ts, _ = await self.service.poster.post_once(post_key, group.channel_id, opened)
        case, created = await cases.get_or_create(
            self.pool,
            team_id="",
            channel_id=group.channel_id,
            thread_ts=root_ts,
            title=title,
            opened_by=OPENED_BY,
        )
        if created:
            await audit.case_opened(self.pool, case)
        text = opened.text.replace(alert_words.OPENED_MARK, f"*Case #{case.id}:*", 1)
        opened = opened.model_copy(update={"case_id": case.id, "text": text})
        await self.service.replier.update(group.channel_id, root_ts, opened)
        firing = {a.key: alert_words.alert_line(a) for a in hook.firing}
        if not await alert_groups.set_case(
            self.pool, group_key=hook.group_key, key=key, case_id=case.id, firing=firing
        ):
            raise GroupBeingOpened(f"a takeover of alert group {group_id(hook.group_key)}")
        log.info("alert group %s opened case %s", group_id(hook.group_key), case.id)
        return case

    async def _first_look(self, case: Case, req: AlertGroupRequest) -> None:
        """The payload as evidence, live data, and a first turn answering the alert."""
        hook = req.webhook
        name = f"alertmanager-{_file_safe(hook.name)}.json"
        await self.service.intake.ingest_bytes(
            case, f"alertmanager:{hook.state_hash()}", name, req.raw.encode()
        )
        await self._pull_live_series(case, hook)
        question = alert_words.group_question(case.title)
        await self._ask(case, ts=case.thread_ts, author=OPENED_BY, text=question)

    async def _pull_live_series(self, case: Case, hook: AlertmanagerWebhook) -> None:
        try:
            pulled = await self.live_series(self.service, case, hook)
        except Exception:
            log.exception("case %s: live series not pulled; the turn goes on without", case.id)
            return
        if pulled:
            log.info("case %s: %d live series pulled for the alert", case.id, pulled)

    async def _follow_up(self, case: Case, group: AlertGroup, req: AlertGroupRequest) -> None:
        """A later notification: one line when what fires changed or the group resolved,
        nothing for a repeat. Its payload joins the evidence when new alerts fire, for the
        next turn to read (no turn now: one per notification would flood the thread)."""
        hook = req.webhook
        state = hook.state_hash()
        if group.state == state:
            return  # a resend of what the thread already shows
        now_firing = {a.key: alert_words.alert_line(a) for a in hook.firing}
        started = [line for k, line in now_firing.items() if k not in group.firing]
        stopped = [line for k, line in group.firing.items() if k not in now_firing]
        resolved_at = group.resolved_at
        if hook.status == "resolved":
            line = None
            if group.resolved_at is None:
                resolved_at = _resolved_at(hook)
                line = alert_words.resolved_line(hook.name, resolved_at)
        else:
            since = min((a.starts_at for a in hook.firing), default=None)
            again = group.resolved_at is not None or not group.firing
            line = alert_words.change_line(hook.name, started, stopped, again=again, since=since)
            resolved_at = None
        if started:
            name = f"alertmanager-{_file_safe(hook.name)}-{state[:8]}.json"
            await self.service.intake.ingest_bytes(
                case, f"alertmanager:{state}", name, req.raw.encode()
            )
        if line is not None:
            await self.service.poster.post_once(
                f"alert-note:{group_id(hook.group_key)}:{state}",
                case.channel_id,
                NoticeReply(text=line),
                case.thread_ts,
                case.id,
            )
        await alert_groups.handled(
            self.pool,
            group_key=hook.group_key,
            state=state,
            firing=now_firing,
            resolved_at=resolved_at,
        )

    # --- the Investigate button ----------------------------------------------------------

    async def investigate(self, req: AlertMessageRequest, *, key: str) -> Case:
        """Open a case on the alert message's thread (or continue the one there), take the
        message as evidence, and answer it."""
        title = alert_words.message_title(req.text)
        case = await self.service.start_case(req.thread, title=title, user=req.user)
        await self.service.intake.ingest_bytes(
            case, f"alert-message:{req.thread.thread_ts}", MESSAGE_EVIDENCE, req.text.encode()
        )
        question = f"Investigate this alert: {title}. What is going on, and what should we check?"
        await self._ask(case, ts=req.thread.thread_ts, author=req.user, text=question)
        return case

    # --- shared -------------------------------------------------------------------------

    async def _ask(self, case: Case, *, ts: str, author: str, text: str) -> None:
        """Record the case's opening question and run the turn that answers it (or let the
        worker running the case answer it next), as a mention with files does."""
        await messages.record(
            self.pool, case_id=case.id, ts=ts, author=author, role="user", text=text, asks=True
        )
        if self.service.llm.configured:
            # A model may take a while: the answer replaces this note when it comes.
            await self.service.poster.post_once(
                answer_key(case.id, ts),
                case.channel_id,
                NoticeReply(text=THINKING),
                case.thread_ts,
                case.id,
            )
        await self.service.turns.request(case)


def _fires_again_after_close(group: AlertGroup, case: Case, hook: AlertmanagerWebhook) -> bool:
    """A new incident of the group: its case is closed and it fires, after it resolved or
    with an alert that started since (Alertmanager may be set not to send resolutions)."""
    if case.status == "open" or not hook.firing:
        return False
    closed = case.closed_at or case.updated_at
    return group.resolved_at is not None or any(a.starts_at > closed for a in hook.firing)


def _resolved_at(hook: AlertmanagerWebhook) -> datetime | None:
    ends = [a.ends_at for a in hook.alerts if a.ends_at is not None and a.ends_at.year > 1]
    return max(ends, default=None)


def _file_safe(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return safe[:60] or "alert"


# --- the jobs (engine/worker/jobs.py) ------------------------------------------------------


async def take_alert_group(service: CaseService, req: AlertGroupRequest, *, key: str) -> None:
    await AlertCases(service).take(req, key=key)


async def investigate_alert_message(
    service: CaseService, req: AlertMessageRequest, *, key: str
) -> None:
    await AlertCases(service).investigate(req, key=key)
