"""The Prometheus tools against a real Prometheus scraping an exporter the test drives.

One Prometheus for the module: the exporter serves steady traffic for two services, then
checkout starts failing (its 500s go from 0.5/s to 30/s) and an alert rule fires. Each test
asks the tools about that, through a ToolRegistry as the engine does.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from engine.evidence.analyze import analyze
from engine.evidence.metrics.report import MetricsReport
from engine.tools.base import ToolError
from engine.tools.http_json import get_json
from engine.tools.prometheus import prometheus_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source
from tests.live_servers import (
    Canned,
    Exporter,
    Prometheus,
    free_port,
    running_exporter,
    running_prometheus,
    running_recorder,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

ERROR_RATE = 'sum by (service, code) (rate(http_requests_total{code="500"}[3s]))'
RULES = {
    "groups": [
        {
            "name": "errors",
            "rules": [
                {
                    "alert": "HighErrorRate",
                    "expr": 'sum by (service) (rate(http_requests_total{code="500"}[3s])) > 5',
                    "labels": {"severity": "page"},
                    "annotations": {"summary": "{{ $labels.service }} fails {{ $value }} req/s"},
                },
                {"alert": "TargetDown", "expr": "up == 0", "labels": {"severity": "warning"}},
            ],
        }
    ]
}
BASELINE_SCRAPES = 8


@dataclass
class World:
    exporter: Exporter
    prometheus: Prometheus
    steady_since: float  # epoch: every rate window full from here on
    spike_at: float  # epoch: checkout's errors went up

    def registry(self) -> ToolRegistry:
        return ToolRegistry(prometheus_tools([self.source()]))

    def source(self) -> Source:
        return Source(name="prom-test", kind="prometheus", url=self.prometheus.url)


async def _scrapes(exporter: Exporter, count: int) -> None:
    target = exporter.scrapes + count

    async def done() -> bool:
        return exporter.scrapes >= target

    await wait_for(done, timeout=30, what=f"{count} scrapes of the exporter")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    workdir = tmp_path_factory.mktemp("prometheus")
    async with running_exporter() as exporter:
        for service in ("checkout", "cart"):
            exporter.grow("http_requests_total", 20, service=service, code="200")
            exporter.grow("http_requests_total", 0.5, service=service, code="500")
        async with running_prometheus(workdir, [exporter.target], rules=RULES) as prometheus:
            await prometheus.wait_for_series("http_requests_total", timeout=30)
            await _scrapes(exporter, 4)  # the 3s rate windows hold full data
            steady_since = time.time()
            await _scrapes(exporter, BASELINE_SCRAPES)
            spike_at = time.time()
            exporter.grow("http_requests_total", 30, service="checkout", code="500")
            # The new level held for a while: what a person would call an incident.
            await prometheus.wait_for_series(
                'count_over_time((sum(rate(http_requests_total{code="500"}[3s])) > 25)[10s:1s])'
                " >= 6",
                timeout=30,
            )
            await prometheus.wait_for_series('ALERTS{alertstate="firing"}', timeout=30)
            yield World(exporter, prometheus, steady_since, spike_at)


def _moved_at(line: str, near: float) -> float:
    """Epoch of a series line's "moved most at HH:MM:SS" (or a full date and time, when the
    range spans two days), read on the day of `near`."""
    shown = re.search(r"moved most at (.+?) \(", line)
    assert shown is not None, line
    text = shown.group(1).removesuffix(" UTC")
    if len(text) == len("HH:MM:SS"):
        text = f"{datetime.fromtimestamp(near, UTC):%Y-%m-%d} {text}"
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


async def test_range_shows_the_spike_of_the_failing_series_and_cites_its_promql(
    world: World,
) -> None:
    run = await world.registry().run(
        "prometheus_range", {"query": ERROR_RATE, "start": _iso(world.steady_since)}
    )

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0] == f"PromQL on prom-test: {ERROR_RATE}"
    # The series that moved is listed first, with when it moved: at the spike, not before.
    assert lines[2].startswith('{code="500", service="checkout"}: ')
    assert _moved_at(lines[2], world.spike_at) >= world.spike_at - 1
    assert float(lines[2].split("max ")[1].split(",")[0]) > 25
    assert lines[3].startswith('{code="500", service="cart"}: ')
    assert float(lines[3].split("max ")[1].split(",")[0]) < 2
    # The query cites the PromQL, the source and a graph page a person can open.
    assert run.query is not None
    assert run.query.startswith(f"{ERROR_RATE}  [on prom-test: {world.prometheus.url}/graph?")
    assert "g0.expr=" in run.query


async def test_range_evidence_reads_as_metrics_whose_changes_show_the_spike(
    world: World,
) -> None:
    run = await world.registry().run(
        "prometheus_range",
        {"query": ERROR_RATE, "start": _iso(world.steady_since), "step": "1s"},
    )

    assert run.ok, run.error
    assert run.evidence_name is not None and run.evidence_name.endswith(".json")
    assert run.evidence is not None
    report = analyze(run.evidence_name, run.evidence)
    assert isinstance(report, MetricsReport)
    assert report.format == "prometheus-json-matrix"
    by_name = {s.name: s for s in report.series}
    failing = next(s for name, s in by_name.items() if "checkout" in name)
    steady = next(s for name, s in by_name.items() if "cart" in name)
    changes = [c.at for c in failing.shifts] + [c.at for c in failing.spikes]
    assert changes, f"no shift or spike found in {failing.name}"
    assert all(at is not None and at.timestamp() >= world.spike_at - 1 for at in changes)
    assert failing.max > 25
    assert not steady.shifts and not steady.spikes


async def test_instant_query_gives_each_series_value(world: World) -> None:
    run = await world.registry().run(
        "prometheus_query",
        {"query": 'sum by (service) (rate(http_requests_total{code="500"}[3s]))'},
    )

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0].startswith("PromQL on prom-test at ")
    assert lines[1] == "2 series:"
    assert lines[2].startswith('{service="checkout"} ')  # the highest value first
    assert float(lines[2].split()[-1]) > 25
    assert lines[3].startswith('{service="cart"} ')
    assert run.query is not None and "sum by (service)" in run.query


async def test_bad_promql_says_prometheus_own_error(world: World) -> None:
    run = await world.registry().run("prometheus_query", {"query": "rate(http_requests_total[3s]"})

    assert not run.ok
    assert run.error is not None
    assert "HTTP 400" in run.error
    assert "parse error" in run.error and "unclosed left parenthesis" in run.error


async def test_series_and_label_values_list_what_the_exporter_serves(world: World) -> None:
    registry = world.registry()

    series = await registry.run("prometheus_series", {"match": 'http_requests_total{code="500"}'})
    values = await registry.run(
        "prometheus_labels", {"label": "service", "match": "http_requests_total"}
    )
    names = await registry.run("prometheus_labels", {})

    assert series.ok and values.ok and names.ok, (series.error, values.error, names.error)
    assert series.output.splitlines()[0].endswith(": 2")
    assert 'service="checkout"' in series.output and 'service="cart"' in series.output
    assert values.output.endswith("(2): cart, checkout")
    assert "code" in names.output and "service" in names.output
    assert values.query is not None and values.query.startswith(
        "group by (service) (http_requests_total)"
    )


async def test_firing_alert_is_listed_with_its_rule(world: World) -> None:
    run = await world.registry().run("prometheus_alerts", {"rules": True})

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[0].startswith("Alerts on prom-test: 1 firing, 0 pending")
    assert lines[1].startswith('FIRING HighErrorRate {service="checkout", severity="page"} since')
    assert lines[2].strip().startswith("checkout fails ")
    assert 'rule: sum by (service) (rate(http_requests_total{code="500"}[3s])) > 5' in lines[3]
    # Asked for rules too: the one not firing is named.
    assert "Rules not firing:" in lines
    assert any(line.strip().startswith("TargetDown: up == 0") for line in lines)


async def test_range_without_series_gives_no_evidence(world: World) -> None:
    run = await world.registry().run(
        "prometheus_range", {"query": 'http_requests_total{service="nowhere"}', "start": "5m"}
    )

    assert run.ok, run.error
    assert "no series had points" in run.output
    assert run.evidence is None


async def test_bad_times_and_steps_are_said_in_words(world: World) -> None:
    registry = world.registry()

    backwards = await registry.run("prometheus_range", {"query": "up", "start": "5m", "end": "10m"})
    garbled = await registry.run("prometheus_range", {"query": "up", "start": "yesterday"})
    tiny_step = await registry.run("prometheus_range", {"query": "up", "start": "7d", "step": "1s"})

    assert backwards.error is not None and "ends" in backwards.error
    assert garbled.error is not None and "'yesterday' is not a time" in garbled.error
    assert tiny_step.error is not None and "use a larger step" in tiny_step.error


async def test_unreachable_prometheus_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    registry = ToolRegistry(prometheus_tools([Source(name="gone", kind="prometheus", url=url)]))

    run = await registry.run("prometheus_query", {"query": "up"})

    assert run.error == f"cannot reach gone ({url}): connection refused"


async def test_bearer_token_is_sent_when_the_source_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    monkeypatch.setenv("FM_TEST_PROM_TOKEN", "tok-3f9a7c2e")
    async with running_recorder({"/api/v1/query": empty}) as server:
        with_token = Source(
            name="secured", kind="prometheus", url=server.url, credentials_env="FM_TEST_PROM_TOKEN"
        )
        without = Source(name="open", kind="prometheus", url=server.url)
        registry = ToolRegistry(prometheus_tools([with_token, without]))

        first = await registry.run("prometheus_query", {"query": "up", "source": "secured"})
        second = await registry.run("prometheus_query", {"query": "up", "source": "open"})

    assert first.ok and second.ok, (first.error, second.error)
    assert server.requests[0].headers.get("Authorization") == "Bearer tok-3f9a7c2e"
    assert "Authorization" not in server.requests[1].headers
    assert server.requests[0].query["query"] == "up"
    assert "tok-3f9a7c2e" not in first.output + (first.query or "")


async def test_refusals_and_answers_that_are_not_json_are_said_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FM_TEST_PROM_TOKEN", "wrong")
    routes = {
        "/api/v1/query": Canned(401, text="Unauthorized"),
        "/login/api/v1/query": Canned(200, text="<html>Sign in</html>"),
    }
    async with running_recorder(routes) as server:
        refused = Source(
            name="refused", kind="prometheus", url=server.url, credentials_env="FM_TEST_PROM_TOKEN"
        )
        html = Source(name="html", kind="prometheus", url=f"{server.url}/login")
        registry = ToolRegistry(prometheus_tools([refused, html]))

        denied = await registry.run("prometheus_query", {"query": "up", "source": "refused"})
        not_json = await registry.run("prometheus_query", {"query": "up", "source": "html"})
        unnamed = await registry.run("prometheus_query", {"query": "up"})

    assert denied.error == (
        f"refused ({server.url}) answered HTTP 401 Unauthorized "
        "(check the token in FM_TEST_PROM_TOKEN): Unauthorized"
    )
    assert not_json.error is not None
    assert "not JSON" in not_json.error and "'<html>Sign in</html>'" in not_json.error
    assert unnamed.error == "say which prometheus source to use: refused, html"


async def test_a_slow_or_oversized_answer_is_cut_off_with_a_reason() -> None:
    big = {"status": "success", "data": {"resultType": "vector", "result": [{"v": "x" * 5000}]}}
    routes = {"/api/v1/query": Canned(delay_s=2), "/api/v1/series": big}
    async with running_recorder(routes) as server:
        slow = Source(name="slow", kind="prometheus", url=server.url, timeout_s=0.3)

        late = await ToolRegistry(prometheus_tools([slow])).run("prometheus_query", {"query": "up"})
        with pytest.raises(ToolError) as too_big:
            await get_json(slow, "api/v1/series", max_bytes=1024)

    assert late.error == f"slow ({server.url}) did not answer within 0.3 s"
    assert str(too_big.value).startswith("slow answered with more than 1 KB; narrow the query")


async def test_no_prometheus_source_gives_no_tools() -> None:
    others = [Source(name="am", kind="alertmanager", url="http://127.0.0.1:9093")]

    assert prometheus_tools(others) == []
