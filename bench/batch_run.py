"""The batch inference workflow at the issue's scale, run end to end in the simulator.

1,000,000 Bedrock records, 50,000 per job, 10 jobs in flight: the synthesized
``BatchInferenceWorkflow`` (``BatchLimits(min_records_per_job=100, max_records_per_job=50_000)``,
``max_jobs_in_flight=10``, and the stack's job-status tracker polling every second) runs in
moto's Step Functions interpreter (``tests.sfn_support.interpreter``) with the real handler
(prepare, split and collect against moto's S3) and the stateful Bedrock of
``tests/bedrock_fake.py`` (every job completes at its first poll), as
``tests/workflows/test_batch_inference_workflow.py`` runs it at 2,000 records.

The input is generated into moto's S3 with ``bench/batch_split.py``'s generator (the same
~217-byte Anthropic Messages records, no recordId, in ``--files`` JSONL files) and the run is
started by hand with ``{"inputUris": [...]}``. Measured:

- state transitions: states entered (``tests.sfn_support.Run.transitions``' count, the unit
  Step Functions bills a Standard workflow by) in every execution's history: the run's own
  execution (its Map iterations' states are in that history, as in Step Functions' inline Map)
  and every nested job-status tracker execution;
- handler (Lambda) invocations by action, and each one's wall time. The interpreter invokes the
  handler in-process; here every invocation gets a Lambda context whose
  ``get_remaining_time_in_millis`` counts down the stack's 5-minute timeout from the
  invocation's start, so the split stops and resumes as it would in Lambda;
- the process's peak RSS during the split invocations (``VmHWM``, reset through
  ``/proc/self/clear_refs`` before each): moto, the interpreter and the stored input included,
  an upper bound (``bench/batch-split.md`` has the split's own memory, moto apart);
- the wall time of the run (start to end of its execution), the most Bedrock jobs in flight at
  once (created, not yet seen ended: ``FakeBedrock.max_in_flight``) and the most job-status
  tracker executions running at once (from their start and stop dates);
- the outcome: shards, jobs, tracker executions, the one run manifest and the one event.

Writes ``bench/batch-run.md`` and ``bench/batch-run.json``.
Usage: .venv/bin/python bench/batch_run.py [--records N] [--max-records M] [--in-flight K]
       [--files F] [--out DIR]   (``--records 2000 --max-records 100`` is the smoke run)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench", ROOT / "lambda"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import batch_split  # noqa: E402  (sets the fake credentials and moto's S3 buffer size)
import boto3  # noqa: E402
import handler  # noqa: E402

from tests.conftest import synth_stack  # noqa: E402  (puts the pinned Node on PATH first)

SOURCE = "cleanrooms-ml-cdk.batch-inference"
LAMBDA_TIMEOUT_MS = 5 * 60 * 1000  # the stack's handler Lambda
#: Step Functions Standard: "$0.025 per 1,000 state transitions" (us-east-1, after the free
#: tier), https://aws.amazon.com/step-functions/pricing/
PRICE_PER_1000_TRANSITIONS = 0.025


def build(records: int, max_records: int, in_flight: int) -> Any:
    """The stack: the batch workflow with the bench's limits, and a tracker polling every 1 s."""
    from tests.sfn_configurations import batch_workflow_of

    return batch_workflow_of(
        min_records=min(100, max_records), max_records=max_records, in_flight=in_flight
    )


class Handler:
    """``handler.on_event`` as the interpreter's Lambda calls it, with a Lambda context counting
    down the stack's timeout, each invocation timed; the split's peak RSS is reset before it."""

    def __init__(self) -> None:
        self.real = handler.on_event
        self.invocations: list[dict[str, Any]] = []

    def __call__(self, event: Any, context: Any = None) -> Any:
        started = time.monotonic()
        context = SimpleNamespace(
            get_remaining_time_in_millis=lambda: (
                LAMBDA_TIMEOUT_MS - int((time.monotonic() - started) * 1000)
            )
        )
        action = event.get("Action")
        split = action == "SplitBatchInput"
        rss_before = None
        if split:
            Path("/proc/self/clear_refs").write_text("5")
            rss_before = batch_split._rss_peak_mib()
        try:
            return self.real(event, context)
        finally:
            seconds = time.monotonic() - started
            self.invocations.append(
                {
                    "action": action,
                    "seconds": round(seconds, 3),
                    "rss_before_mib": rss_before,
                    "rss_peak_mib": batch_split._rss_peak_mib() if split else None,
                }
            )


def histories(sfn: Any) -> list[dict[str, Any]]:
    """Every execution of every state machine, with its full history."""
    found = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            for listed in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"]
            ):
                for execution in listed["executions"]:
                    events: list[dict[str, Any]] = []
                    kwargs: dict[str, Any] = {}
                    while True:
                        page_ = sfn.get_execution_history(
                            executionArn=execution["executionArn"], maxResults=1000, **kwargs
                        )
                        events += page_["events"]
                        if not page_.get("nextToken"):
                            break
                        kwargs = {"nextToken": page_["nextToken"]}
                    found.append({"machine": machine["name"], **execution, "events": events})
    return found


def entered(events: list[dict[str, Any]]) -> int:
    """States entered: ``tests.sfn_support.Run.transitions``' count."""
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def state_names(machine: dict[str, Any]) -> set[str]:
    """The states of a (sub-)machine, those of its Map and Parallel states included."""
    names = set()
    for name, state in machine["States"].items():
        names.add(name)
        for inner in [
            state.get("ItemProcessor"),
            state.get("Iterator"),
            *state.get("Branches", []),
        ]:
            if inner:
                names |= state_names(inner)
    return names


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def run_bench(
    records: int,
    max_records: int,
    in_flight: int,
    files: int,
    timeout: float,
) -> Any:
    from tests.bedrock_fake import FakeBedrock
    from tests.sfn_support import REGION, definition_of, interpreter, machine_name_of

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        raw = synth_stack(Path(tmp), build(records, max_records, in_flight)).raw
        synth_seconds = time.perf_counter() - started
    workflow, workflow_name = definition_of(raw, "Batch"), machine_name_of(raw, "Batch")
    tracker, tracker_name = definition_of(raw, "-job-status"), machine_name_of(raw, "-job-status")
    settings = json.loads(workflow)["States"]["CheckBatchInput"]["Parameters"]["Payload"][
        "Settings"
    ]
    bucket = settings["inputBucket"]
    shards = math.ceil(records / max_records)
    per_shard = math.ceil(records / shards)
    bedrock = FakeBedrock(
        records_per_shard={i + 1: min(per_shard, records - i * per_shard) for i in range(shards)},
    )
    wrapped = Handler()
    with interpreter({"bedrock": SimpleNamespace(client=bedrock.client)}) as run:
        run.machine(tracker, tracker_name)  # type: ignore[attr-defined]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=bucket)
        batch_split.BUCKET = bucket
        with tempfile.TemporaryDirectory() as tmp:
            generated = time.perf_counter()
            uris = batch_split.generate("moto", records, files, Path(tmp))
            generate_seconds = time.perf_counter() - generated
        handler.on_event = wrapped  # type: ignore[assignment]
        try:
            began = time.perf_counter()
            arn = run.start(workflow, {"inputUris": uris}, "bench-1", workflow_name)  # type: ignore[attr-defined]
            result = run.wait_for(arn, timeout=timeout)  # type: ignore[attr-defined]
            wall = time.perf_counter() - began
        finally:
            handler.on_event = wrapped.real  # type: ignore[assignment]
        executions = histories(boto3.client("stepfunctions", region_name=REGION))
        ours = [e for e in result.events if e["source"] == SOURCE]
        manifest_uri = ours[0]["detail"]["result"]["manifestUri"] if ours else None
        manifest = None
        if manifest_uri:
            key = manifest_uri.removeprefix(f"s3://{bucket}/")
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    parent = [e for e in executions if e["machine"] == workflow_name]
    trackers = [e for e in executions if e["machine"] == tracker_name]
    parent_events = parent[0]["events"]
    run_shards = json.loads(workflow)["States"]["RunShards"]
    iteration_states = state_names(run_shards.get("ItemProcessor") or run_shards["Iterator"])
    in_iterations = sum(
        1
        for e in parent_events
        if e["type"].endswith("StateEntered")
        and e["stateEnteredEventDetails"]["name"] in iteration_states
    )
    by_state = Counter(
        e["stateEnteredEventDetails"]["name"]
        for x in executions
        for e in x["events"]
        if e["type"].endswith("StateEntered")
    )
    spans = [
        (t["startDate"].timestamp(), t.get("stopDate", t["startDate"]).timestamp())
        for t in trackers
    ]
    invocations = wrapped.invocations
    transitions = {
        "run execution (top level)": entered(parent_events) - in_iterations,
        "Map iterations": in_iterations,
        "job-status tracker executions": sum(entered(t["events"]) for t in trackers),
    }
    transitions["total"] = sum(transitions.values())
    splits = [i for i in invocations if i["action"] == "SplitBatchInput"]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": batch_split.machine(),
        "records": records,
        "max_records_per_job": max_records,
        "max_jobs_in_flight": in_flight,
        "files": files,
        "input_bytes": sum(len(batch_split.record(n)) for n in range(records)),
        "synth_seconds": round(synth_seconds, 1),
        "generate_seconds": round(generate_seconds, 1),
        "status": result.status,
        "error": result.error,
        "cause": result.cause,
        "run_wall_seconds": round(wall, 1),
        "outcome": ours[0]["detail"]["outcome"] if ours else None,
        "events": len(ours),
        "manifests": 1 if manifest else 0,
        "manifest_uri": manifest_uri,
        "shards": len(manifest["shards"]) if manifest else 0,
        "shard_records": sorted({s["records"] for s in manifest["shards"]}) if manifest else [],
        "shard_statuses": dict(Counter(s["status"] for s in manifest["shards"]))
        if manifest
        else {},
        "manifest_totals": manifest.get("totals") if manifest else None,
        "bedrock_jobs": len(bedrock.jobs),
        "bedrock_creates": bedrock.creates,
        "bedrock_status_reads": sum(j.polls for j in bedrock.jobs.values()),
        "max_jobs_in_flight_observed": bedrock.max_in_flight,
        "max_trackers_running_observed": most_at_once(spans),
        "tracker_executions": len(trackers),
        "tracker_statuses": dict(Counter(t["status"] for t in trackers)),
        "executions": len(executions),
        "transitions": transitions,
        "transitions_cost_usd": round(transitions["total"] / 1000 * PRICE_PER_1000_TRANSITIONS, 4),
        "transitions_by_state": dict(by_state.most_common()),
        "handler_invocations": dict(Counter(i["action"] for i in invocations)),
        "handler_seconds": {
            action: round(sum(i["seconds"] for i in invocations if i["action"] == action), 2)
            for action in dict.fromkeys(i["action"] for i in invocations)
        },
        "split_rss_peak_mib": max((i["rss_peak_mib"] for i in splits), default=None),
        "split_rss_growth_mib": max(
            (round(i["rss_peak_mib"] - i["rss_before_mib"], 1) for i in splits), default=None
        ),
        "invocations": invocations,
        "sdk_calls": dict(Counter(result.calls)),
    }


def write(results: dict[str, Any], out: Path) -> None:
    (out / "batch-run.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    split_bench = {}
    split_json = ROOT / "bench" / "batch-split.json"
    if split_json.exists():
        split_bench = json.loads(split_json.read_text())["runs"]
    r = results
    t, seconds, calls = r["transitions"], r["handler_seconds"], r["handler_invocations"]
    shard_records = ", ".join(f"{n:,}" for n in r["shard_records"])
    totals = r["manifest_totals"] or {}
    counts = " / ".join(
        f"{totals.get(k, 0):,}" for k in ("total", "processed", "succeeded", "failed")
    )
    lines = [
        "# The batch inference workflow at scale (simulated run)",
        "",
        f"Reproduce: `.venv/bin/python bench/batch_run.py --records {r['records']} --max-records "
        f"{r['max_records_per_job']} --in-flight {r['max_jobs_in_flight']}` (written by that "
        f"script; one run, {r['date']}).",
        "",
        f"Input: {r['records']:,} Bedrock records ({r['input_bytes'] / r['records']:.0f} bytes a "
        f"line, no recordId) in {r['files']} JSONL files, {r['input_bytes'] / 1024**2:.1f} MiB, "
        f"started by hand with their URIs; `BatchLimits(min_records_per_job="
        f"{min(100, r['max_records_per_job'])}, "
        f"max_records_per_job={r['max_records_per_job']:,})`, "
        f"`max_jobs_in_flight={r['max_jobs_in_flight']}`, every Bedrock job completing at its "
        "first status read.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| run status / outcome | {r['status']} / {r['outcome']} |",
        f"| shards (records each) | {r['shards']} ({shard_records}) |",
        f"| Bedrock jobs created / status reads | {r['bedrock_jobs']} / "
        f"{r['bedrock_status_reads']} |",
        f"| most Bedrock jobs in flight at once (limit {r['max_jobs_in_flight']}) | "
        f"{r['max_jobs_in_flight_observed']} |",
        f"| most job-status tracker executions running at once | "
        f"{r['max_trackers_running_observed']} |",
        f"| tracker executions (status) | {r['tracker_executions']} "
        f"({', '.join(f'{k} {v}' for k, v in r['tracker_statuses'].items())}) |",
        f"| shards in the manifest by status | "
        f"{', '.join(f'{k} {v}' for k, v in r['shard_statuses'].items())} |",
        f"| run manifests / outcome events | {r['manifests']} / {r['events']} |",
        f"| records in the manifest: total / processed / succeeded / failed | {counts} |",
        f"| state transitions: the run's execution, top level | {t['run execution (top level)']} |",
        f"| state transitions: Map iterations (in the run's history) | {t['Map iterations']} |",
        f"| state transitions: job-status tracker executions | "
        f"{t['job-status tracker executions']} |",
        f"| state transitions, total (at $0.025 per 1,000: ${r['transitions_cost_usd']}) | "
        f"{t['total']} |",
    ]
    for action in calls:
        lines.append(
            f"| handler invocations: {action} (total wall time, s) | {calls[action]} "
            f"({seconds[action]}) |"
        )
    lines += [
        f"| peak RSS of the process during the split (moto, the interpreter, the CDK libraries "
        f"and the stored input included), MiB | {r['split_rss_peak_mib']} |",
        f"| growth of that peak over the RSS before the split, MiB | {r['split_rss_growth_mib']} |",
    ]
    if split_bench:
        lines.append(
            "| the split's own memory, local files (bench/batch-split.md: tracemalloc / RSS), MiB "
            f"| {split_bench['files-memory']['tracemalloc_peak_mib']} / "
            f"{split_bench['files-memory']['rss_peak_during_split_mib']} |"
        )
    lines += [
        f"| wall time of the simulated run (start to end), s | {r['run_wall_seconds']} |",
        f"| (not in the run) synthesis / generating the input into moto's S3, s | "
        f"{r['synth_seconds']} / {r['generate_seconds']} |",
        "",
        "States entered, across every execution:",
        "",
        "| state | entered |",
        "| --- | ---: |",
        *(f"| {name} | {count} |" for name, count in r["transitions_by_state"].items()),
        "",
        "How it was measured: the stack (the batch workflow with the limits above and the stack's "
        "job-status tracker polling every second) is synthesized through the cdk-nag gate "
        "(`tests.conftest.synth_stack`); its two definitions run in moto's Step Functions "
        "interpreter (`tests.sfn_support.interpreter`: the real handler in-process, moto's S3, "
        "the stateful Bedrock of `tests/bedrock_fake.py` answering at the HTTP layer), the input "
        "generated into moto's S3 with `bench/batch_split.py`'s generator. State transitions are "
        "the states entered (`tests.sfn_support.Run.transitions`' count) in every execution's "
        "history, read with `ListExecutions` / `GetExecutionHistory` from the simulator: the "
        "run's own execution, its Map iterations' states (in that history, as with an inline "
        "Map) and every nested tracker execution. Step Functions also bills a retry of a state "
        "as a transition (https://aws.amazon.com/step-functions/pricing/); no call was retried "
        "here. Every handler invocation gets a Lambda context counting down the stack's 5-minute "
        "timeout from its start, so the split would stop and resume as in Lambda; its peak RSS "
        "is the process's (reset before the split), so it counts moto, the interpreter and the "
        "stored input: an upper bound. The split runs on this machine's CPU, not a 256 MB "
        "Lambda's share of one (bench/batch-split.md simulates that: still one invocation). "
        "Jobs in flight are Bedrock's (created, not yet seen ended); Bedrock's own run time is "
        "not simulated (every job ends at its first status read), so the wall time is the "
        "workflow's overhead in the simulator, not a time on AWS, and the trackers' transitions "
        "are those of jobs that end that soon: a longer job adds the states of each further "
        "fallback poll of its tracker (with Bedrock's end events on, one every 35 minutes by "
        "default, bench/polling-results.md).",
        "",
        f"Machine: {r['machine']}.",
    ]
    (out / "batch-run.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--max-records", type=int, default=50_000)
    parser.add_argument("--in-flight", type=int, default=10)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)
    results = run_bench(
        args.records,
        args.max_records,
        args.in_flight,
        args.files,
        args.timeout,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write(results, args.out)
    return results


if __name__ == "__main__":
    main()
