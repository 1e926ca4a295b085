"""POST /alerts/alertmanager: Alertmanager's webhook receiver, on the operations port.

Each notification (one alert group) is checked and queued, nothing more: the job
(engine/cases/alert_cases.py) opens or updates the group's case, so the answer comes at once
and never waits on Slack or the database. Alertmanager retries a notification that got a 5xx
and gives up on a 4xx, so the answers are:

- 200: queued (or a copy of a notification already queued: Alertmanager resends a group's
  state every repeat_interval and after a lost answer; the job's key makes it one job);
- 401: no token or the wrong one (`Authorization: Bearer <token>`, or basic auth whose
  password is the token), compared in constant time;
- 400: not an Alertmanager version 4 webhook, with what is wrong; 413: over 1 MiB;
- 422: no route for the group's labels and no default channel;
- 503: the queue is not reachable (or not up yet): Alertmanager tries again;
- 404: the receiver is off (FAULTMAVEN_ALERTS_TOKEN unset).

Alertmanager's side (alertmanager.yml):

    receivers:
      - name: faultmaven
        webhook_configs:
          - url: http://faultmaven:8080/alerts/alertmanager
            http_config:
              authorization:
                credentials: <FAULTMAVEN_ALERTS_TOKEN>   # or credentials_file
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from aiohttp import web

from engine.core.alert_routes import route_for
from engine.core.alert_webhook import AlertmanagerWebhook, BadWebhook, group_id, read_webhook
from engine.core.config import Settings
from engine.core.models import AlertGroupRequest
from engine.worker.jobs import JobKind
from engine.worker.queue import JobQueue, QueueUnavailable

log = logging.getLogger(__name__)

ALERTS_PATH = "/alerts/alertmanager"
RETRY_AFTER_S = "10"


def _error(status: int, text: str, **headers: str) -> web.Response:
    return web.json_response({"error": text}, status=status, headers=headers or None)


class AlertReceiver:
    """The route, mounted on the operations server (bot/serving/ops_http.py) from the start;
    it answers 503 until the process gives it the queue (`queue`)."""

    def __init__(self, settings: Settings) -> None:
        token = settings.alerts_token.get_secret_value() if settings.alerts_token else ""
        self._token = token.encode()
        self.routes = settings.alerts_routes
        self.default_channel = settings.alerts_channel
        self.queue: JobQueue | None = None

    @property
    def on(self) -> bool:
        return bool(self._token)

    def route_defs(self) -> list[web.RouteDef]:
        return [web.post(ALERTS_PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        if not self.on:
            return _error(
                404, "the alert receiver is off: set FAULTMAVEN_ALERTS_TOKEN to turn it on"
            )
        if not self._authorised(request.headers.get("Authorization", "")):
            log.warning("refused an alert notification from %s: no or wrong token", request.remote)
            return _error(
                401,
                "no or wrong token: send FAULTMAVEN_ALERTS_TOKEN as a bearer token "
                "(http_config.authorization.credentials) or as the basic-auth password",
                **{"WWW-Authenticate": 'Bearer realm="faultmaven-alerts"'},
            )
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # aiohttp's limit: 1 MiB a request
            return _error(
                413,
                "the notification is over 1 MiB: set max_alerts in Alertmanager's "
                "webhook_config to send fewer alerts at a time",
            )
        try:
            hook = read_webhook(body)
        except BadWebhook as exc:
            log.warning("refused an alert notification: %s", exc)
            return _error(400, str(exc))
        channel = route_for(hook.common_labels, self.routes, self.default_channel)
        if channel is None:
            return _error(
                422,
                f"no channel for alerts labelled {hook.common_labels}: set "
                "FAULTMAVEN_ALERTS_CHANNEL, or a FAULTMAVEN_ALERTS_ROUTES route they match",
            )
        return await self._queue(hook, channel, body)

    async def _queue(self, hook: AlertmanagerWebhook, channel: str, body: bytes) -> web.Response:
        """One job per notification, keyed by its group and state: a resend is no new job."""
        group = group_id(hook.group_key)
        if self.queue is None:
            return _error(503, "starting: try again shortly", **{"Retry-After": RETRY_AFTER_S})
        job = AlertGroupRequest(channel_id=channel, webhook=hook, raw=body.decode("utf-8"))
        try:
            queued = await self.queue.submit(
                JobKind.ALERT_GROUP, job, dedup_key=f"alert:{group}:{hook.state_hash()}"
            )
        except QueueUnavailable as exc:
            log.warning("alert notification of group %s not queued: %s", group, exc)
            return _error(
                503, "the job queue is unreachable: try again", **{"Retry-After": RETRY_AFTER_S}
            )
        log.info(
            "alert notification of group %s %s for %s",
            group,
            "queued" if queued else "already queued",
            channel,
        )
        status = "queued" if queued else "duplicate"
        return web.json_response({"status": status, "group": group, "channel": channel})

    def _authorised(self, header: str) -> bool:
        """A bearer token, or basic auth (any user name) with the token as its password."""
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            given = value.encode()
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            given = decoded.partition(b":")[2]
        else:
            return False
        return hmac.compare_digest(given, self._token)
