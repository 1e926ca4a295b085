"""The Alertmanager tools against the real chain an alert travels: a driven exporter makes
checkout fail, Prometheus' rule fires, Alertmanager holds the alert and posts its webhook.

One chain for the module; each test asks the tools about it through a ToolRegistry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from engine.tools.alertmanager import alertmanager_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source
from tests.live_servers import (
    Alertmanager,
    Recorded,
    Recorder,
    free_port,
    running_alertmanager,
    running_exporter,
    running_prometheus,
    running_recorder,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

RULES = {
    "groups": [
        {
            "name": "errors",
            "rules": [
                {
                    "alert": "HighErrorRate",
                    "expr": 'sum by (service) (rate(http_requests_total{code="500"}[3s])) > 5',
                    "labels": {"severity": "page", "team": "payments"},
                    "annotations": {
                        "summary": "{{ $labels.service }} answers errors",
                        "description": "5xx above 5 per second",
                    },
                }
            ],
        }
    ]
}
SILENCE_FOREVER = {"startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z"}


@dataclass
class Chain:
    alertmanager: Alertmanager
    webhook: Recorder
    first_post: Recorded

    def registry(self) -> ToolRegistry:
        source = Source(name="am-test", kind="alertmanager", url=self.alertmanager.url)
        return ToolRegistry(alertmanager_tools([source]))


def _alert_post(request: Recorded) -> bool:
    return request.path == "/alerts" and request.method == "POST"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Chain]:
    workdir = tmp_path_factory.mktemp("alerting")
    async with (
        running_recorder() as webhook,
        running_exporter() as exporter,
        running_alertmanager(workdir / "alertmanager", f"{webhook.url}/alerts") as alertmanager,
        running_prometheus(
            workdir / "prometheus",
            [exporter.target],
            rules=RULES,
            alertmanager=alertmanager.target,
        ) as prometheus,
    ):
        exporter.grow("http_requests_total", 20, service="checkout", code="200")
        exporter.grow("http_requests_total", 0.5, service="checkout", code="500")
        await prometheus.wait_for_series("http_requests_total", timeout=30)
        exporter.grow("http_requests_total", 30, service="checkout", code="500")
        # Scrape, rule evaluation, Alertmanager's grouping: each a second or so.
        first_post = await webhook.wait_for_request(
            _alert_post, timeout=60, what="Alertmanager's webhook POST"
        )
        yield Chain(alertmanager, webhook, first_post)


async def test_a_driven_spike_fires_an_alert_that_reaches_the_webhook(chain: Chain) -> None:
    payload: dict[str, Any] = chain.first_post.json()

    assert payload["status"] == "firing"
    assert payload["receiver"] == "webhook"
    (alert,) = payload["alerts"]
    assert alert["labels"] == {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "page",
        "team": "payments",
    }
    assert alert["annotations"]["summary"] == "checkout answers errors"
    assert "g0.expr=" in alert["generatorURL"]  # the PromQL, as Prometheus links it


async def test_active_alert_is_listed_with_severity_labels_and_summary(chain: Chain) -> None:
    run = await chain.registry().run("alertmanager_alerts", {})

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0] == "Alertmanager am-test: 1 alert"
    assert lines[1].startswith("[page] HighErrorRate — active since ")
    assert lines[1].endswith("; service=checkout, team=payments")
    assert lines[2:] == [
        "  summary: checkout answers errors",
        "  description: 5xx above 5 per second",
    ]
    assert (
        run.query
        == f"GET {chain.alertmanager.url}/api/v2/alerts?active=true&silenced=false&inhibited=false"
    )


async def test_matchers_narrow_the_alerts(chain: Chain) -> None:
    registry = chain.registry()

    same = await registry.run("alertmanager_alerts", {"matchers": ['service="checkout"']})
    regex = await registry.run("alertmanager_alerts", {"matchers": ['severity=~"page|critical"']})
    other = await registry.run("alertmanager_alerts", {"matchers": ['service="cart"']})

    assert (
        same.output.splitlines()[0] == 'Alertmanager am-test: 1 alert matching service="checkout"'
    )
    assert "HighErrorRate" in regex.output
    assert other.output == 'Alertmanager am-test: 0 alerts matching service="cart"'


async def test_a_bad_matcher_says_alertmanager_own_error(chain: Chain) -> None:
    run = await chain.registry().run("alertmanager_alerts", {"matchers": ['service=="checkout"']})

    assert run.error is not None
    assert run.error.startswith(f"am-test ({chain.alertmanager.url}) answered HTTP 400")
    assert "unescaped double quote" in run.error


async def test_a_silence_is_listed_and_hides_the_alert_until_it_expires(chain: Chain) -> None:
    registry = chain.registry()
    created = await chain.alertmanager.post(
        "/api/v2/silences",
        {
            "matchers": [
                {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True},
                {"name": "severity", "value": "page|critical", "isRegex": True, "isEqual": True},
            ],
            **SILENCE_FOREVER,
            "createdBy": "alice",
            "comment": "fix is rolling out",
        },
    )
    silence_id = created["silenceID"]
    try:
        silences = await registry.run("alertmanager_silences", {})
        hidden = await registry.run("alertmanager_alerts", {})
        shown = await registry.run("alertmanager_alerts", {"silenced": True})
    finally:
        await chain.alertmanager.delete(f"/api/v2/silence/{silence_id}")
    after = await registry.run("alertmanager_silences", {})
    expired = await registry.run("alertmanager_silences", {"include_expired": True})

    lines = silences.output.splitlines()
    assert lines[0] == "Alertmanager am-test: 1 silence"
    assert lines[1].startswith(
        '{service="checkout", severity=~"page|critical"} by alice, '
        "until 2099-01-01 00:00:00 UTC (in "
    )
    assert lines[1].endswith(f': "fix is rolling out" [id {silence_id[:8]}]')
    assert hidden.output == "Alertmanager am-test: 0 alerts"
    assert f"HighErrorRate — suppressed, silenced by {silence_id[:8]} since" in shown.output
    assert after.output == "Alertmanager am-test: 0 silences"
    assert "fix is rolling out" in expired.output and "[expired, id " in expired.output


async def test_unreachable_alertmanager_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    registry = ToolRegistry(alertmanager_tools([Source(name="gone", kind="alertmanager", url=url)]))

    run = await registry.run("alertmanager_silences", {})

    assert run.error == f"cannot reach gone ({url}): connection refused"


async def test_bearer_token_is_sent_when_the_source_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FM_TEST_AM_TOKEN", "am-tok-81c4d0")
    async with running_recorder({"/api/v2/alerts": [], "/api/v2/silences": []}) as server:
        source = Source(
            name="secured", kind="alertmanager", url=server.url, credentials_env="FM_TEST_AM_TOKEN"
        )
        registry = ToolRegistry(alertmanager_tools([source]))

        alerts = await registry.run("alertmanager_alerts", {"matchers": ['job="api"']})
        silences = await registry.run("alertmanager_silences", {})

    assert alerts.output == 'Alertmanager secured: 0 alerts matching job="api"'
    assert silences.output == "Alertmanager secured: 0 silences"
    assert [r.headers.get("Authorization") for r in server.requests] == ["Bearer am-tok-81c4d0"] * 2
    assert server.requests[0].query["filter"] == 'job="api"'
    assert [r.method for r in server.requests] == ["GET", "GET"]  # read-only


async def test_no_alertmanager_source_gives_no_tools() -> None:
    others = [Source(name="prom", kind="prometheus", url="http://127.0.0.1:9090")]

    assert alertmanager_tools(others) == []
