"""Which channel an Alertmanager notification opens its case in: FAULTMAVEN_ALERTS_ROUTES.

A route is `label=value:channel`; routes are comma-separated and the first whose label has
that value among the group's common labels wins, else FAULTMAVEN_ALERTS_CHANNEL:

    FAULTMAVEN_ALERTS_ROUTES=team=payments:C0PAY,severity=critical:C0CRIT

A value may itself hold colons (`instance=db1:5432:C0DB`): the channel is what follows the
last one. A mistake is a ValueError that names the route and says how to write it, raised
when the settings are read, so a process refuses to start rather than mis-route alerts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel

# Prometheus label names; Slack channel ids (C public, G private).
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_HOW = "write each route as label=value:channel, e.g. team=payments:C0123ABCD"


class AlertRoute(BaseModel):
    """Alerts whose `label` is `value` go to `channel`."""

    label: str
    value: str
    channel: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels.get(self.label) == self.value


def parse_alert_routes(text: str) -> list[AlertRoute]:
    """`team=payments:C0PAY,severity=critical:C0CRIT` -> routes, in order."""
    routes = []
    for written in (part.strip() for part in text.split(",")):
        if not written:
            continue
        condition, colon, channel = written.rpartition(":")
        label, equals, value = condition.partition("=")
        label, value, channel = label.strip(), value.strip(), channel.strip()
        if not colon or not equals:
            raise ValueError(f"FAULTMAVEN_ALERTS_ROUTES: {written!r} is not a route; {_HOW}")
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"FAULTMAVEN_ALERTS_ROUTES: {label!r} in {written!r} is not a label name "
                f"(letters, digits and _); {_HOW}"
            )
        if not value:
            raise ValueError(f"FAULTMAVEN_ALERTS_ROUTES: {written!r} has no value; {_HOW}")
        check_channel_id(channel, f"FAULTMAVEN_ALERTS_ROUTES: {written!r}")
        routes.append(AlertRoute(label=label, value=value, channel=channel))
    return routes


def check_channel_id(channel: str, where: str) -> None:
    if not CHANNEL_ID.fullmatch(channel):
        raise ValueError(
            f"{where}: {channel!r} is not a Slack channel id (like C0123ABCD: open the "
            "channel's details in Slack, the id is at the bottom)"
        )


def route_for(
    labels: Mapping[str, str], routes: list[AlertRoute], default: str | None
) -> str | None:
    """The channel for a group with these common labels; None when nothing routes it."""
    return next((route.channel for route in routes if route.matches(labels)), default)
