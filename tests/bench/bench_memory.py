"""Prompt tokens per turn of a long case: the memory manager against sending the full history.

Run: .venv/bin/python tests/bench/bench_memory.py [--budget TOKENS] [--model NAME]
The case is the 20-turn thread of tests/unit/test_memory.py (user messages of about 120 words,
answers of about 250, five analysed files, hypotheses and team feedback). Tokens are counted
with litellm's tokenizer for the model (gpt-4o-mini unless told), as the engine counts them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map fetch at import

import litellm  # noqa: E402

from engine.investigate.memory import DEFAULT_BUDGET_TOKENS, build_prompt  # noqa: E402
from tests.unit.test_memory import (  # noqa: E402
    CASE,
    REDACTOR,
    STATE,
    case_evidence,
    thread,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_TOKENS)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()

    def count(messages: list[dict[str, str]]) -> int:
        return int(litellm.token_counter(model=args.model, messages=messages))

    evidence = list(case_evidence())
    print(f"model {args.model}, budget {args.budget} tokens, {len(evidence)} files")
    print(
        f"{'turn':>4} {'msgs':>4} {'managed':>8} {'full':>7} {'ratio':>6}  "
        "verbatim retrieved summarised dropped details"
    )
    total_managed = total_full = 0
    for turn in range(1, 21):
        history = thread(turn)
        prompt = build_prompt(
            CASE,
            history,
            evidence,
            STATE,
            history[-1].text,
            "U1",
            REDACTOR,
            count_tokens=count,
            budget_tokens=args.budget,
        )
        kept = prompt.kept
        total_managed += prompt.prompt_tokens
        total_full += prompt.full_history_tokens
        print(
            f"{turn:>4} {len(history):>4} {prompt.prompt_tokens:>8} "
            f"{prompt.full_history_tokens:>7} {prompt.ratio:>6.1%}  "
            f"{kept.verbatim:>8} {kept.retrieved:>9} {kept.summarised:>10} {kept.dropped:>7} "
            f"{kept.details_kept:>3}/{kept.details_kept + kept.details_dropped}"
        )
    print(
        f"all 20 turns: {total_managed} tokens managed, {total_full} full "
        f"({total_managed / total_full:.1%})"
    )


if __name__ == "__main__":
    main()
