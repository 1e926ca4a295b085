# ruff: noqa: E501
"""Bad releases: code that fails on some input, a probe that kills healthy pods, a setting
that another service rejects."""

from __future__ import annotations

from dataclasses import replace

from tests.scenarios import banners
from tests.scenarios.evidence import (
    k8s_events,
    logfmt,
    logstash,
    manifests,
    nginx,
    otlp,
    pino,
    spring,
)
from tests.scenarios.k8s import Deployment, backing_off, restarted
from tests.scenarios.lines import Line, k8s_event
from tests.scenarios.sim import PROVIDER, Fault
from tests.scenarios.spec import NEW_PODS, Answer, Breaks, Release, Scenario, Traffic
from tests.scenarios.stage import START, Stage
from tests.scenarios.timeline import crash_cycles, down_count

# -- cart-bad-release-5xx -------------------------------------------------------------------

NODE_STACK = (
    "    at decodeItem (/app/dist/cart/codec.js:41:11)",
    "    at Array.map (<anonymous>)",
    "    at CartRepository.load (/app/dist/cart/repository.js:88:27)",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
)

CART_BAD_RELEASE = Scenario(
    name="cart-bad-release-5xx",
    when="2026-11-17 15:30:20",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="cart 4.3.0 answers 500 for carts holding items of the old schema",
        question="Lots of 500s on the cart page since ~15:30 UTC. Is the gateway broken again?",
        component="cart",
        signature="http-5xx",
        acceptable=("cart", NEW_PODS, "cart:4.3.0"),
        forbidden=("api-gateway", "ingress-nginx", "checkout", "cart-cache"),
        notes="the 500s ramp up as the rolling update replaces pods; the gateway and ingress only "
        "relay them; checkout fails too because it reads the cart",
    ),
    traffic=Traffic(
        rates={
            "product": 0.03,
            "static": 0.02,
            "cart_view": 0.05,
            "cart_add": 0.035,
            "checkout": 0.04,
        },
        gateway_info_every=2,
    ),
    release=Release("cart", "4.2.7", "4.3.0", at=-12, replicas=3, gap=40, starts_incident=True),
    story=(
        Breaks(
            "cart",
            "crash",
            op="/v1/carts/",
            start=START,
            prob=0.7,
            pod_version="4.3.0",
            message="unsupported cart item schema v3",
            stack=NODE_STACK,
        ),
    ),
    cluster_noise=True,
    everyday=("cart", "api-gateway"),
    evidence={
        "access.log": nginx(),
        "gateway.log": logfmt("api-gateway"),
        "app.jsonl": pino("cart"),
        "events.txt": k8s_events(),
    },
)

# -- cart-crashloop-probe -------------------------------------------------------------------

CART_POD_UID = "0b6e2f41-9d3c-4a7e-8f15-3c2a9d7e1b04"
PROBE_404 = Line(  # pino-http's line for a liveness probe on a path the app does not serve
    "WARN",
    "request completed",
    fields={
        "req": lambda r: {
            "id": f"{r.getrandbits(48):012x}",
            "method": "GET",
            "url": "/healthz/live",
        },
        "res": {"statusCode": 404},
        "responseTime": lambda r: round(r.uniform(0.2, 0.9), 2),
    },
    after=-0.2,
)
CART_ENV = (
    ("PORT", "8080"),
    ("REDIS_URL", "redis://cart-cache:6379/0"),
    ("INVENTORY_URL", "http://inventory.shop.svc.cluster.local:8080"),
    ("LOG_LEVEL", "info"),
)
CART_V1 = Deployment("cart", "4.2.7", env=CART_ENV, memory="256Mi", cpu="200m")
CART_V2 = replace(
    CART_V1,
    version="4.3.0",
    env=(*CART_ENV, ("FEATURE_SAVED_CARTS", "true")),
    liveness="/healthz/live",
    annotations={"deployment.kubernetes.io/revision": "2"},
)


def killed_by_probe(stage: Stage) -> None:
    """The new pods' liveness probe gets 404 three times (5 s apart, after 10 s initial
    delay), kubelet kills the container, restarts it with a growing back-off, and so on.
    The incident starts with the first kill."""
    rng, sim, win = stage.rng, stage.sim, stage.win
    cycles = []
    for pod in stage.new:
        born = next(r.start for r in sim.replicas["cart"] if r.pod == pod) - 2
        first = born + 10 + 15 + rng.uniform(0.2, 4)
        cycles.append(
            crash_cycles(
                rng, first, win.end + 60, lambda r, n: 25 + r.uniform(0.2, 4), boot=(1.8, 3.2)
            )
        )
    win.incident = round(min(c[0][0] for c in cycles))

    def refused(t: float) -> float:  # the service has endpoints while one pod is up
        down = down_count(cycles, t)
        return 1.0 if down == len(cycles) else 0.12 * down

    sim.faults.append(Fault("cart", "refused", win.incident, prob=refused))
    for pod, pod_cycles in zip(stage.new, cycles, strict=True):
        for down, up, n in pod_cycles:
            for k, probe in enumerate((down - 10, down - 5, down)):
                PROBE_404.write(sim, "cart", probe, pod=pod)
                k8s_event(
                    sim,
                    probe,
                    "Unhealthy",
                    f"pod/{pod}",
                    "Liveness probe failed: HTTP probe failed with statuscode: 404",
                    warning=True,
                    count=3 * (n - 1) + k + 1,
                )
            killing = "Container cart failed liveness probe, will be restarted"
            k8s_event(sim, down + 0.1, "Killing", f"pod/{pod}", killing, count=n)
            banners.shut_down(sim, "cart", pod, down + 0.2)
            if n > 1:
                backing_off(sim, "cart", pod, CART_POD_UID, down + 1, 2 * n - 2)
            if up < win.end:
                restarted(sim, "cart", pod, "4.3.0", up, n + 1, (1.5, 1.4, 1.3, 1.2))


CART_CRASHLOOP_PROBE = Scenario(
    name="cart-crashloop-probe",
    when="2026-09-17 19:26:02",
    baseline_min=26,
    after_min=18,
    answer=Answer(
        title="cart 4.3.0's liveness probe points at a path the app does not serve",
        question="Cart keeps flapping since the 19:25 UTC deploy, pods restart constantly. Why?",
        component="cart",
        signature="crash-loop",
        acceptable=("cart", NEW_PODS, "livenessProbe", "/healthz/live"),
        forbidden=("api-gateway", "cart-cache", "checkout", "ingress-nginx"),
        forbidden_signatures=("oom",),
        notes="the app never crashes by itself: it logs a clean SIGTERM shutdown each cycle; the "
        "404s on /healthz/live and the probe path changed in the manifest diff explain the restarts",
    ),
    traffic=Traffic(
        rates={"cart_view": 0.045, "cart_add": 0.035, "product": 0.04}, gateway_info_every=2
    ),
    release=Release("cart", "4.2.7", "4.3.0", at=-27, gap=4),
    story=(killed_by_probe,),
    cluster_noise=True,
    everyday=("cart", "api-gateway"),
    evidence={
        "events.txt": k8s_events(),
        "pods.jsonl": pino("cart"),
        "gateway.log": logfmt("api-gateway"),
        "deploy-v1.yaml": manifests(CART_V1),
        "deploy-v2.yaml": manifests(CART_V2),
    },
)

# -- checkout-npe-release -------------------------------------------------------------------

NPE = (
    'java.lang.NullPointerException: Cannot invoke "com.shopfast.checkout.model.Address.getCountryCode()" '
    'because the return value of "com.shopfast.checkout.model.Order.getShippingAddress()" is null'
)
NPE_STACK = (
    NPE,
    "\tat com.shopfast.checkout.tax.TaxCalculator.rateFor(TaxCalculator.java:58)",
    "\tat com.shopfast.checkout.service.CheckoutService.placeOrder(CheckoutService.java:131)",
    "\tat com.shopfast.checkout.web.CheckoutController.checkout(CheckoutController.java:44)",
    "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
)

CHECKOUT_NPE_RELEASE = Scenario(
    name="checkout-npe-release",
    when="2026-09-08 13:12:09",
    baseline_min=30,
    after_min=14,
    answer=Answer(
        title="checkout 2.31.0 throws a NullPointerException for orders without a shipping address",
        question="About a third of checkouts fail with 500 since ~13:12 UTC. What's going on?",
        component="checkout",
        signature="null-deref",
        acceptable=("checkout", NEW_PODS, "TaxCalculator"),
        forbidden=("api-gateway", "payments", "inventory", "cart", "ingress-nginx"),
        notes="no dependency fails: traces show checkout's own span erroring with healthy children "
        "or none; only orders without a shipping address (digital goods) hit it",
    ),
    traffic=Traffic(
        rates={
            "product": 0.035,
            "static": 0.02,
            "cart_view": 0.025,
            "cart_add": 0.02,
            "checkout": 0.06,
        },
        gateway_info_every=3,
    ),
    release=Release("checkout", "2.30.4", "2.31.0", at=-15, starts_incident=True),
    story=(
        Breaks(
            "checkout",
            "crash",
            op="POST /v1/checkout",
            start=START,
            prob=0.32,
            pod_version="2.31.0",
            message=NPE,
            stack=NPE_STACK,
        ),
    ),
    everyday=("checkout", "api-gateway"),
    evidence={
        "app.log": spring("checkout", 120),
        "gateway.log": logfmt("api-gateway"),
        "ingress.log": nginx(120),
        "otel-export.json": otlp(20),
    },
)

# -- checkout-currency-config ---------------------------------------------------------------

CHECKOUT_ENV = (
    ("SPRING_PROFILES_ACTIVE", "prod"),
    ("CART_URL", "http://cart.shop.svc.cluster.local:8080"),
    ("INVENTORY_URL", "http://inventory.shop.svc.cluster.local:8080"),
    ("PAYMENTS_URL", "http://payments.shop.svc.cluster.local:8080"),
    (
        "KAFKA_BOOTSTRAP_SERVERS",
        "kafka-0.kafka-headless.messaging:9092,kafka-1.kafka-headless.messaging:9092,kafka-2.kafka-headless.messaging:9092",
    ),
    ("CHECKOUT_CURRENCY", "EUR"),
    ("CHECKOUT_TAX_REGION", "DE"),
    ("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75"),
)
CHECKOUT_V1 = Deployment(
    "checkout",
    "2.30.4",
    env=CHECKOUT_ENV,
    secret_env=(("SPRING_DATASOURCE_PASSWORD", "checkout-db", "password"),),
    memory="1Gi",
    annotations={"kubernetes.io/change-cause": "release 2.30.4"},
)
CHECKOUT_V2 = replace(
    CHECKOUT_V1,
    version="2.30.5",
    env=tuple((k, "EURO" if k == "CHECKOUT_CURRENCY" else v) for k, v in CHECKOUT_ENV),
    annotations={"kubernetes.io/change-cause": "release 2.30.5: receipt footer, currency from env"},
)


def currency_misspelled(stage: Stage) -> None:
    """Pods of 2.30.5 read CHECKOUT_CURRENCY=EURO (and say so when they start)."""
    sim = stage.sim
    sim.settings[("checkout", "2.30.5")] = {"currency": "EURO"}
    for r in sim.replicas["checkout"]:
        if r.version == "2.30.5":
            sim.log(
                "checkout",
                r.start - 2.2,
                "INFO",
                "Checkout settings: currency=EURO, tax-region=DE, payments-timeout=5s, reservation-ttl=15m",
                pod=r.pod,
                logger="com.shopfast.checkout.config.CheckoutSettings",
                thread="main",
            )


CHECKOUT_CURRENCY_CONFIG = Scenario(
    name="checkout-currency-config",
    when="2026-10-09 10:05:50",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="checkout 2.30.5 is deployed with CHECKOUT_CURRENCY=EURO; payments rejects every charge",
        question="No order has gone through since ~10:06 UTC. payments is logging a lot of rejections, is payments broken?",
        component="checkout",
        signature="config",
        acceptable=("checkout", NEW_PODS, "CHECKOUT_CURRENCY"),
        forbidden=("payments", "api-gateway", PROVIDER, "ingress-nginx"),
        notes="payments logs the 'invalid value' warnings and the question blames it; the wrong "
        "value comes from checkout's manifest (EUR -> EURO) shipped with the release",
    ),
    traffic=Traffic(rates={"product": 0.05, "checkout": 0.05}, gateway_info_every=3),
    release=Release("checkout", "2.30.4", "2.30.5", at=-15, starts_incident=True),
    story=(currency_misspelled,),
    everyday=("checkout", "payments", "api-gateway"),
    evidence={
        "deploy-v1.yaml": manifests(CHECKOUT_V1),
        "deploy-v2.yaml": manifests(CHECKOUT_V2),
        "app.log": spring("checkout", 120),
        "payments.jsonl": logstash("payments"),
        "gateway.log": logfmt("api-gateway"),
    },
)

SCENARIOS = (CART_BAD_RELEASE, CART_CRASHLOOP_PROBE, CHECKOUT_NPE_RELEASE, CHECKOUT_CURRENCY_CONFIG)
