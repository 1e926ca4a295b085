# ruff: noqa: E501
"""Healthy periods: errors of the everyday kind, and nothing that started at the time asked
about. (The window's middle stands in for the incident start in `At` times.)"""

from __future__ import annotations

from dataclasses import replace

from tests.scenarios import banners
from tests.scenarios.catalog.shared import EVERYONE
from tests.scenarios.evidence import (
    grafana_csv,
    jaeger,
    k8s_events,
    logfmt,
    logstash,
    manifests,
    nginx,
    pino,
    spring,
    zap,
)
from tests.scenarios.k8s import Deployment
from tests.scenarios.lines import k8s_event
from tests.scenarios.metrics import MIB, at_edge, exact, measured, served
from tests.scenarios.sim import PROVIDER, Replica, lognormal, pod_hash
from tests.scenarios.spec import Answer, Breaks, Release, Scenario, Traffic
from tests.scenarios.stage import START, At, Rise, Stage, Switch

# -- healthy-evening-peak -------------------------------------------------------------------


def gateway_scales_out(stage: Stage) -> None:
    """The HPA adds a third api-gateway pod six minutes before the middle of the window."""
    rng, sim = stage.rng, stage.sim
    template = stage.pods["api-gateway"][0].split("-")[2]
    extra = f"api-gateway-{template}-{pod_hash(rng, 5)}"
    scaled = At(-360)(stage)
    k8s_event(
        sim,
        scaled,
        "SuccessfulRescale",
        "horizontalpodautoscaler/api-gateway",
        "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        source="horizontal-pod-autoscaler",
    )
    ready = stage.marks["scaled"] = banners.start_up(
        sim, "api-gateway", extra, scaled + 6, "1.19.3"
    )
    sim.replicas["api-gateway"].append(Replica(extra, ready, version="1.19.3"))


HEALTHY_EVENING_PEAK = Scenario(
    name="healthy-evening-peak",
    when="2026-11-10 19:40:00",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="Evening peak, nothing wrong",
        question="Support says a few customers complained checkout felt slow around 19:40 UTC. Is anything actually wrong?",
        kind="healthy",
        forbidden=EVERYONE,
        notes="traffic rises 35% and the gateway scales out; p99 stays in its usual range and "
        "the only errors (mail relay, TLS handshake EOFs, one checkout timeout) happen all day",
    ),
    traffic=Traffic(
        rates={
            "product": 0.04,
            "static": 0.02,
            "cart_view": 0.025,
            "cart_add": 0.02,
            "checkout": 0.04,
        },
        surge=Rise(1, 0.35, START, At(1800, "start")),  # +35% over the first half hour
        gateway_info_every=2,
    ),
    story=(
        gateway_scales_out,
        # One slow cart call times a single checkout out: the kind of error that is always there.
        Breaks("cart", "slow", caller="checkout", start=At(180), end=At(200), latency_ms=2400),
    ),
    everyday=("api-gateway", "checkout"),
    metrics=(
        ("ingress requests/s", at_edge("rps")),
        ("ingress 5xx/s", at_edge("5xx_rps")),
        ("checkout p99 (ms)", served("checkout", "p99")),
        ("checkout cpu (%)", measured(Rise(31, 12, START, At(1800, "start")), 0.08, digits=1)),
        ("api-gateway replicas", exact(Switch(2.0, 3.0, At(0, "scaled")))),
    ),
    evidence={
        "access.log": nginx(60),
        "gateway.log": logfmt("api-gateway"),
        "checkout.log": spring("checkout", 60),
        "grafana.csv": grafana_csv(),
    },
)

# -- healthy-benign-errors ------------------------------------------------------------------

HEALTHY_BENIGN_ERRORS = Scenario(
    name="healthy-benign-errors",
    when="2026-10-23 09:12:00",
    baseline_min=35,
    after_min=12,
    answer=Answer(
        title="A decline-ratio alert on a normal morning",
        question="PagerDuty fired 'payments error ratio > 1%' at 09:12 UTC. Is payments broken?",
        kind="healthy",
        forbidden=(*EVERYONE, PROVIDER, "payments-db"),
        notes="declines are answers (402), not failures; webhook signature errors, analytics "
        "ECONNRESETs and readiness blips are in the baseline at the same rate",
    ),
    traffic=Traffic(rates={"checkout": 0.06, "cart_view": 0.04, "cart_add": 0.03}),
    story=(
        # A handful of declines in a few minutes (pay day is tomorrow) trips the ratio alert.
        Breaks(
            PROVIDER,
            "status",
            caller="payments",
            start=At(-180),
            end=At(60),
            prob=0.3,
            status=402,
            message='{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds"}}',
            latency_ms=lambda r, t: lognormal(r, 160.0),
        ),
    ),
    cluster_noise=True,
    everyday=("payments", "cart"),
    evidence={
        "payments.jsonl": logstash("payments"),
        "cart.jsonl": pino("cart"),
        "jaeger-export.json": jaeger(20),
        "events.txt": k8s_events(),
    },
)

# -- healthy-after-deploy -------------------------------------------------------------------

INVENTORY_ENV = (("DB_HOST", "inventory-db"), ("DB_MAX_CONNS", "20"), ("AVAIL_CACHE", "enabled"))
INVENTORY_V1 = Deployment("inventory", "3.8.2", env=INVENTORY_ENV, memory="384Mi", cpu="250m")
INVENTORY_V2 = replace(
    INVENTORY_V1,
    version="3.8.3",
    memory="512Mi",
    annotations={"deployment.kubernetes.io/revision": "2"},
)


def inventory_memory(stage: Stage) -> list[float]:
    """The memory of inventory's running pods, summed: old pods use a little more."""
    sim, rng, old = stage.sim, stage.rng, stage.old
    pods = {r.pod: r for r in sim.replicas["inventory"]}
    total = []
    for t in stage.times:
        live = [p for p in (*old, *stage.new) if pods[p].start <= t < pods[p].end]
        total.append(
            sum(
                rng.uniform(170, 190) * MIB if p in old else rng.uniform(150, 185) * MIB
                for p in live
            )
        )
    return [float(round(m)) for m in total]


HEALTHY_AFTER_DEPLOY = Scenario(
    name="healthy-after-deploy",
    when="2026-11-05 11:20:30",
    baseline_min=25,
    after_min=20,
    answer=Answer(
        title="A routine inventory release, nothing broken",
        question="We rolled out inventory 3.8.3 at 11:20 UTC and someone posted an error in the channel. Did the release break anything?",
        kind="healthy",
        forbidden=(*EVERYONE, "inventory-db"),
        notes="the release is visible everywhere (events, restarts in the log, a manifest diff) "
        "but error rate and latency do not move; the price-feed error is in the baseline too",
    ),
    traffic=Traffic(rates={"product": 0.06, "cart_add": 0.04}),
    release=Release("inventory", "3.8.2", "3.8.3", at=0),
    cluster_noise=True,
    everyday=("inventory",),
    metrics=(
        ("inventory requests/s", served("inventory", "rps", 3)),
        ("inventory 5xx %", served("inventory", "err_pct")),
        ("inventory p99 ms", served("inventory", "p99")),
        ("inventory memory (sum of pods)", inventory_memory),
        ("inventory restarts", exact(0.0)),
    ),
    evidence={
        "deploy-v1.yaml": manifests(INVENTORY_V1),
        "deploy-v2.yaml": manifests(INVENTORY_V2),
        "events.txt": k8s_events(),
        "inventory.log": zap("inventory"),
        "metrics.csv": grafana_csv("space"),
    },
)

SCENARIOS = (HEALTHY_EVENING_PEAK, HEALTHY_BENIGN_ERRORS, HEALTHY_AFTER_DEPLOY)
