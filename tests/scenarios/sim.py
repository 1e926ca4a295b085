"""A small traffic simulator for the scenario generator: one shop, many requests, faults.

Requests enter at the edge (ingress-nginx), go through api-gateway to the services and their
dependencies. Every call becomes a span; every service writes log events the way its
language and framework would (Go, Java, Node, Python). Faults change how a callee answers
from a given time on, so the failing component's own errors start at the incident and its
callers show the secondary errors (timeouts, "upstream returned 503") that follow from it.

Times are epoch seconds (floats, UTC). Everything random comes from one seeded
`random.Random`, and nothing iterates over sets, so a scenario is the same bytes every run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Prob = float | Callable[[float], float]
Text = str | Callable[[random.Random, float], str]
Millis = float | Callable[[random.Random, float], float]

NAMESPACE = "shop"
CLUSTER_IPS = {
    "api-gateway": "10.96.18.40",
    "checkout": "10.96.33.112",
    "cart": "10.96.47.9",
    "inventory": "10.96.52.201",
    "payments": "10.96.61.77",
    "recommendations": "10.96.70.14",
    "frontend": "10.96.12.3",
    "cart-cache": "10.96.112.40",
    "payments-db": "10.40.8.21",
    "inventory-db": "10.96.91.6",
}
PORTS = {"cart-cache": 6379, "payments-db": 5432, "inventory-db": 5432}
PROVIDER = "api.paystream.io"
PROVIDER_IP = "52.28.190.17"
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_POD_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def service_url(service: str) -> str:
    return f"http://{service}.{NAMESPACE}.svc.cluster.local:8080"


def service_addr(service: str) -> str:
    return f"{CLUSTER_IPS.get(service, '10.96.0.99')}:{PORTS.get(service, 8080)}"


def pod_hash(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_POD_CHARS) for _ in range(n))


def pod_name(rng: random.Random, deployment: str, template: str | None = None) -> str:
    """deployment-<replicaset hash>-<suffix>, the way a Deployment names its pods."""
    return f"{deployment}-{template or pod_hash(rng, 10)}-{pod_hash(rng, 5)}"


def lognormal(rng: random.Random, median: float, sigma: float = 0.35) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def pick(value: Text, rng: random.Random, t: float) -> str:
    return value(rng, t) if callable(value) else value


def millis(value: Millis, rng: random.Random, t: float) -> float:
    return value(rng, t) if callable(value) else value


def chance(value: Prob, t: float) -> float:
    return value(t) if callable(value) else value


def ramp(
    start: float, full: float, top: float = 1.0, floor: float = 0.0
) -> Callable[[float], float]:
    """0 before `start`, rising linearly to `top` at `full`, then flat."""

    def prob(t: float) -> float:
        if t < start:
            return floor
        if t >= full:
            return top
        return floor + (top - floor) * (t - start) / (full - start)

    return prob


def windows(spans: list[tuple[float, float]], inside: float = 1.0) -> Callable[[float], float]:
    """`inside` while t is in one of the [start, end) windows, else 0."""

    def prob(t: float) -> float:
        return inside if any(a <= t < b for a, b in spans) else 0.0

    return prob


@dataclass
class LogEvent:
    t: float
    service: str
    level: str  # DEBUG INFO WARN ERROR FATAL
    msg: str
    pod: str = ""
    logger: str = ""
    thread: str = ""
    fields: dict[str, object] = field(default_factory=dict)
    stack: tuple[str, ...] = ()
    seq: int = 0


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    start: float
    dur_ms: float = 0.0
    kind: str = "server"
    peer: str | None = None
    status: int | None = None
    error: str | None = None
    attrs: dict[str, str | int] = field(default_factory=dict)
    body: str | None = None  # the response body of a 4xx answer, for the caller's message


@dataclass
class Outcome:
    """What a caller sees of one call."""

    ok: bool
    dur_ms: float
    status: int | None = None
    failure: str | None = None  # status | timeout | refused | client | error
    message: str = ""


@dataclass
class Fault:
    """From `start` to `end`, calls to `target` (from `caller`, for operations containing
    `op`) go wrong with probability `prob`. Modes:

    refused  the connection is refused (pod down, no endpoints); nothing reaches the target
    client   the caller fails before reaching the target (DNS, TLS, its own pool)
    error    the target answers with an error after `latency_ms`
    status   the target answers with HTTP `status` (external APIs: 429, 503...)
    slow     the target takes `latency_ms` longer; callers time out past their deadline
    crash    (own) the service's handler fails with `message` (and `stack`), status `status`
    """

    target: str
    mode: str
    start: float
    end: float = math.inf
    caller: str | None = None
    op: str | None = None
    prob: Prob = 1.0
    message: Text = ""
    status: int = 500
    latency_ms: Millis = 1.0
    stack: tuple[str, ...] = ()
    on_hit: Callable[[Sim, float, str], None] | None = None
    pod_version: str | None = None  # crash faults: only pods running this version

    def matches(self, caller: str | None, target: str, op: str, t: float) -> bool:
        return (
            target == self.target
            and self.start <= t < self.end
            and (self.caller is None or self.caller == caller)
            and (self.op is None or self.op in op)
        )


@dataclass
class Replica:
    pod: str
    start: float
    end: float = math.inf
    version: str = ""


@dataclass(frozen=True)
class Crash:
    """A request that a crash fault broke: the status it gets, when, and the error."""

    status: int
    stack: tuple[str, ...]
    end: float
    message: str


@dataclass
class Handling:
    """One request inside one service: its server span, the pod that serves it, and what
    every log line about it carries (logger, thread, fields before and after the line's own)."""

    sim: Sim
    trace: Trace
    span: Span
    pod: str
    caller: str | None
    method: str
    path: str
    route: str
    logger: str = ""
    thread: str = ""
    lead: dict[str, object] = field(default_factory=dict)
    tail: dict[str, object] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.span.service

    @property
    def t(self) -> float:
        return self.span.start

    @property
    def op(self) -> str:
        return self.span.name

    def arrive(self, median_ms: float, *, slowed: bool = True) -> float:
        """When the handler starts working: its own overhead plus any slowdown fault."""
        sim = self.sim
        cur = self.t + lognormal(sim.rng, median_ms) / 1000
        if slowed:
            cur += sim.slowdown(self.caller, self.service, self.op, self.t) / 1000
        return cur

    def depend(
        self, target: str, op: str, cur: float, median_ms: float, attrs: dict[str, str | int]
    ) -> tuple[Outcome, float]:
        """A call at `cur` to something untraced (a database, cache, broker or external API):
        what came back, and when."""
        out = self.sim.dependency(self.trace, self.span, target, op, cur, median_ms, attrs)
        return out, cur + out.dur_ms / 1000

    def crash(self, cur: float, median_ms: float, pause: float = 0.0) -> Crash | None:
        """A crash fault in the service's own code, if one hits this request."""
        sim = self.sim
        fault = sim.own_fault(self.service, self.op, self.t, self.pod)
        if fault is None:
            return None
        end = cur + lognormal(sim.rng, median_ms) / 1000 + pause
        return Crash(fault.status, fault.stack, end, sim.crash_text(fault, self.t))

    def log(
        self,
        t: float,
        level: str,
        msg: str,
        *,
        logger: str = "",
        stack: tuple[str, ...] = (),
        tail: bool = True,
        **fields: object,
    ) -> None:
        """A line of the service about this request: its own fields between `lead` and
        `tail` (without the tail if `tail` is False)."""
        own = self.lead | fields | (self.tail if tail else {})
        self.sim.log(
            self.service,
            t,
            level,
            msg,
            pod=self.pod,
            logger=logger or self.logger,
            thread=self.thread,
            stack=stack,
            **own,
        )

    def finish(self, end: float, status: int, error: str | None = None) -> Span:
        return self.sim.finish(self.span, end, status, error)


class Trace:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.id = f"{sim.rng.getrandbits(128):032x}"
        self.spans: list[Span] = []

    def span(self, parent: Span | None, service: str, name: str, start: float) -> Span:
        span_id = f"{self.sim.rng.getrandbits(64):016x}"
        span = Span(self.id, span_id, parent.span_id if parent else None, service, name, start)
        self.spans.append(span)
        return span


FLOWS = ("static", "product", "cart_view", "cart_add", "checkout", "recs")
DEFAULT_RATES = {
    "static": 0.03,
    "product": 0.07,
    "cart_view": 0.035,
    "cart_add": 0.03,
    "checkout": 0.06,
    "recs": 0.0,
}


class Sim:
    def __init__(
        self,
        rng: random.Random,
        start: float,
        end: float,
        *,
        rates: dict[str, float] | None = None,
        surge: Callable[[float], float] | None = None,
    ) -> None:
        self.rng = rng
        self.start, self.end = start, end
        self.rates = DEFAULT_RATES | (rates or {})
        self.surge = surge or (lambda t: 1.0)
        self.faults: list[Fault] = []
        self.logs: dict[str, list[LogEvent]] = {}
        self.traces: list[Trace] = []
        self.access: list[dict[str, Any]] = []  # ingress-nginx lines
        self.replicas: dict[str, list[Replica]] = {}
        self._seq = 0
        self.gateway_info_every = 1  # log 1 in N successful requests at INFO
        self.timeouts = {
            ("api-gateway", "*"): 10_000.0,
            ("checkout", "cart"): 2_000.0,
            ("checkout", "inventory"): 3_000.0,
            ("checkout", "payments"): 5_000.0,
            ("checkout", "kafka"): 5_000.0,
            ("cart", "inventory"): 1_500.0,
            ("cart", "cart-cache"): 1_000.0,
            ("payments", PROVIDER): 10_000.0,
            ("payments", "payments-db"): 30_000.0,
            ("inventory", "inventory-db"): 30_000.0,
            ("recommendations", "feature-store"): 800.0,
        }
        self.order_seq = rng.randint(4_100_000, 4_900_000)
        self.settings: dict[tuple[str, str], dict[str, str]] = {}
        self.setup()

    def setup(self) -> None:
        """Where a subclass draws its own fixtures (customers, products), after ours."""

    # -- topology ---------------------------------------------------------------------

    def deploy(self, service: str, count: int, version: str, at: float | None = None) -> list[str]:
        """`count` pods of one ReplicaSet, running from `at` (default: before the window)."""
        template = pod_hash(self.rng, 10)
        since = self.start - 86_400 if at is None else at
        pods = [pod_name(self.rng, service, template) for _ in range(count)]
        self.replicas.setdefault(service, []).extend(
            Replica(p, since, version=version) for p in pods
        )
        return pods

    def retire(self, pod: str, at: float) -> None:
        for replicas in self.replicas.values():
            for r in replicas:
                if r.pod == pod:
                    r.end = at

    def pods(self, service: str, t: float) -> list[Replica]:
        return [r for r in self.replicas.get(service, []) if r.start <= t < r.end]

    def pod(self, service: str, t: float) -> str:
        live = self.pods(service, t) or self.replicas.get(service, [])
        return self.rng.choice(live).pod if live else service

    def version(self, service: str, pod: str) -> str:
        return next((r.version for r in self.replicas.get(service, []) if r.pod == pod), "")

    def setting(self, service: str, pod: str, key: str, default: str) -> str:
        """A setting of the version `pod` runs (what its manifest or config map says)."""
        return self.settings.get((service, self.version(service, pod)), {}).get(key, default)

    def timeout_ms(self, caller: str, callee: str) -> float:
        return self.timeouts.get((caller, callee)) or self.timeouts.get((caller, "*"), 10_000.0)

    # -- logging ----------------------------------------------------------------------

    def log(
        self,
        service: str,
        t: float,
        level: str,
        msg: str,
        *,
        pod: str | None = None,
        logger: str = "",
        thread: str = "",
        stack: tuple[str, ...] = (),
        **fields: object,
    ) -> LogEvent:
        self._seq += 1
        event = LogEvent(
            t,
            service,
            level,
            msg,
            pod or self.pod(service, t),
            logger,
            thread,
            fields,
            stack,
            self._seq,
        )
        self.logs.setdefault(service, []).append(event)
        return event

    def events(self, service: str) -> list[LogEvent]:
        return sorted(self.logs.get(service, []), key=lambda e: (e.t, e.seq))

    # -- faults -----------------------------------------------------------------------

    def fault(
        self, caller: str | None, target: str, op: str, t: float, modes: tuple[str, ...]
    ) -> Fault | None:
        for f in self.faults:
            matched = f.mode in modes and f.matches(caller, target, op, t)
            if matched and self.rng.random() < chance(f.prob, t):
                return f
        return None

    def slowdown(self, caller: str | None, target: str, op: str, t: float) -> float:
        extra = 0.0
        for f in self.faults:
            matched = f.mode == "slow" and f.matches(caller, target, op, t)
            if matched and self.rng.random() < chance(f.prob, t):
                extra += millis(f.latency_ms, self.rng, t)
                if f.on_hit:
                    f.on_hit(self, t, op)
        return extra

    # -- calls ------------------------------------------------------------------------

    def dependency(
        self,
        trace: Trace,
        parent: Span,
        target: str,
        op: str,
        t: float,
        median_ms: float,
        attrs: dict[str, str | int] | None = None,
    ) -> Outcome:
        """A call to something we do not trace inside (database, cache, broker, external
        API): one client span in the caller, `peer.service` naming the target."""
        span = trace.span(parent, parent.service, op, t)
        span.kind, span.peer = "client", target
        span.attrs.update(attrs or {})
        timeout = self.timeout_ms(parent.service, target)
        failed = self.fault(parent.service, target, op, t, ("refused", "client", "error", "status"))
        if failed is not None:
            dur = millis(failed.latency_ms, self.rng, t)
            if failed.mode == "refused":
                dur = lognormal(self.rng, 1.2, 0.3)
            message = pick(failed.message, self.rng, t)
            if failed.on_hit:
                failed.on_hit(self, t, op)
            if dur > timeout:
                dur, message, kind = timeout, "", "timeout"
            else:
                kind = "status" if failed.mode == "status" else failed.mode
            span.dur_ms = dur
            span.error = message or "timeout"
            if failed.mode == "status":
                span.status = failed.status
                span.attrs["http.status_code"] = failed.status
            return Outcome(False, dur, failed.status if kind == "status" else None, kind, message)
        dur = lognormal(self.rng, median_ms) + self.slowdown(parent.service, target, op, t)
        if dur > timeout:
            span.dur_ms, span.error = timeout, "timeout"
            return Outcome(False, timeout, None, "timeout", "")
        span.dur_ms = dur
        if "http.method" in span.attrs:
            span.attrs["http.status_code"] = 200
        return Outcome(True, dur, 200)

    def http(
        self,
        trace: Trace,
        parent: Span,
        callee: str,
        method: str,
        path: str,
        route: str,
        t: float,
        **kw: object,
    ) -> Outcome:
        """An HTTP call between two of our services; the callee's handler runs."""
        timeout = self.timeout_ms(parent.service, callee)
        op = f"{method} {route}"
        failed = self.fault(parent.service, callee, op, t, ("refused", "client"))
        if failed is not None:
            dur = (
                lognormal(self.rng, 1.5, 0.3)
                if failed.mode == "refused"
                else millis(failed.latency_ms, self.rng, t)
            )
            if failed.on_hit:
                failed.on_hit(self, t, op)
            return Outcome(False, dur, None, failed.mode, pick(failed.message, self.rng, t))
        handler = getattr(self, "h_" + callee.replace("-", "_"))
        handling = self.handle(trace, parent, callee, method, path, route, t + 0.0004)
        server: Span = handler(handling, **kw)
        if server.dur_ms + 0.8 > timeout:
            return Outcome(False, timeout, None, "timeout", "")
        status = server.status or 200
        ok = status < 400
        message = server.error or server.body or ""
        return Outcome(ok, server.dur_ms + 0.8, status, None if ok else "status", message)

    def handle(
        self,
        trace: Trace,
        parent: Span | None,
        service: str,
        method: str,
        path: str,
        route: str,
        t: float,
    ) -> Handling:
        """`service` starts handling a request: its server span, and the pod that serves it."""
        span = trace.span(parent, service, f"{method} {route}", t)
        span.attrs["http.method"] = method
        pod = self.pod(service, t)
        caller = parent.service if parent else None
        return Handling(self, trace, span, pod, caller, method, path, route)

    def own_fault(self, service: str, op: str, t: float, pod: str) -> Fault | None:
        """A fault in the service's own handler, on pods of the faulty version only."""
        version = self.version(service, pod)
        for f in self.faults:
            if f.mode != "crash" or not f.matches(None, service, op, t):
                continue
            if f.pod_version is not None and f.pod_version != version:
                continue
            if self.rng.random() < chance(f.prob, t):
                if f.on_hit:
                    f.on_hit(self, t, op)
                return f
        return None

    def crash_text(self, fault: Fault, t: float) -> str:
        return pick(fault.message, self.rng, t)

    def finish(self, span: Span, t_end: float, status: int, error: str | None = None) -> Span:
        span.dur_ms = max(0.3, (t_end - span.start) * 1000)
        span.status = status
        span.attrs["http.status_code"] = status
        if status >= 500:
            span.error = error or REASONS.get(status, "error")
        elif error:
            span.body = error
        return span

    # -- traffic ----------------------------------------------------------------------

    def run(self) -> None:
        arrivals: list[tuple[float, str]] = []
        for flow in FLOWS:
            rate = self.rates.get(flow, 0.0)
            if rate <= 0:
                continue
            t = self.start + self.rng.expovariate(rate)
            while t < self.end:
                arrivals.append((t, flow))
                wobble = 1.0 + 0.2 * math.sin((t - self.start) / 420.0 + len(flow))
                t += self.rng.expovariate(rate * wobble * self.surge(t))
        arrivals.sort()
        for t, flow in arrivals:
            self.edge(t, flow)

    def edge(self, t: float, flow: str) -> None:
        raise NotImplementedError  # the shop (shop.py) routes requests


def to_outcome_status(out: Outcome) -> int:
    """The status a caller passes on for a failed call."""
    if out.failure == "timeout":
        return 504
    if out.failure in ("refused", "client"):
        return 502 if out.failure == "client" else 503
    return out.status or 500
