"""Polling cost of the job-status state machine, next to fixed 5 s and 30 s polls.

For jobs that run 1 h, 6 h and 24 h, computes from the same parameters the definition embeds
(``poll_schedule`` / ``max_polls`` / ``transitions_for`` in ``constructs_lib.job_status``, whose
transition count a test checks against a real execution in moto's interpreter):

- status calls (``Get*`` requests),
- Step Functions state transitions (what a Standard workflow is billed on),
- detection delay: seconds between the job's end and the poll that sees it, mean and max over
  end times spread across the 10 minutes after the nominal duration.

Writes ``bench/polling-results.md`` and ``bench/polling-results.json``.
Usage: .venv/bin/python bench/polling.py [hours ...]
"""

from __future__ import annotations

import bisect
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from constructs_lib.job_status import poll_schedule, poll_times, transitions_for  # noqa: E402

#: Step Functions Standard price per state transition (us-east-1, USD) for the cost column.
PRICE_PER_TRANSITION = 0.000025

STRATEGIES = {
    "backoff 30 s x2 -> 5 min (default)": poll_schedule(30, 2.0, 300),
    "fixed 30 s": [30],
    "fixed 5 s": [5],
}


#: Jobs rarely end on a poll: the delay is averaged over end times spread (1 s apart) across
#: the ``WINDOW`` seconds after the nominal duration.
WINDOW = 600


def measure(schedule: list[int], job_seconds: float) -> dict[str, Any]:
    times = poll_times(schedule, job_seconds + WINDOW)
    polls = bisect.bisect_left(times, job_seconds) + 1
    transitions = transitions_for(polls)
    delays = [
        times[bisect.bisect_left(times, end)] - end
        for end in range(int(job_seconds), int(job_seconds) + WINDOW)
    ]
    return {
        "status_calls": polls,
        "state_transitions": transitions,
        "detection_delay_mean_s": round(statistics.mean(delays), 1),
        "detection_delay_max_s": max(delays),
        "cost_usd": round(transitions * PRICE_PER_TRANSITION, 4),
    }


def main(hours: list[float], out_dir: Path = ROOT / "bench") -> dict[str, Any]:
    results: dict[str, Any] = {
        name: {f"{h:g}h": measure(schedule, h * 3600) for h in hours}
        for name, schedule in STRATEGIES.items()
    }
    lines = [
        "# Job-status polling: measured from the definition's own parameters",
        "",
        "Computed by `bench/polling.py` from `poll_schedule`, `poll_times` and `transitions_for` "
        "(the transition formula is checked against real executions in moto's interpreter).",
        "",
        "| strategy | job | status calls | state transitions | detection delay mean / max (s) "
        "| transitions cost (USD) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, per_job in results.items():
        for job, row in per_job.items():
            lines.append(
                f"| {name} | {job} | {row['status_calls']} | "
                f"{row['state_transitions']} | {row['detection_delay_mean_s']} / "
                f"{row['detection_delay_max_s']} | "
                f"{row['cost_usd']} |"
            )
    default = results["backoff 30 s x2 -> 5 min (default)"]
    lines += [
        "",
        f"Default schedule: {STRATEGIES['backoff 30 s x2 -> 5 min (default)']} s; "
        f"worst-case detection delay = the 300 s cap. A 24 h job costs "
        f"{default.get('24h', {}).get('status_calls', 'n/a')} status calls.",
    ]
    (out_dir / "polling-results.md").write_text("\n".join(lines) + "\n")
    (out_dir / "polling-results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))
    return results


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1, 6, 24])
