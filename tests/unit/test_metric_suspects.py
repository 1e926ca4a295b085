"""Metric series as suspects, judged against the incident window people give."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from engine.evidence.analyze import analyze
from engine.evidence.reports import AnyReport
from engine.evidence.suspects.ranking import rank_case_suspects
from engine.investigate.reasoner import investigate_offline

T0 = datetime(2024, 3, 11, 8, 0, tzinfo=UTC)
START = T0 + timedelta(minutes=40)  # when people say the trouble started


def minute_csv(
    columns: list[str], value: Callable[[str, int], float | None], minutes: int = 60
) -> bytes:
    """`time,<columns>` one row a minute from T0; a None value leaves the cell empty, a row
    of them is left out (the pod did not exist yet)."""
    rows = ["time," + ",".join(columns)]
    for m in range(minutes):
        at = (T0 + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")
        cells = [value(c, m) for c in columns]
        if all(v is None for v in cells):
            continue
        rows.append(at + "," + ",".join("" if v is None else f"{v:.3f}" for v in cells))
    return ("\n".join(rows) + "\n").encode()


def noise(seed: int) -> random.Random:
    return random.Random(seed)


def pod_file(pod: str, success: Callable[[int], float | None]) -> AnyReport:
    jitter = noise(len(pod))

    def value(column: str, m: int) -> float | None:
        ok = success(m)
        if ok is None:
            return None
        return ok if column == "SuccessRate" else 20 + jitter.random()

    return analyze(f"{pod}_frontend_cart.csv", minute_csv(["SuccessRate", "Latency"], value))


def test_a_new_pod_failing_right_after_a_rollout_puts_its_workload_first() -> None:
    old = pod_file("cart-v1-5d8f7c9b4-abcde", lambda m: 100.0)
    other = pod_file("payments-6c7d8e9f5-fghij", lambda m: 100.0)
    new = pod_file("cart-v2-7f9c8d6b2-klmno", lambda m: None if m < 37 else 30.0)
    suspects = rank_case_suspects([old, other, new], since=START)
    assert suspects and suspects[0].component == "cart"
    reasons = " ".join(suspects[0].reasons)
    assert "cart-v2-7f9c8d6b2" in reasons and "rollout" in reasons
    assert "100 → 30" in reasons and "other pods" in reasons
    assert all(s.component != "payments" for s in suspects)


def test_a_failing_call_blames_its_callee_through_the_call_graph() -> None:
    graph = analyze("dependency.csv", b"Source,Target\nfrontend,cart\nfrontend,payments\n")
    assert graph.kind == "topology"

    def value(column: str, m: int) -> float:
        return 60.0 if column == "frontend_payments" and m >= 40 else 100.0

    calls = analyze("success.csv", minute_csv(["frontend_cart", "frontend_payments"], value))
    suspects = rank_case_suspects([graph, calls], since=START)
    assert [s.component for s in suspects][:1] == ["payments"]
    assert "calls frontend → payments" in suspects[0].reasons[0]


def latency_file(value: Callable[[str, int], float]) -> AnyReport:
    return analyze("latency.csv", minute_csv(["cart_latency", "payments_latency"], value))


def test_a_series_noisy_all_day_is_not_a_suspect_for_one_more_spike() -> None:
    jitter = noise(7)

    def value(column: str, m: int) -> float:
        if column == "cart_latency":
            return 400.0 if m % 9 == 0 or m == 41 else 20 + jitter.random()
        return 20 + jitter.random()

    assert rank_case_suspects([latency_file(value)], since=START) == []


def test_a_change_far_from_the_stated_window_is_not_the_incident() -> None:
    jitter = noise(3)

    def value(column: str, m: int) -> float:
        late = column == "payments_latency" and m >= 10
        return (200.0 if late else 20.0) + jitter.random()

    report = latency_file(value)
    assert rank_case_suspects([report], since=START) == []
    suspects = rank_case_suspects([report], since=T0 + timedelta(minutes=10))
    assert [s.component for s in suspects] == ["payments"]


def test_cpu_pinned_at_its_limit_is_saturation_without_any_stated_time() -> None:
    jitter = noise(5)

    def value(column: str, m: int) -> float:
        if column == "orders_cpu":
            return 99.5 + jitter.random() / 2
        return 5 + jitter.random() * 3 if column.endswith("cpu") else 300 + jitter.random()

    columns = ["orders_cpu", "carts_cpu", "orders_mem", "carts_mem"]
    report = analyze("anomalous.csv", minute_csv(columns, value))
    suspects = rank_case_suspects([report])
    assert [s.component for s in suspects] == ["orders"]
    assert "saturated" in suspects[0].reasons[0]


def test_cpu_at_its_limit_long_before_the_window_is_only_a_standing_condition() -> None:
    def value(column: str, m: int) -> float:
        return 99.8 if column == "orders_cpu" else 5.0

    report = analyze("cpu.csv", minute_csv(["orders_cpu", "carts_cpu"], value))
    suspects = rank_case_suspects([report], since=START)
    assert suspects and "already at its limit before" in suspects[0].reasons[0]
    assert suspects[0].score < 0.3


def test_a_file_naming_no_component_is_told_which_label_would_let_it() -> None:
    jitter = noise(9)

    def value(column: str, m: int) -> float:
        return (200.0 if m >= 40 else 20.0) + jitter.random()

    report = analyze("data.csv", minute_csv(["latency_ms"], value))
    result = investigate_offline("slow since 08:40", [], [report])
    assert not result.suspects
    assert result.next_steps[0].startswith("Say which component data.csv is about")
    assert "pod=" in result.next_steps[0]
    named = analyze("data.csv", minute_csv(["payments_latency_ms", "cart_latency_ms"], value))
    result = investigate_offline("slow since 08:40", [], [named])
    assert not any("Say which component" in step for step in result.next_steps)


def test_latency_rising_on_most_components_at_once_says_little_about_each() -> None:
    jitter = noise(11)
    services = ["cart", "payments", "orders", "users"]

    def value(column: str, m: int) -> float:
        if column.endswith("latency"):
            return (40.0 if m >= 40 else 20.0) + jitter.random()
        return 60.0 if column == "payments_success" and m >= 40 else 100.0

    columns = [f"{s}_latency" for s in services] + [f"{s}_success" for s in services]
    suspects = rank_case_suspects([analyze("m.csv", minute_csv(columns, value))], since=START)
    assert suspects[0].component == "payments"
    assert "100 → 60" in suspects[0].reasons[0]
    assert any("as on 4 of 4 components" in r for s in suspects for r in s.reasons)
    others = [s.score for s in suspects[1:]]
    assert others and max(others) < suspects[0].score / 2


def test_one_pods_numbers_copied_into_each_call_file_stay_that_pods() -> None:
    """A caller pod's own latency, written into its file for every callee, blames no callee."""
    graph = analyze("dependency.csv", b"Source,Target\nfrontend,cart\nfrontend,payments\n")
    jitter = noise(13)
    shared = [20 + jitter.random() for _ in range(60)]

    def caller(callee: str) -> AnyReport:
        def value(column: str, m: int) -> float:
            if column == "SuccessRate":
                return 100.0
            return shared[m] * (3 if m >= 40 else 1)

        pod = "frontend-6d8f7c9b4-abcde"
        return analyze(
            f"{pod}_frontend_{callee}.csv", minute_csv(["SuccessRate", "Latency"], value)
        )

    suspects = rank_case_suspects([graph, caller("cart"), caller("payments")], since=START)
    assert [s.component for s in suspects] == ["frontend"]
    assert "calls" not in suspects[0].reasons[0]


def test_pods_of_one_replicaset_replaced_just_before_the_window_are_a_restart() -> None:
    old = pod_file("cart-5d8f7c9b4-abcde", lambda m: 100.0 if m < 36 else None)
    new = pod_file("cart-5d8f7c9b4-fghij", lambda m: None if m < 37 else 100.0)
    steady = pod_file("payments-6c7d8e9f5-klmno", lambda m: 100.0)
    suspects = rank_case_suspects([old, new, steady], since=START)
    assert [s.component for s in suspects] == ["cart"]
    assert "pods replaced around 08:37" in suspects[0].reasons[0]
    assert "restart" in suspects[0].reasons[0]
