"""Alertmanager's webhook (version 4), as the receiver takes it and the alert job reads it.

One notification is one alert group: `groupKey` names the group for its whole life, and
Alertmanager sends the group again when its alerts change, every `repeat_interval` while they
fire, and after a failed delivery. `state_hash` tells those apart: equal for a resend of the
same state, different when an alert starts, stops or fires again (a new `startsAt`).

The reader is strict where the job depends on a field (status, labels, startsAt, groupKey)
and lets anything else through (Grafana and others add fields of their own), and a refusal
names the field and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

AlertStatus = Literal["firing", "resolved"]
MAX_PROBLEMS = 5  # a refusal names this many problems; a wholly wrong body would list hundreds


class BadWebhook(ValueError):
    """The body is not an Alertmanager webhook; the message says what is wrong, for whoever
    reads Alertmanager's log."""


class _Lenient(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class WebhookAlert(_Lenient):
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    # Alertmanager writes the zero time ("0001-01-01T00:00:00Z") for "not ended".
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""

    @property
    def key(self) -> str:
        """Which alert this is across notifications: Alertmanager's fingerprint, or one made
        from the labels the same way (a sender that leaves it out)."""
        if self.fingerprint:
            return self.fingerprint
        labels = json.dumps(sorted(self.labels.items()), separators=(",", ":"))
        return hashlib.sha256(labels.encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or self.annotations.get("summary") or "alert"


class AlertmanagerWebhook(_Lenient):
    version: Literal["4"]
    group_key: str = Field(alias="groupKey", min_length=1)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert] = Field(min_length=1)

    @property
    def firing(self) -> list[WebhookAlert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def name(self) -> str:
        """The group's alert name: the common one, else the first alert's."""
        return self.common_labels.get("alertname") or self.alerts[0].name

    def state_hash(self) -> str:
        """Equal for two notifications of the same alerts in the same states: a firing
        alert counts by its start (it changes when the alert fires again), a resolved one
        by its end too. A firing alert's endsAt is left out: Alertmanager moves it forward
        at every resend."""
        states = sorted(
            (a.key, a.status, a.starts_at.isoformat(), a.ends_at.isoformat() if a.ends_at else "")
            if a.status == "resolved"
            else (a.key, a.status, a.starts_at.isoformat(), "")
            for a in self.alerts
        )
        text = json.dumps([self.group_key, self.status, states], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def group_id(group_key: str) -> str:
    """A short, key-safe name of a group (groupKey holds braces, quotes and spaces)."""
    return hashlib.sha256(group_key.encode()).hexdigest()[:16]


def read_webhook(body: bytes) -> AlertmanagerWebhook:
    """The webhook in `body`; BadWebhook naming what is wrong when it is not one."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadWebhook("the body is not UTF-8 text, so it is not Alertmanager's JSON") from None
    except json.JSONDecodeError as exc:
        raise BadWebhook(
            f"the body is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadWebhook("the body's JSON is nested too deeply to be a webhook") from None
    if not isinstance(doc, dict):
        raise BadWebhook(
            f"the body is a JSON {type(doc).__name__}, not the object Alertmanager sends"
        )
    try:
        return AlertmanagerWebhook.model_validate(doc)
    except ValidationError as exc:
        raise BadWebhook(_problems(exc)) from None


def _problems(exc: ValidationError) -> str:
    """'alerts[0].startsAt: Field required; status: Input should be …', a few at most."""
    problems = []
    for error in exc.errors()[:MAX_PROBLEMS]:
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
        ).lstrip(".")
        problems.append(f"{where or 'body'}: {error['msg']}")
    more = exc.error_count() - MAX_PROBLEMS
    if more > 0:
        problems.append(f"and {more} more")
    return "not an Alertmanager webhook (version 4): " + "; ".join(problems)
