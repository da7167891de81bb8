"""Smoke test: the polling benchmark runs and its figures hold the design's targets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import ROOT


def test_polling_bench_runs_and_backoff_beats_fixed_polls(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("polling_bench", ROOT / "bench" / "polling.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    results = bench.main([24], out_dir=tmp_path)

    default = results["backoff 30 s x2 -> 5 min (default)"]["24h"]
    assert default["status_calls"] < 300  # the job-status issue's target for a 24 h job
    assert default["detection_delay_max_s"] <= 300  # end detected within 5 minutes
    assert default["status_calls"] < results["fixed 30 s"]["24h"]["status_calls"] / 5
    events_on = results["bedrock, events on (35 min fallback poll)"]["24h"]
    assert events_on["status_calls"] <= 48  # the Bedrock issue's target with events
    lost = results["bedrock, event lost (35 min fallback poll)"]["24h"]
    assert lost["detection_delay_max_s"] < 2100  # a lost event costs one fallback interval
    assert json.loads((tmp_path / "polling-results.json").read_text()) == results
    assert "| fixed 5 s | 24h |" in (tmp_path / "polling-results.md").read_text()
