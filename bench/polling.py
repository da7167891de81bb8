"""Polling cost of the job-status state machine, next to fixed 5 s and 30 s polls.

For jobs that run 1 h, 6 h and 24 h, computes from the same parameters the definition embeds
(``poll_schedule`` / ``max_polls`` / ``transitions_for`` in
``constructs_lib.tracking.schedule``, whose
transition count a test checks against a real execution in moto's interpreter):

- status calls (``Get*`` requests),
- Step Functions state transitions (what a Standard workflow is billed on),
- detection delay: seconds between the job's end and the poll that sees it, mean and max over
  end times spread across one poll interval after the nominal duration.

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

from constructs_lib.tracking.schedule import (  # noqa: E402
    EVENT_TRANSITIONS,
    poll_schedule,
    poll_times,
    transitions_for,
)

#: Step Functions Standard price per state transition (us-east-1, USD) for the cost column.
PRICE_PER_TRANSITION = 0.000025

STRATEGIES = {
    "backoff 30 s x2 -> 5 min (default)": poll_schedule(30, 2.0, 300),
    "fixed 30 s": [30],
    "fixed 5 s": [5],
}


def measure(schedule: list[int], job_seconds: float) -> dict[str, Any]:
    # Jobs rarely end on a poll: the delay is averaged over end times spread (1 s apart) across
    # one full (largest) poll interval after the nominal duration.
    window = max(schedule)
    times = poll_times(schedule, job_seconds + window)
    polls = bisect.bisect_left(times, job_seconds) + 1
    transitions = transitions_for(polls)
    delays = [
        times[bisect.bisect_left(times, end)] - end
        for end in range(int(job_seconds), int(job_seconds) + window)
    ]
    return {
        "status_calls": polls,
        "state_transitions": transitions,
        "detection_delay_mean_s": round(statistics.mean(delays), 1),
        "detection_delay_max_s": max(delays),
        "cost_usd": round(transitions * PRICE_PER_TRANSITION, 4),
    }


#: Bedrock batch jobs with "Batch Inference Job State Change" events on: the poller polls every
#: 35 minutes as a fallback; the end event starts a short execution that reads the status once.
BEDROCK_FALLBACK = [2100]


def measure_bedrock_events(job_seconds: float) -> dict[str, Any]:
    """Events arrive: the poller's calls until the end, plus one status call after the event.
    Detection delay = EventBridge delivery plus one API call (seconds), not a poll interval."""
    times = poll_times(BEDROCK_FALLBACK, job_seconds + max(BEDROCK_FALLBACK))
    polls_before_end = bisect.bisect_left(times, job_seconds)
    transitions = transitions_for(polls_before_end) - 5 + EVENT_TRANSITIONS  # poller is stopped
    return {
        "status_calls": polls_before_end + 1,
        "state_transitions": transitions,
        "detection_delay_mean_s": 0.0,
        "detection_delay_max_s": 0,
        "cost_usd": round(transitions * PRICE_PER_TRANSITION, 4),
    }


def main(hours: list[float], out_dir: Path = ROOT / "bench") -> dict[str, Any]:
    results: dict[str, Any] = {
        name: {f"{h:g}h": measure(schedule, h * 3600) for h in hours}
        for name, schedule in STRATEGIES.items()
    }
    results["bedrock, events on (35 min fallback poll)"] = {
        f"{h:g}h": measure_bedrock_events(h * 3600) for h in hours
    }
    results["bedrock, event lost (35 min fallback poll)"] = {
        f"{h:g}h": measure(BEDROCK_FALLBACK, h * 3600) for h in hours
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
        "With events on, detection takes EventBridge delivery plus one GetModelInvocationJob call "
        "(seconds; shown as 0 above); a lost event is caught by the 35-minute fallback poll.",
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
