"""Smoke test: the batch-run benchmark runs end to end at a small size (so it cannot rot).

The issue's shape (20 shards, 10 in flight) at 2,000 records and 100 per job; it checks the
figures come out and hold the workflow's promises, and asserts no time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.sfn_support import COVERAGE_DIR_ENV


def test_batch_run_bench_runs_20_shards_never_more_than_10_in_flight(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "batch_run.py"),
            "--records",
            "2000",
            "--max-records",
            "100",
            "--in-flight",
            "10",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        # the bench's executions are not tests': kept out of the path-coverage gate
        env={k: v for k, v in os.environ.items() if k != COVERAGE_DIR_ENV},
        timeout=300,
    )

    results = json.loads((tmp_path / "batch-run.json").read_text())
    assert results["status"] == "SUCCEEDED", (results["error"], results["cause"])
    assert results["outcome"] == "SUCCEEDED"
    assert results["shards"] == 20
    assert results["shard_records"] == [100]
    assert results["bedrock_jobs"] == 20
    assert 1 < results["max_jobs_in_flight_observed"] <= 10
    assert results["max_trackers_running_observed"] <= 10
    assert results["tracker_statuses"] == {"SUCCEEDED": 20}  # every job tracked to its end
    assert results["shard_statuses"] == {"Completed": 20}
    assert results["manifests"] == 1
    assert results["events"] == 1
    transitions = results["transitions"]
    assert transitions["total"] > 0
    assert transitions["Map iterations"] > 0
    assert transitions["job-status tracker executions"] > 0
    assert results["handler_invocations"]["SplitBatchInput"] >= 1
    assert results["handler_invocations"]["CollectBatchResults"] == 1
    assert "| state transitions, total" in (tmp_path / "batch-run.md").read_text()
