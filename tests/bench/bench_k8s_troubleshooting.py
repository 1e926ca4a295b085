"""What SREs paste during Kubernetes incidents, read as a user would upload it: for each file
of the 34 real troubleshooting cases, what FaultMaven reads it as; for the root-cause cases,
whether the first hypothesis names the cause; for the healthy ones, whether it stays quiet.

Data: `../shared/data/k8s-troubleshooting/` (HolmesGPT evaluation fixtures, Apache-2.0: real
`kubectl` and CLI output captured from clusters by HolmesGPT's authors; cite "HolmesGPT
contributors, HolmesGPT evaluation fixtures"). The answer keys,
`tests/bench/k8s_troubleshooting_keys.yaml`, were written from each case's `expected_output`
before FaultMaven was run on the cases. Nothing here is tuned per case.

Each case's files go through `faultmaven analyze --json` (what each was read as) and
`faultmaven investigate FILES -q PROMPT --json` (the first hypothesis), each in a process of
its own.

    .venv/bin/python tests/bench/bench_k8s_troubleshooting.py [-v]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "k8s-troubleshooting"
KEYS = Path(__file__).with_name("k8s_troubleshooting_keys.yaml")
FAULTMAVEN = ROOT / ".venv" / "bin" / "faultmaven"
# What the file's command was, from its name: only to group the reading table.
_COMMAND = re.compile(
    r"^(kubectl_(?:describe|get_yaml|get|events|logs|top|lineage|find_resource|memory)"
    r"|execute_prometheus|list_prometheus|list_available_metrics|fetch_finding|check_node)"
)


def _json(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    start = done.stdout.find("{")
    return json.loads(done.stdout[start:]) if start >= 0 else {}


def _prompt(case: Path) -> str:
    raw = yaml.safe_load((case / "test_case.yaml").read_text()).get("user_prompt") or ""
    return " ".join(raw) if isinstance(raw, list) else str(raw)


def _files(case: Path) -> list[Path]:
    return sorted(p for p in case.iterdir() if p.name != "test_case.yaml" and p.is_file())


def read_as(case: Path) -> dict[str, str]:
    """File name -> 'kind/format' (or 'rejected: …')."""
    out: dict[str, str] = {}
    for path in _files(case):
        report = _json([str(FAULTMAVEN), "analyze", str(path), "--json"])
        reports = report.get("reports") or [{}]
        first = reports[0]
        kind = str(first.get("kind", "rejected"))
        fmt = first.get("format")
        out[path.name] = f"{kind}/{fmt}" if fmt and kind != "log" else kind
    return out


def first_hypothesis(case: Path) -> tuple[str, dict[str, Any]]:
    files = [str(p) for p in _files(case)]
    result = _json([str(FAULTMAVEN), "investigate", *files, "-q", _prompt(case), "--json"])
    hypotheses = result.get("hypotheses") or []
    if not hypotheses:
        return "", result
    top = hypotheses[0]
    cited = " ".join(str(c.get("text", "")) for c in top.get("supporting", []))
    return f"{top.get('statement', '')} {cited}", result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is not there")
        return 0
    keys = yaml.safe_load(KEYS.read_text())
    kinds: dict[str, Counter[str]] = {}
    scored: dict[str, list[bool]] = {"root-cause": [], "healthy": []}
    for case in sorted(p for p in DATA.iterdir() if p.is_dir()):
        key = keys.get(case.name, {"kind": "reading"})
        for name, kind in read_as(case).items():
            match = _COMMAND.match(name)
            kinds.setdefault(match.group(1) if match else "other", Counter())[kind] += 1
            if args.verbose:
                print(f"  {case.name[:40]:40} {name[:70]:70} {kind}")
        if key["kind"] == "reading":
            continue
        text, result = first_hypothesis(case)
        if key["kind"] == "root-cause":
            ok = bool(re.search(key["expect"], text, re.IGNORECASE))
        else:
            ok = not result.get("suspects") and not any(
                h.get("confidence", 0) > 0.2 for h in result.get("hypotheses", [])
            )
        scored[key["kind"]].append(ok)
        print(
            f"{'✓' if ok else '✗'} {case.name} [{key['kind']}] "
            f"{str(result.get('working_conclusion', ''))[:150]}",
            flush=True,
        )
    print("\n| Command output | Read as |")
    print("|---|---|")
    for command, counter in sorted(kinds.items()):
        read = ", ".join(f"{kind} {n}" for kind, n in counter.most_common())
        print(f"| {command} | {read} |")
    print()
    for kind, results in scored.items():
        print(f"{kind}: {sum(results)}/{len(results)} right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
