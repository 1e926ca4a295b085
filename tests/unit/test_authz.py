"""Who may do what (engine/core/authz.py): channels, closing a case, the global knowledge tier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.core.authz import Authorizer, LocalAdmin, NotAllowed
from engine.core.config import Settings
from engine.core.models import Case

OPENER, HELPER, STRANGER, ADMIN = "U0OPENER", "U0HELPER", "U0STRANGER", "U0ADMIN"


class Directory:
    """A workspace whose admins a test sets; counts the questions asked."""

    def __init__(self, admins: set[str], *, broken: bool = False) -> None:
        self.admins = admins
        self.broken = broken
        self.asked: list[str] = []

    async def is_admin(self, user_id: str) -> bool:
        self.asked.append(user_id)
        if self.broken:
            raise ConnectionError("directory unreachable")
        return user_id in self.admins


def settings(**values: Any) -> Settings:
    return Settings.model_validate({"database_url": "", "redis_url": "", **values})


def case() -> Case:
    now = datetime.now(UTC)
    return Case(
        id=7,
        team_id="T1",
        channel_id="C1",
        thread_ts="1.0",
        title="checkout 502s",
        status="open",
        phase="diagnosing",
        opened_by=OPENER,
        created_at=now,
        updated_at=now,
    )


def test_the_settings_read_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTMAVEN_ALLOWED_CHANNELS", " C1, C2 ,")
    monkeypatch.setenv("FAULTMAVEN_ADMINS", "U1,U2")
    monkeypatch.setenv("FAULTMAVEN_CLOSE_POLICY", "opener")
    read = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (read.allowed_channels, read.admins, read.close_policy) == (
        ["C1", "C2"],
        ["U1", "U2"],
        "opener",
    )


def test_an_unknown_close_policy_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"FAULTMAVEN_CLOSE_POLICY|close_policy"):
        settings(FAULTMAVEN_CLOSE_POLICY="whoever")


async def test_without_an_allowlist_every_channel_is_allowed() -> None:
    authz = Authorizer(settings())
    await authz.check_channel("C1")
    await authz.check_channel("D0DIRECT")
    assert authz.channel_allowed("C9")


async def test_an_allowlist_refuses_other_channels_and_says_how_to_enable_them() -> None:
    authz = Authorizer(
        settings(FAULTMAVEN_ALLOWED_CHANNELS="C1", FAULTMAVEN_ADMINS=ADMIN),
        user_ref=lambda u: f"<@{u}>",
    )
    await authz.check_channel("C1")
    with pytest.raises(NotAllowed) as refused:
        await authz.check_channel("C2")
    message = refused.value.user_message
    assert "not enabled in this channel" in message
    assert "`C2`" in message and "FAULTMAVEN_ALLOWED_CHANNELS" in message
    assert f"<@{ADMIN}>" in message
    assert refused.value.action == "channel"


@pytest.mark.parametrize(
    ("policy", "user", "allowed"),
    [
        ("anyone", STRANGER, True),
        ("participants", OPENER, True),
        ("participants", HELPER, True),
        ("participants", STRANGER, False),
        ("opener", OPENER, True),
        ("opener", HELPER, False),
        ("opener", STRANGER, False),
    ],
)
async def test_close_policies(policy: str, user: str, allowed: bool) -> None:
    authz = Authorizer(settings(FAULTMAVEN_CLOSE_POLICY=policy), Directory(set()))
    if allowed:
        await authz.check_close(case(), user, {HELPER})
        return
    with pytest.raises(NotAllowed) as refused:
        await authz.check_close(case(), user, {HELPER})
    message = refused.value.user_message
    assert "may not close case #7" in message and "stays open" in message
    assert OPENER in message  # names who may
    assert ("wrote or uploaded" in message) == (policy == "participants")


@pytest.mark.parametrize("policy", ["participants", "opener"])
async def test_admins_may_always_close(policy: str) -> None:
    from_config = Authorizer(
        settings(FAULTMAVEN_CLOSE_POLICY=policy, FAULTMAVEN_ADMINS=f"U0OTHER,{ADMIN}")
    )
    await from_config.check_close(case(), ADMIN, set())
    from_workspace = Authorizer(settings(FAULTMAVEN_CLOSE_POLICY=policy), Directory({ADMIN}))
    await from_workspace.check_close(case(), ADMIN, set())


async def test_participants_close_without_asking_the_directory() -> None:
    directory = Directory(set())
    authz = Authorizer(settings(), directory)
    await authz.check_close(case(), OPENER, set())
    await authz.check_close(case(), HELPER, {HELPER})
    assert directory.asked == []


async def test_admins_come_from_the_settings_then_the_directory() -> None:
    directory = Directory({"U0WORKSPACE"})
    authz = Authorizer(settings(FAULTMAVEN_ADMINS=ADMIN), directory)
    assert await authz.is_admin(ADMIN)
    assert directory.asked == []  # configured admins need no lookup
    assert await authz.is_admin("U0WORKSPACE")
    assert not await authz.is_admin(STRANGER)
    assert directory.asked == ["U0WORKSPACE", STRANGER]


async def test_without_a_directory_only_configured_users_are_admins() -> None:
    authz = Authorizer(settings(FAULTMAVEN_ADMINS=ADMIN))
    assert await authz.is_admin(ADMIN)
    assert not await authz.is_admin(STRANGER)


async def test_a_directory_outage_grants_nothing() -> None:
    authz = Authorizer(settings(), Directory({ADMIN}, broken=True))
    assert not await authz.is_admin(ADMIN)
    with pytest.raises(NotAllowed):
        await authz.check_global_knowledge(ADMIN)
    with pytest.raises(NotAllowed):
        await authz.check_close(case(), ADMIN, set())


async def test_only_admins_edit_the_global_knowledge() -> None:
    authz = Authorizer(settings(FAULTMAVEN_ADMINS=ADMIN), Directory({"U0OWNER"}))
    await authz.check_global_knowledge(ADMIN)
    await authz.check_global_knowledge("U0OWNER")
    with pytest.raises(NotAllowed) as refused:
        await authz.check_global_knowledge(OPENER)
    assert "global knowledge" in refused.value.user_message
    assert ADMIN in refused.value.user_message
    assert refused.value.action == "knowledge.global"


async def test_without_configured_admins_the_refusal_explains_who_they_are() -> None:
    with pytest.raises(NotAllowed) as refused:
        await Authorizer(settings()).check_global_knowledge(OPENER)
    assert "Slack workspace admins and owners" in refused.value.user_message
    assert "FAULTMAVEN_ADMINS" in refused.value.user_message


async def test_the_terminal_user_is_the_local_admin() -> None:
    authz = Authorizer(settings(FAULTMAVEN_CLOSE_POLICY="opener"), LocalAdmin())
    await authz.check_global_knowledge("you")
    await authz.check_close(case(), "you", set())
