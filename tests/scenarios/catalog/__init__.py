"""The scenarios, as data: one module per theme, each listing its scenarios in `SCENARIOS`.
A scenario's random generator is seeded with its name, so where it is listed, and adding
others, changes nothing in it."""

from __future__ import annotations

from tests.scenarios.catalog import decoys, dependencies, exhaustion, healthy, network, releases
from tests.scenarios.spec import Scenario

SCENARIOS: tuple[Scenario, ...] = (
    *exhaustion.SCENARIOS,
    *network.SCENARIOS,
    *releases.SCENARIOS,
    *dependencies.SCENARIOS,
    *healthy.SCENARIOS,
    *decoys.SCENARIOS,
)
