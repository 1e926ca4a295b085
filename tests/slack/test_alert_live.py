"""From a real error spike to a case in Slack: an exporter the test drives makes checkout's
500s jump, the real Prometheus fires its alert rule, the real Alertmanager posts its webhook
to FaultMaven, which opens a case in the channel, pulls the alert's series from that same
Prometheus (a configured source) and answers naming checkout, citing the PromQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from tests.fakes.slack import FakeSlack
from tests.live_servers import running_alertmanager, running_exporter, running_prometheus
from tests.restartable import free_port
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0ALERTS"
TOKEN = "alert-token-for-the-test-0123456789"
EXPR = 'sum by (service) (rate(http_requests_total{code="500"}[15s]))'
RULES = {
    "groups": [
        {
            "name": "errors",
            "rules": [
                {
                    "alert": "HighErrorRate",
                    "expr": f"{EXPR} > 5",
                    "labels": {"severity": "critical"},
                    "annotations": {"summary": "{{ $labels.service }} answers errors"},
                }
            ],
        }
    ]
}
TIMEOUT = 90.0


async def test_a_real_alert_opens_a_case_that_names_the_failing_service_with_its_promql(
    slack: FakeSlack, start_bot: StartBot, tmp_path: Path
) -> None:
    port = free_port()
    receiver = f"http://127.0.0.1:{port}/alerts/alertmanager"
    async with (
        running_exporter() as exporter,
        running_alertmanager(tmp_path / "am", receiver, token=TOKEN) as alertmanager,
        running_prometheus(
            tmp_path / "prom", [exporter.target], rules=RULES, alertmanager=alertmanager.target
        ) as prometheus,
    ):
        sources = tmp_path / "sources.yaml"
        prom = {"name": "prom", "kind": "prometheus", "url": prometheus.url, "channels": ["*"]}
        sources.write_text(yaml.safe_dump({"sources": [prom]}))
        await start_bot(
            http_port=port,
            alerts_token=SecretStr(TOKEN),
            alerts_channel=CHANNEL,
            sources_file=sources,
        )
        for service in ("checkout", "cart", "search"):
            exporter.grow("http_requests_total", 20, service=service, code="200")
            exporter.grow("http_requests_total", 0.2, service=service, code="500")
        await prometheus.wait_for_series("http_requests_total", timeout=30)
        exporter.grow("http_requests_total", 40, service="checkout", code="500")

        root = await slack.wait_for_call(
            "chat.postMessage",
            lambda c: c.params.get("channel") == CHANNEL and not c.params.get("thread_ts"),
            timeout=TIMEOUT,
        )
        thread = str(root.response["ts"])
        assert "HighErrorRate" in root.params["text"] and "checkout" in root.params["text"]
        pulled = await slack.wait_for_call(
            "chat.postMessage",
            lambda c: c.params.get("thread_ts") == thread and "📈" in str(c.params.get("text")),
            timeout=TIMEOUT,
        )
        assert EXPR in pulled.params["text"]  # the PromQL it pulled, to run again
        summary = await slack.wait_for_call(
            "chat.update",
            lambda c: (
                c.params.get("channel") == CHANNEL
                and str(c.params.get("text", "")).startswith("*Case #")
                and "⏳" not in str(c.params.get("text"))
            ),
            timeout=TIMEOUT,
        )
        text = str(summary.params["text"])
        assert "checkout" in text  # the failing service leads
        assert "cart" not in text.split("checkout", 1)[0]
