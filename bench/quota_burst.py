"""A burst of seed files against Clean Rooms ML's quota of generation jobs in flight.

Synthesizes the audience-generation workflow (S3-triggered), runs it in moto's Step Functions
interpreter together with the job-status tracker, and answers Clean Rooms ML calls with a
service that refuses a start (``ServiceQuotaExceededException``) whenever ``quota`` jobs are
in flight (``tests/burst_support.py``). Retry back-off is slept at ``backoff_scale`` of its
length, so the figures are counts, not durations: runs, starts per job, refusals (= retries),
the most jobs ever in flight, and Step Functions state transitions (what a Standard workflow
is billed on: states entered plus retries), notification, run and tracking executions together.

Writes ``bench/quota-burst.md`` and ``bench/quota-burst.json``.
Usage: .venv/bin/python bench/quota_burst.py [files] [quota]
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "lambda"):
    sys.path.insert(0, str(path))

from tests.burst_support import build_burst_stack, simulate_burst  # noqa: E402
from tests.conftest import synth_stack  # noqa: E402

#: Step Functions Standard price per state transition (us-east-1, USD).
PRICE_PER_TRANSITION = 0.000025


def main(files: int = 100, quota: int = 10, out_dir: Path = ROOT / "bench") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        template = synth_stack(Path(tmp), build_burst_stack).raw
    burst = simulate_burst(template, files=files, quota=quota, job_seconds=2.0)
    outcomes = Counter(burst.statuses.values())
    results: dict[str, Any] = {
        "seed_files": files,
        "quota_jobs_in_flight": quota,
        "runs_by_outcome": dict(outcomes),
        "jobs_started": len(burst.starts_by_name),
        "max_starts_per_job": max(burst.starts_by_name.values(), default=0),
        "max_jobs_in_flight": burst.max_in_flight,
        "starts_refused_and_retried": burst.refused,
        "max_retries_of_one_run": max(burst.retries_by_run, default=0),
        "state_transitions": burst.transitions,
        "state_transitions_per_run": round(burst.transitions / files, 1),
        "transitions_cost_usd": round(burst.transitions * PRICE_PER_TRANSITION, 4),
        "simulated_seconds": round(burst.seconds, 1),
    }
    lines = [
        "# A burst of seed files under Clean Rooms ML's generation-job quota",
        "",
        f"`bench/quota_burst.py`: {files} seed files land at once; the service refuses a start "
        f"whenever {quota} generation jobs are in flight (each stays in flight 2 s, none ending "
        "before a first start was refused); quota "
        "back-off slept at 1/100 of its length. Runs and tracking executions are the "
        "synthesized state machines in moto's interpreter.",
        "",
        "| figure | value |",
        "| --- | ---: |",
        *(f"| {k.replace('_', ' ')} | {v} |" for k, v in results.items()),
    ]
    (out_dir / "quota-burst.md").write_text("\n".join(lines) + "\n")
    (out_dir / "quota-burst.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))
    return results


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
