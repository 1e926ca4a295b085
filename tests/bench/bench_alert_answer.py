"""From a firing alert to FaultMaven's first answer in Slack, with real Prometheus and
Alertmanager (Debian's packages) and the real FaultMaven process against the fake Slack.

An exporter the bench drives makes one service's 500s jump per run; Prometheus (1 s scrape and
rule evaluation) fires `HighErrorRate`; Alertmanager (group_wait 1 s here; 30 s by default in
production, which adds to a real deployment's figure) posts its webhook; FaultMaven opens the
case, pulls the alert's series from the same Prometheus (a configured source) and answers.
Measured per run, from the alert's `activeAt` in Prometheus:
- to the case's root message in the channel (the webhook taken, the case opened);
- to the first settled case summary (the first turn's answer, series included).

Run: .venv/bin/python tests/bench/bench_alert_answer.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import yaml
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.slack_process import faultmaven_on_fake_slack, pct  # noqa: E402
from tests.fakes.slack_base import Call  # noqa: E402
from tests.live_servers import (  # noqa: E402
    running_alertmanager,
    running_exporter,
    running_prometheus,
)
from tests.restartable import free_port  # noqa: E402

CHANNEL = "C0ALERTS"
# The fake Slack stamps calls with time.monotonic(); Prometheus gives wall time.
WALL_OFFSET = time.time() - time.monotonic()
TOKEN = "bench-alert-token-0123456789abcdef"


def rules(runs: int) -> dict[str, object]:
    """One alert rule per run (Alertmanager groups by alert name): each run opens a case."""
    return {
        "groups": [
            {
                "name": "errors",
                "rules": [
                    {
                        "alert": f"HighErrorRate{n}",
                        "expr": f'sum by (service) (rate(http_requests_total{{code="500",'
                        f'service="svc{n}"}}[15s])) > 5',
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "{{ $labels.service }} answers errors"},
                    }
                    for n in range(runs)
                ],
            }
        ]
    }


async def active_at(prometheus_url: str, service: str, timeout: float) -> float:
    """The wall time Prometheus says the run's alert became active."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{prometheus_url}/api/v1/alerts") as response:
                alerts = (await response.json())["data"]["alerts"]
            for alert in alerts:
                if alert["labels"].get("service") == service and alert.get("activeAt"):
                    # Prometheus writes nanoseconds; Python reads at most microseconds.
                    at = re.sub(r"(\.\d{6})\d+", r"\1", alert["activeAt"]).replace("Z", "+00:00")
                    return datetime.fromisoformat(at).timestamp()
            await asyncio.sleep(0.2)
    raise TimeoutError(f"no alert for {service} within {timeout} s")


def is_answer(call: Call, service: str) -> bool:
    """The case summary after a turn on the evidence (not the root message's own update)."""
    text = str(call.params.get("text", ""))
    return (
        text.startswith("*Case #")
        and service in text
        and "⏳" not in text
        and ("diagnosing" in text or "analyzing" in text)
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    receiver = f"http://127.0.0.1:{port}/alerts/alertmanager"
    to_root: list[float] = []
    to_answer: list[float] = []
    with tempfile.TemporaryDirectory(prefix="fm-alert-bench-") as tmp:
        work = Path(tmp)
        async with (
            running_exporter() as exporter,
            running_alertmanager(work / "am", receiver, token=TOKEN) as alertmanager,
            running_prometheus(
                work / "prom",
                [exporter.target],
                rules=rules(args.runs),
                alertmanager=alertmanager.target,
            ) as prometheus,
        ):
            sources = work / "sources.yaml"
            prom = {"name": "prom", "kind": "prometheus", "url": prometheus.url, "channels": ["*"]}
            sources.write_text(yaml.safe_dump({"sources": [prom]}))
            async with faultmaven_on_fake_slack(
                max_file_mb=50,
                http_port=port,
                alerts_token=SecretStr(TOKEN),
                alerts_channel=CHANNEL,
                sources_file=sources,
            ) as slack:
                for run in range(args.runs):
                    service = f"svc{run}"
                    exporter.grow("http_requests_total", 20, service=service, code="200")
                    exporter.grow("http_requests_total", 0.2, service=service, code="500")
                    await prometheus.wait_for_series(
                        f'http_requests_total{{service="{service}"}}', timeout=30
                    )
                    exporter.grow("http_requests_total", 40, service=service, code="500")
                    fired = await active_at(prometheus.url, service, 60)
                    root = await slack.wait_for_call(
                        "chat.postMessage",
                        lambda c, s=service: (
                            c.params.get("channel") == CHANNEL
                            and not c.params.get("thread_ts")
                            and s in str(c.params.get("text"))
                        ),
                        timeout=120,
                    )
                    rooted = root.at + WALL_OFFSET  # when the fake Slack got it
                    answer = await slack.wait_for_call(
                        "chat.update", lambda c, s=service: is_answer(c, s), timeout=120
                    )
                    answered = answer.at + WALL_OFFSET
                    to_root.append(rooted - fired)
                    to_answer.append(answered - fired)
                    print(
                        f"run {run + 1}: alert active → case posted {rooted - fired:.2f} s, "
                        f"→ first answer {answered - fired:.2f} s"
                    )
                    exporter.grow("http_requests_total", 0.2, service=service, code="500")
    print(
        f"alert active → case root message: p50 {statistics.median(to_root):.2f} s, "
        f"p95 {pct(to_root, 95):.2f} s · → first answer (series pulled, turn run): "
        f"p50 {statistics.median(to_answer):.2f} s, p95 {pct(to_answer, 95):.2f} s "
        f"({args.runs} runs)"
    )


if __name__ == "__main__":
    asyncio.run(main())
