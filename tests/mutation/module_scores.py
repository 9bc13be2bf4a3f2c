"""Print the mutation score of each mutated module from mutmut's results (mutants/**/*.py.meta).

`make mutants MUTANTS='notices.ratelimit*'` tests one module at a time; the results add up in mutants/, and this
prints every module measured so far with its survivors (`mutmut show NAME` prints one's diff).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KILLED = {1, 3, 24, -24, 36, 152, 255}  # a failing test, pytest's internal error, a timeout
SURVIVED = 0
NO_TESTS = {5, 33}


def main() -> None:
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        killed = sum(code in KILLED for code in codes.values())
        survivors = sorted(name for name, code in codes.items() if code == SURVIVED)
        untested = sum(code in NO_TESTS for code in codes.values())
        tested = killed + len(survivors)
        if not tested:
            continue
        module = meta.relative_to("mutants").as_posix().removesuffix(".meta")
        sys.stdout.write(
            f"{module}: {killed} of {tested} killed ({100 * killed / tested:.0f}%), {untested} without a test, "
            f"{len(codes) - tested - untested} not run\n"
        )
        for name in survivors:
            sys.stdout.write(f"    survived: {name}\n")


if __name__ == "__main__":
    main()
