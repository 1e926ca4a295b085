"""Alerts open cases: Alertmanager notifications and alert messages through the engine, on
real Postgres with in-memory chat ports (the Slack path is tests/slack/test_alerts.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from engine.cases.alert_cases import AlertCases, GroupBeingOpened
from engine.cases.alert_words import looks_like_alert_message
from engine.cases.service import CaseService
from engine.core.alert_routes import AlertRoute, parse_alert_routes, route_for
from engine.core.alert_webhook import AlertmanagerWebhook, BadWebhook, read_webhook
from engine.core.config import Settings
from engine.core.models import (
    AlertGroupRequest,
    AlertMessageRequest,
    Case,
    CloseCaseRequest,
    MessageRequest,
    ThreadRef,
)
from engine.core.replies import AnswerReply, CaseOpenedReply, NoticeReply
from engine.store import alert_groups
from engine.store import evidence as evidence_store
from tests.fakes.memory import MemoryReplier
from tests.samples import alertmanager as am

pytestmark = pytest.mark.integration

CHANNEL = "C0PAY"


def request(payload: dict[str, Any]) -> AlertGroupRequest:
    raw = am.body(payload)
    return AlertGroupRequest(channel_id=CHANNEL, webhook=read_webhook(raw), raw=raw.decode())


def key_of(payload: dict[str, Any]) -> str:
    """The job key the receiver gives a notification (bot/serving/alerts_http.py)."""
    hook = AlertmanagerWebhook.model_validate(payload)
    return f"alert:{hook.state_hash()}"


async def take(service: CaseService, payload: dict[str, Any]) -> Case | None:
    return await AlertCases(service).take(request(payload), key=key_of(payload))


def notes(replier: MemoryReplier, thread_ts: str) -> list[str]:
    return [p.latest.text for p in replier.in_thread(thread_ts) if isinstance(p.reply, NoticeReply)]


async def test_a_firing_group_opens_a_case_whose_first_answer_names_the_service(
    service: CaseService, replier: MemoryReplier, pool: Any
) -> None:
    case = await take(service, am.two_firing())

    assert case is not None and case.channel_id == CHANNEL
    assert case.title == "HighErrorRate on checkout (critical): checkout 5xx ratio above 5%"
    [root] = [p for p in replier.posted if p.thread_ts is None]
    assert (root.channel_id, root.ts) == (CHANNEL, case.thread_ts)
    assert isinstance(root.latest, CaseOpenedReply)
    assert root.latest.text.startswith(f"*Case #{case.id}:* 🔥 HighErrorRate on checkout")
    assert "2 firing alerts since 14:31 UTC" in root.latest.text
    assert "<http://prometheus.example.com:9090/graph?" in root.latest.text
    # The payload itself is the first evidence, read by the alert reader.
    [item] = await evidence_store.list_for_case(pool, case.id)
    assert item.kind == "alerts" and item.name == "alertmanager-HighErrorRate.json"
    assert "2 alerts firing (HighErrorRate on checkout ×2)" in item.summary
    # The first turn answers as if someone had asked.
    [answer] = replier.answers(case.thread_ts)
    assert "checkout" in answer.text.split("*Suspects*")[1]
    assert "HighErrorRate" in answer.text


async def test_the_same_notification_again_says_nothing_and_opens_nothing(
    service: CaseService, replier: MemoryReplier
) -> None:
    first = await take(service, am.two_firing())
    posted = len(replier.posted)
    # A retried job (same key), then a resend after the queue forgot its key (another key).
    again = await take(service, am.two_firing())
    resent = await AlertCases(service).take(request(am.two_firing()), key="alert:later")

    assert first is not None and again is not None and resent is not None
    assert again.id == first.id == resent.id
    assert len(replier.posted) == posted
    assert len(replier.answers(first.thread_ts)) == 1


async def test_a_changed_group_is_one_line_in_the_thread(
    service: CaseService, replier: MemoryReplier, pool: Any
) -> None:
    case = await take(service, am.two_firing())
    assert case is not None
    before = len(replier.in_thread(case.thread_ts))

    same = await take(service, am.three_firing())
    await take(service, am.three_firing())  # its resend

    assert same is not None and same.id == case.id
    added = replier.in_thread(case.thread_ts)[before:]
    assert [p.reply.text for p in added] == [
        "🔔 Alertmanager, HighErrorRate: now also firing: HighErrorRate on checkout (10.0.0.9:8080)"
    ]
    # The new alert joins the evidence for the next turn.
    assert len(await evidence_store.list_for_case(pool, case.id)) == 2


async def test_a_resolution_is_one_line_once(service: CaseService, replier: MemoryReplier) -> None:
    case = await take(service, am.two_firing())
    assert case is not None
    await take(service, am.three_firing())

    await take(service, am.all_resolved())
    await take(service, am.all_resolved())
    await AlertCases(service).take(request(am.all_resolved()), key="alert:resent")

    resolved = [t for t in notes(replier, case.thread_ts) if t.startswith("✅")]
    assert resolved == ["✅ Alertmanager: HighErrorRate resolved at 14:52 UTC"]


async def test_a_resolution_of_a_group_never_seen_firing_opens_nothing(
    service: CaseService, replier: MemoryReplier
) -> None:
    assert await take(service, am.all_resolved()) is None
    assert replier.posted == []


async def test_a_closed_case_is_not_reopened_by_a_repeat_but_a_new_incident_opens_a_new_case(
    service: CaseService, replier: MemoryReplier
) -> None:
    case = await take(service, am.two_firing())
    assert case is not None
    # Whoever took part in the thread may close a case Alertmanager opened.
    said = MessageRequest(thread=case.thread, ts="1800000001.000001", user="U1", text="fixed")
    await service.record_message(said)
    await service.close_case(CloseCaseRequest(case_id=case.id, user="U1"), key="close-1")
    posted = len(replier.posted)

    repeat = await AlertCases(service).take(request(am.two_firing()), key="alert:repeat")
    assert repeat is not None and repeat.id == case.id and repeat.status != "open"
    assert len(replier.posted) == posted

    await take(service, am.all_resolved())
    later = am.STARTED + timedelta(days=1)
    again = am.notification(
        [am.alert("10.0.0.7:8080", starts=later, fingerprint="7a1c3e5b9d2f4a60")]
    )
    new = await take(service, again)

    assert new is not None and new.id != case.id and new.status == "open"
    assert new.thread_ts != case.thread_ts
    assert len(replier.answers(new.thread_ts)) == 1


async def test_a_notification_of_a_group_being_opened_waits_for_its_case(
    service: CaseService, replier: MemoryReplier, pool: Any
) -> None:
    payload = am.three_firing()
    hook = AlertmanagerWebhook.model_validate(payload)
    # Another worker holds the fresh claim on the new group (it is posting the root message).
    await alert_groups.claim(
        pool, group_key=hook.group_key, channel_id=CHANNEL, key="alert:other", stale_s=120
    )

    with pytest.raises(GroupBeingOpened):
        await take(service, payload)
    assert replier.posted == []


async def test_the_live_series_hook_runs_before_the_first_turn_and_may_fail(
    service: CaseService, replier: MemoryReplier
) -> None:
    seen: list[tuple[str, int]] = []

    async def pull(given: CaseService, case: Case, hook: AlertmanagerWebhook) -> int:
        seen.append((hook.name, len(replier.answers(case.thread_ts))))
        raise TimeoutError("Prometheus did not answer")

    payload = am.two_firing()
    case = await AlertCases(service, live_series=pull).take(request(payload), key=key_of(payload))

    assert case is not None
    assert seen == [("HighErrorRate", 0)]  # before the first answer
    assert len(replier.answers(case.thread_ts)) == 1  # which came all the same


async def test_an_alert_message_is_investigated_in_its_own_thread(
    service: CaseService, replier: MemoryReplier, pool: Any
) -> None:
    thread = ThreadRef(team_id="T1", channel_id="C0OPS", thread_ts="1700000000.000100")
    text = (
        "[FIRING:1] KubePodCrashLooping payments-api\n"
        "Alert: Pod payments/payments-api-7d9c is crash looping - critical\n"
        "Description: container api restarted 5 times in 10 minutes"
    )
    req = AlertMessageRequest(thread=thread, user="U0ALICE", text=text)

    case = await AlertCases(service).investigate(req, key="investigate:1")
    await AlertCases(service).investigate(req, key="investigate:1")  # a retried job

    assert case.thread_ts == thread.thread_ts and case.opened_by == "U0ALICE"
    assert case.title == "KubePodCrashLooping payments-api"
    [item] = await evidence_store.list_for_case(pool, case.id)
    assert item.name == "alert-message.txt"
    [answer] = replier.answers(thread.thread_ts)
    assert isinstance(answer, AnswerReply) and answer.case_id == case.id


# --- what is refused, and how it reads ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "alert"),
    [
        ("[FIRING:2] HighErrorRate checkout (critical payments)", True),
        ("Grafana [Alerting] Disk usage alert\nnode-3 at 97%", True),
        ("Incident triggered: Checkout 5xx above 5% (severity: critical)", True),
        ('ALARM: "HighCPU" in US East (N. Virginia)\nThreshold crossed: alert', True),
        ("[RESOLVED] HighErrorRate checkout\nwas firing since 14:31", False),
        ("Deploy of checkout 1.42 finished: 12 pods rolled", False),
        ("Nightly backup completed, no alerts", False),
    ],
)
def test_which_integration_messages_read_as_firing_alerts(text: str, alert: bool) -> None:
    assert looks_like_alert_message(text) is alert


def test_a_body_that_is_no_webhook_is_refused_naming_the_problem() -> None:
    payload = am.two_firing()
    del payload["alerts"][1]["startsAt"]
    payload["status"] = "burning"
    with pytest.raises(BadWebhook) as refused:
        read_webhook(am.body(payload))
    assert "status: Input should be 'firing' or 'resolved'" in str(refused.value)
    assert "alerts[1].startsAt: Field required" in str(refused.value)

    with pytest.raises(BadWebhook, match=r"not JSON \(Expecting value at line 1, column 1\)"):
        read_webhook(b"alerts!")
    with pytest.raises(BadWebhook, match="version: Input should be '4'"):
        read_webhook(am.body({**am.two_firing(), "version": "3"}))


def test_routes_pick_the_first_matching_channel_else_the_default() -> None:
    routes = parse_alert_routes(
        "team=payments:C0PAY, severity=critical:C0CRIT,instance=db:5432:C0DB"
    )
    assert routes[2] == AlertRoute(label="instance", value="db:5432", channel="C0DB")
    assert route_for({"team": "payments", "severity": "critical"}, routes, "C0ALL") == "C0PAY"
    assert route_for({"team": "search", "severity": "critical"}, routes, "C0ALL") == "C0CRIT"
    assert route_for({"team": "search"}, routes, "C0ALL") == "C0ALL"
    assert route_for({"team": "search"}, routes, None) is None


@pytest.mark.parametrize(
    ("routes", "says"),
    [
        ("team=payments", "'team=payments' is not a route; write each route as label=value"),
        ("team-x=payments:C0PAY", "'team-x' in 'team-x=payments:C0PAY' is not a label name"),
        ("team=:C0PAY", "'team=:C0PAY' has no value"),
        ("team=payments:#payments", "'#payments' is not a Slack channel id"),
    ],
)
def test_a_malformed_route_stops_the_settings_with_how_to_write_it(routes: str, says: str) -> None:
    with pytest.raises(ValidationError, match="FAULTMAVEN_ALERTS_ROUTES") as refused:
        Settings(_env_file=None, FAULTMAVEN_ALERTS_ROUTES=routes)  # type: ignore[call-arg]
    assert says in str(refused.value)


def test_the_receiver_needs_a_channel_it_may_act_in() -> None:
    token = SecretStr("s3cret")
    with pytest.raises(ValidationError, match="no channel is: set FAULTMAVEN_ALERTS_CHANNEL"):
        Settings(_env_file=None, alerts_token=token)
    with pytest.raises(ValidationError, match="routed to C0PAY, which FAULTMAVEN_ALLOWED_CH"):
        Settings(
            _env_file=None,
            alerts_token=token,
            alerts_channel="C0OPS",
            FAULTMAVEN_ALERTS_ROUTES="team=payments:C0PAY",  # type: ignore[call-arg]
            FAULTMAVEN_ALLOWED_CHANNELS="C0OPS",  # type: ignore[call-arg]
        )
    on = Settings(_env_file=None, alerts_token=token, alerts_channel="C0OPS")
    assert on.alerts_channel == "C0OPS" and "s3cret" in on.secret_values()
