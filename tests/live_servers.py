"""Real monitoring servers a test starts on loopback, and a tiny exporter it drives.

- `running_exporter()`: an aiohttp server whose `/metrics` serves exposition text made from
  values the test sets (`set` a gauge, `add` to a counter, `grow` a counter at a rate: its
  value is worked out at each scrape, so a rate query sees a real rate).
- `running_prometheus(workdir, targets, ...)`: /usr/bin/prometheus scraping them every second,
  evaluating rules every second, optionally sending alerts to an Alertmanager.
- `running_alertmanager(workdir, webhook_url)`: /usr/bin/prometheus-alertmanager, clustering
  off, one receiver posting to `webhook_url` after about a second of grouping.
- `running_recorder(routes)`: an HTTP server that answers canned replies and records every
  request (headers and body): a webhook receiver, or a stand-in API to check what was sent.

Each is an async context manager: started on a free 127.0.0.1 port in the given directory,
waited for with a deadline (with the server's log in the error when it does not come up),
stopped on exit. A missing binary skips the test with the reason. `wait_for` polls any
condition with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import yaml
from aiohttp import web

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_START_TRIES = 3  # a free port taken by someone else between the check and the bind

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary_or_skip(path: str) -> str:
    """The server binary, or a skipped test that says which package gives it."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        found = shutil.which(Path(path).name)
        if found is None:
            package = Path(path).name
            pytest.skip(f"{path} is not installed (Debian package `{package}`)")
        return found
    return path


async def wait_for(
    check: Callable[[], Awaitable[T | None]], *, timeout: float, what: str, every: float = 0.2
) -> T:
    """Poll `check` until it returns something other than None/False; fail after `timeout`
    seconds saying `what` was awaited and the last error `check` raised, if any."""
    last_error: BaseException | None = None
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await check()
            if value is not None and value is not False:
                return value
        except (aiohttp.ClientError, OSError, ValueError) as exc:  # not up yet
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"{what}: not seen within {timeout:g} s{detail}")
        await asyncio.sleep(every)


# --- the exporter a test drives -----------------------------------------------------------


def _series_key(name: str, labels: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class _Series:
    kind: str  # "gauge" or "counter"
    value: float = 0.0
    per_second: float = 0.0  # a growing counter: value at `since`, then this much a second
    since: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return self.value + self.per_second * (time.monotonic() - self.since)


class Exporter:
    """`/metrics` of values the test sets. `target` is what Prometheus scrapes."""

    def __init__(self) -> None:
        self.port = 0
        self.scrapes = 0
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], _Series] = {}

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.target}/metrics"

    def set(self, name: str, value: float, **labels: str) -> None:
        """A gauge's value from now on."""
        self._series[_series_key(name, labels)] = _Series("gauge", value)

    def add(self, name: str, amount: float, **labels: str) -> None:
        """Add to a counter at once (a burst of events)."""
        series = self._counter(name, labels)
        series.value += amount

    def grow(self, name: str, per_second: float, **labels: str) -> None:
        """From now on the counter grows by `per_second` each second (0 stops it)."""
        series = self._counter(name, labels)
        series.value, series.since, series.per_second = series.now(), time.monotonic(), per_second

    def _counter(self, name: str, labels: Mapping[str, str]) -> _Series:
        key = _series_key(name, labels)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series("counter")
        return series

    def exposition(self) -> str:
        lines: list[str] = []
        typed: set[str] = set()
        for (name, labels), series in sorted(self._series.items()):
            if name not in typed:
                typed.add(name)
                lines.append(f"# TYPE {name} {series.kind}")
            shown = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
            value = series.now()
            number = repr(float(value)) if math.isfinite(value) else str(value)
            lines.append(f"{name}{{{shown}}} {number}" if shown else f"{name} {number}")
        return "\n".join(lines) + "\n"

    async def _metrics(self, request: web.Request) -> web.Response:
        self.scrapes += 1
        return web.Response(text=self.exposition(), content_type="text/plain", charset="utf-8")


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    address = runner.addresses[0]
    return runner, int(address[1])


@asynccontextmanager
async def running_exporter() -> AsyncIterator[Exporter]:
    exporter = Exporter()
    app = web.Application()
    app.router.add_get("/metrics", exporter._metrics)
    runner, exporter.port = await _serve(app)
    try:
        yield exporter
    finally:
        await runner.cleanup()


# --- a recording HTTP server ----------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Canned:
    """A reply other than 200 with JSON: an HTTP error, or a body that is not JSON."""

    status: int = 200
    json_body: Any = None
    text: str | None = None  # sent as is (text/html) instead of JSON
    delay_s: float = 0.0  # wait this long first: a server too slow to answer


class Recorder:
    """Answers each known path with its canned reply (JSON data, or a `Canned`; any other
    path: 404), and keeps every request, to check what a client sent."""

    def __init__(self, routes: Mapping[str, Any]) -> None:
        self.routes = dict(routes)
        self.requests: list[Recorded] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        if request.path not in self.routes:
            return web.json_response({"status": "error", "error": "not found"}, status=404)
        reply = self.routes[request.path]
        if not isinstance(reply, Canned):
            return web.json_response(reply)
        await asyncio.sleep(reply.delay_s)
        if reply.text is not None:
            return web.Response(status=reply.status, text=reply.text, content_type="text/html")
        return web.json_response(reply.json_body, status=reply.status)

    async def wait_for_request(
        self, check: Callable[[Recorded], bool], *, timeout: float, what: str
    ) -> Recorded:
        async def seen() -> Recorded | None:
            return next((r for r in self.requests if check(r)), None)

        return await wait_for(seen, timeout=timeout, what=what)


@asynccontextmanager
async def running_recorder(routes: Mapping[str, Any] | None = None) -> AsyncIterator[Recorder]:
    recorder = Recorder(routes or {})
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder._handle)
    runner, recorder.port = await _serve(app)
    try:
        yield recorder
    finally:
        await runner.cleanup()


# --- server processes -----------------------------------------------------------------------


class ServerProcess:
    """One server binary on a loopback port, logging to `<workdir>/<name>.log`."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def start(self, argv: Callable[[int], Sequence[str]]) -> None:
        """Start `argv(port)` and wait for `/-/ready`; a few tries on fresh ports when the
        process dies before it is ready (another process took the port)."""
        for attempt in range(_START_TRIES):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self.process = await asyncio.create_subprocess_exec(
                    *argv(self.port), stdout=log, stderr=log, cwd=self.workdir
                )
            if await self._ready():
                return
            await self.stop()
            if attempt == _START_TRIES - 1 or "address already in use" not in self.log_tail():
                raise AssertionError(f"{self.name} did not start; its log ends:\n{self.log_tail()}")

    async def _ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process is None or self.process.returncode is not None:
                    return False
                try:
                    async with http.get(f"{self.url}/-/ready") as response:
                        if response.status == 200:
                            return True
                except aiohttp.ClientError:
                    pass  # not listening yet
                await asyncio.sleep(0.1)
        return False

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()


def _write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Prometheus:
    server: ServerProcess

    @property
    def url(self) -> str:
        return self.server.url

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant query's result list (for waits in tests)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/api/v1/query", params={"query": promql}) as response,
        ):
            doc = await response.json()
        if doc.get("status") != "success":
            raise ValueError(f"{promql}: {doc.get('error')}")
        result: list[dict[str, Any]] = doc["data"]["result"]
        return result

    async def wait_for_series(self, promql: str, *, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until `promql` returns a series (the first scrape has happened, or a value
        has risen past a comparison in the query)."""

        async def found() -> list[dict[str, Any]] | None:
            return await self.query(promql) or None

        return await wait_for(found, timeout=timeout, what=f"Prometheus series for {promql}")


def _prometheus_config(
    workdir: Path,
    targets: Sequence[str],
    rules: Mapping[str, Any] | None,
    alertmanager: str | None,
) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "exporter", "static_configs": [{"targets": list(targets)}]}
        ],
    }
    if rules is not None:
        config["rule_files"] = [str(_write_yaml(workdir / "rules.yml", rules))]
    if alertmanager is not None:
        config["alerting"] = {
            "alertmanagers": [
                {"api_version": "v2", "static_configs": [{"targets": [alertmanager]}]}
            ]
        }
    return _write_yaml(workdir / "prometheus.yml", config)


@asynccontextmanager
async def running_prometheus(
    workdir: Path,
    targets: Sequence[str],
    *,
    rules: Mapping[str, Any] | None = None,
    alertmanager: str | None = None,
) -> AsyncIterator[Prometheus]:
    """Prometheus scraping `targets` (host:port) every second as job `exporter`; `rules` is
    a rule file's data ({"groups": [...]}), `alertmanager` a host:port to send alerts to."""
    binary = binary_or_skip(PROMETHEUS)
    config_file = _prometheus_config(workdir, targets, rules, alertmanager)
    server = ServerProcess("prometheus", workdir)
    await server.start(
        lambda port: [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
    )
    try:
        yield Prometheus(server)
    finally:
        await server.stop()


@dataclass
class Alertmanager:
    server: ServerProcess

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    async def post(self, path: str, body: Any) -> Any:
        """POST JSON to its API (create a silence, push an alert) and return its answer."""
        return await self._call("POST", path, body)

    async def delete(self, path: str) -> Any:
        """DELETE through its API (expire a silence: /api/v2/silence/<id>)."""
        return await self._call("DELETE", path, None)

    async def _call(self, method: str, path: str, body: Any) -> Any:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"{self.url}{path}", json=body) as response,
        ):
            text = await response.text()
            if response.status >= 300:
                raise AssertionError(f"{method} {path}: HTTP {response.status}: {text}")
            return json.loads(text) if text.strip() else None


def _alertmanager_config(workdir: Path, webhook_url: str, token: str | None = None) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
    if token is not None:
        webhook["http_config"] = {"authorization": {"credentials": token}}
    config = {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "webhook", "webhook_configs": [webhook]}],
    }
    return _write_yaml(workdir / "alertmanager.yml", config)


@asynccontextmanager
async def running_alertmanager(
    workdir: Path, webhook_url: str, *, token: str | None = None
) -> AsyncIterator[Alertmanager]:
    """Alertmanager sending every alert group to `webhook_url` (resolved ones too), after
    a second of grouping, with clustering off."""
    binary = binary_or_skip(ALERTMANAGER)
    config_file = _alertmanager_config(workdir, webhook_url, token)
    server = ServerProcess("alertmanager", workdir)
    await server.start(
        lambda port: [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
    )
    try:
        yield Alertmanager(server)
    finally:
        await server.stop()
