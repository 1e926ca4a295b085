"""How often the case suspects name the root cause, over the scenario suite (offline).

Run: .venv/bin/python tests/bench/bench_scenarios.py [-v]
Each scenario's files go through the evidence pipeline as uploads do (only file names and
bytes: the folder name gives the answer away), then `rank_case_suspects` over all of them,
against the time the question gives.
A suspect is right when its name is one of the answer key's accepted names (after the same
normalisation the engine uses); healthy scenarios are right when nothing is suspected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.core.errors import FaultMavenError  # noqa: E402
from engine.evidence.analyze import analyze  # noqa: E402
from engine.evidence.components import canonical  # noqa: E402
from engine.evidence.reports import AnyReport  # noqa: E402
from engine.evidence.suspects.ranking import Suspect, rank_case_suspects  # noqa: E402
from engine.investigate.incident_time import case_incident_start  # noqa: E402
from engine.investigate.reasoner import investigate_offline  # noqa: E402
from engine.investigate.result import Hypothesis  # noqa: E402
from tests.scenarios.suite import Scenario, load_scenarios  # noqa: E402


@dataclass
class Outcome:
    scenario: Scenario
    suspects: list[Suspect]
    rank: int | None  # 1-based rank of the first right suspect
    blamed_forbidden: bool  # the top suspect is a component the key says is innocent
    hypotheses: list[Hypothesis]
    hypothesis_rank: int | None  # 1-based rank of the first hypothesis of the right kind


def judge(scenario: Scenario) -> Outcome:
    reports: list[AnyReport] = []
    for path in scenario.files:
        try:
            reports.append(analyze(path.name, path.read_bytes()))
        except FaultMavenError:
            continue
    # As the product ranks them: against the time the question gives, if any.
    since = case_incident_start([scenario.answer.question], reports)
    suspects = rank_case_suspects(reports, since=since)
    result = investigate_offline(scenario.answer.question, [], reports)
    key = scenario.answer.root_cause
    hypothesis_rank = next(
        (
            i
            for i, h in enumerate(result.hypotheses, 1)
            if h.signature is not None
            and (h.signature == key.signature or h.category == key.category)
        ),
        None,
    )
    accepted = {canonical(name) for name in scenario.answer.acceptable_components}
    forbidden = {canonical(name) for name in scenario.answer.forbidden}
    names = [canonical(s.component) for s in suspects]
    rank = next((i for i, name in enumerate(names, 1) if name in accepted), None)
    return Outcome(
        scenario,
        suspects,
        rank,
        bool(names) and names[0] in forbidden,
        result.hypotheses,
        hypothesis_rank,
    )


def main() -> None:
    verbose = "-v" in sys.argv
    outcomes = [judge(s) for s in load_scenarios()]
    incidents = [o for o in outcomes if not o.scenario.answer.healthy]
    healthy = [o for o in outcomes if o.scenario.answer.healthy]
    for o in outcomes:
        top = ", ".join(f"{s.component} {s.score:.2f}" for s in o.suspects[:3]) or "(none)"
        if o.scenario.answer.healthy:
            verdict = "ok" if not o.suspects else "FALSE ALARM"
        else:
            verdict = f"rank {o.rank}" if o.rank else "MISSED"
            verdict += " (blames an innocent)" if o.blamed_forbidden else ""
        expected = o.scenario.answer.root_cause.component or "-"
        print(f"{o.scenario.name:32} {expected:18} {verdict:28} {top}")
        if not o.scenario.answer.healthy:
            kind = o.scenario.answer.root_cause.signature or "-"
            found = f"rank {o.hypothesis_rank}" if o.hypothesis_rank else "MISSED"
            first = o.hypotheses[0].id if o.hypotheses else "(none)"
            print(f"{'':32} {kind:18} {found:28} {first}")
        if verbose:
            for s in o.suspects[:3]:
                for reason in s.reasons:
                    print(f"    {s.component}: {reason}")
    top1 = sum(1 for o in incidents if o.rank == 1)
    top3 = sum(1 for o in incidents if o.rank is not None and o.rank <= 3)
    innocent = sum(1 for o in incidents if o.blamed_forbidden)
    quiet = sum(1 for o in healthy if not o.suspects)
    h1 = sum(1 for o in incidents if o.hypothesis_rank == 1)
    h3 = sum(1 for o in incidents if o.hypothesis_rank is not None and o.hypothesis_rank <= 3)
    print(
        f"\nhypotheses (signature or category): top-1 {h1}/{len(incidents)} "
        f"({h1 / len(incidents):.0%}), top-3 {h3}/{len(incidents)} ({h3 / len(incidents):.0%})"
    )
    print(
        f"suspects: top-1 {top1}/{len(incidents)} ({top1 / len(incidents):.0%}), "
        f"top-3 {top3}/{len(incidents)} ({top3 / len(incidents):.0%}), "
        f"innocent blamed first {innocent}/{len(incidents)}; "
        f"healthy cases with no suspect {quiet}/{len(healthy)}"
    )


if __name__ == "__main__":
    main()
