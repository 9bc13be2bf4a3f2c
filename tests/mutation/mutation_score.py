"""Print the mutation score of the last `mutmut run` (read from mutmut's exported statistics)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
    killed = stats["killed"] + stats["timeout"]
    tested = killed + stats["survived"]
    score = 100 * killed / tested if tested else 0.0
    sys.stdout.write(
        f"mutation score: {killed} of {tested} mutants killed ({score:.0f}%), {stats['survived']} survived, "
        f"{stats['no_tests']} without a test, {stats['total']} in all (`mutmut results` lists the survivors)\n"
    )


if __name__ == "__main__":
    main()
