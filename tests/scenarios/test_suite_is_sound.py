"""The scenario suite is usable: every case loads, every file is evidence the analyzer reads as
the kind it was written as, answers are consistent with the signature library and with the
evidence, and the committed files are exactly what the generator writes."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from engine.evidence.analyze import analyze
from engine.evidence.reports import AnyReport
from engine.investigate.signatures import SIGNATURES
from tests.scenarios import generate
from tests.scenarios.suite import ANSWER_FILE, KINDS, Scenario, load_scenarios

SCENARIOS = load_scenarios()
FILES = [(s, f) for s in SCENARIOS for f in s.files]
BY_ID = {sig.id: sig for sig in SIGNATURES}
# Failures the cluster itself reports (kubectl describe/get/events state, alert payloads):
# they are measured on real kubectl output (tests/unit/test_kubernetes_state.py and
# tests/bench/bench_k8s_troubleshooting.py), not by generated incidents. Likewise what other
# CLIs print as state (argocd, kafka-consumer-groups, rabbitmqctl: tests/unit/test_cli_state.py).
STATE_ONLY = frozenset(
    {"image-pull", "scheduling", "pvc-pending", "init-container", "job-failed", "evicted"}
    | {"no-endpoints", "probe", "throttling", "ingress-class"}
    | {"app-degraded", "sync-failed", "consumer-lag", "network-partition", "resource-alarm"}
    | {"node-down"}
    | {"autoscaler", "not-installed", "not-found"}
)
MAX_BYTES = 400 * 1024


@functools.cache
def report(path: Path) -> AnyReport:
    return analyze(path.name, path.read_bytes())


def kind_of(r: AnyReport) -> str:
    return "log" if r.kind in ("log", "text") else r.kind


def test_the_suite_covers_every_failure_kind() -> None:
    types = Counter(s.answer.type for s in SCENARIOS)
    assert types["healthy"] >= 2
    assert types["red-herring"] >= 3
    failing = {s.answer.root_cause.signature for s in SCENARIOS if s.answer.type == "failure"}
    wanted = set(BY_ID) - STATE_ONLY
    assert failing >= wanted, f"no scenario for {sorted(wanted - failing)}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_answer_is_consistent(scenario: Scenario) -> None:
    a = scenario.answer
    cause = a.root_cause
    assert a.window_start < a.window_end
    if a.healthy:
        assert a.type == "healthy"
        assert cause.category is None and cause.signature is None and a.incident_start is None
        return
    assert cause.signature in BY_ID
    assert BY_ID[cause.signature].category == cause.category
    assert a.incident_start is not None and a.window_start < a.incident_start < a.window_end
    assert cause.component in a.acceptable_components
    assert not set(a.acceptable_components) & set(a.forbidden)
    assert cause.signature not in a.forbidden_signatures


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_folder_holds_the_evidence_and_the_answer_only(scenario: Scenario) -> None:
    present = sorted(p.name for p in scenario.path.iterdir())
    assert present == sorted([*scenario.answer.evidence, ANSWER_FILE])
    assert 2 <= len(scenario.files) <= 5
    assert all(p.is_file() and p.stat().st_size > 0 for p in scenario.files)
    assert sum(p.stat().st_size for p in scenario.files) <= MAX_BYTES


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_no_file_name_gives_the_answer_away(scenario: Scenario) -> None:
    names = [p.name.lower() for p in scenario.files]
    for alias in scenario.answer.acceptable_components:
        assert not any(alias.lower() in name for name in names), alias


@pytest.mark.parametrize(("scenario", "path"), FILES, ids=[f"{s.name}/{p.name}" for s, p in FILES])
def test_every_file_is_read_as_its_kind(scenario: Scenario, path: Path) -> None:
    assert kind_of(report(path)) == scenario.answer.evidence[path.name]


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if not s.answer.healthy], ids=lambda s: s.name
)
def test_the_root_cause_shows_in_the_evidence(scenario: Scenario) -> None:
    component = scenario.answer.root_cause.component
    assert component is not None
    text = b"\n".join(p.read_bytes() for p in scenario.files).decode(errors="replace").lower()
    assert component.lower() in text


def test_the_suite_has_every_kind_and_many_formats() -> None:
    kinds = Counter(kind_of(report(p)) for _, p in FILES)
    assert all(kinds[k] >= 2 for k in KINDS), kinds
    formats = set()
    for _, path in FILES:
        r = report(path)
        formats |= set(getattr(r, "formats", None) or [getattr(r, "format", "")])
    expected = {
        "json",
        "logfmt",
        "syslog",
        "access-log",
        "plain",
        "Jaeger JSON",
        "OTLP JSON",
        "CSV span table",
        "csv-wide",
        "prometheus-json-matrix",
        "prometheus-text",
        "yaml",
    }
    assert expected <= formats, sorted(expected - formats)


def test_the_committed_cases_are_what_the_generator_writes(tmp_path: Path) -> None:
    builders = generate.builders()
    assert sorted(builders) == [s.name for s in SCENARIOS]
    for name, builder in builders.items():
        generate.write(generate.build(name, builder), tmp_path)
    for scenario in SCENARIOS:
        for path in [*scenario.files, scenario.path / ANSWER_FILE]:
            fresh = tmp_path / scenario.name / path.name
            assert fresh.read_bytes() == path.read_bytes(), f"{scenario.name}/{path.name} is stale"
