"""Smoke test: the benchmark command runs end to end with N = 1 (so it cannot rot).

It checks that figures come out and have the expected shape; it asserts no time."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import ROOT


def test_bench_command_runs_with_n_1(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    results = bench.main(["--n", "1", "--runs", "1", "--out", str(tmp_path)])

    ours, naive = results["stacks"]["ours-1"], results["stacks"]["naive-1"]
    assert ours["lambda_functions"] == 2  # one handler + the provider framework, whatever N
    assert ours["state_machines"] == 1
    assert naive["lambda_functions"] == 6  # handler + framework per resource
    assert results["handler"]["asset_bytes"] > 0
    assert results["handler"]["import_handler_ms"] > 0
    assert results["handler"]["create_peak_kib"] > 0
    assert json.loads((tmp_path / "results.json").read_text())["stacks"]["ours-1"] == ours
    assert "## Handler footprint" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "polling-results.md").exists()
