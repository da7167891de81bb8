"""The benchmark command: scale, synth time, polling cost and handler footprint, measured in one
run and written to ``bench/results.md`` and ``bench/results.json``.

    .venv/bin/python bench/run.py                  # N = 1, 10, 50; 5 synth runs each
    .venv/bin/python bench/run.py --n 1 --runs 1 --out /tmp/bench   # the smoke test's run

Every synthesis runs in a fresh process (jsii start-up included, as `cdk synth` pays it). Figures
are counts or ratios measured in the same run; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LAMBDA = ROOT / "lambda"


def _env() -> dict[str, str]:
    node_bin = ROOT / "node_modules" / ".bin"
    return {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"}


def synth(kind: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as outdir:
        result = subprocess.run(
            [sys.executable, str(BENCH / "stacks.py"), kind, str(n), outdir],
            capture_output=True,
            text=True,
            check=True,
            env=_env(),
        )
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def scale_and_synth(sizes: list[int], runs: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for kind in ("ours", "naive"):
        for n in sizes:
            samples = [synth(kind, n) for _ in range(runs)]
            row = {k: v for k, v in samples[0].items() if k != "synth_seconds"}
            row["synth_seconds_median"] = round(
                statistics.median(s["synth_seconds"] for s in samples), 3
            )
            row["synth_runs"] = runs
            rows[f"{kind}-{n}"] = row
    ratios: dict[str, Any] = {}
    low, high = min(sizes), max(sizes)
    for kind in ("ours", "naive"):
        ratios[f"{kind} synth N={high} / N={low}"] = round(
            rows[f"{kind}-{high}"]["synth_seconds_median"]
            / rows[f"{kind}-{low}"]["synth_seconds_median"],
            2,
        )
    for n in sizes:
        ratios[f"ours / naive synth at N={n}"] = round(
            rows[f"ours-{n}"]["synth_seconds_median"] / rows[f"naive-{n}"]["synth_seconds_median"],
            2,
        )
    return {"stacks": rows, "ratios": ratios}


def handler_footprint() -> dict[str, Any]:
    files = [
        p
        for p in LAMBDA.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".mypy_cache" not in p.parts
    ]
    raw = sum(p.stat().st_size for p in files)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "asset.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                zf.write(p, p.relative_to(LAMBDA))
        zipped = archive.stat().st_size
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import handler"],
        cwd=LAMBDA,
        capture_output=True,
        text=True,
        check=True,
    )
    cumulative_us = 0
    for line in imports.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "handler":
            cumulative_us = int(parts[1])
    memory = subprocess.run(
        [sys.executable, str(BENCH / "handler_memory.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    return {
        "asset_files": len(files),
        "asset_bytes": raw,
        "asset_zip_bytes": zipped,
        "import_handler_ms": round(cumulative_us / 1000, 1),
        **json.loads(memory.stdout.strip().splitlines()[-1]),
    }


def polling(out: Path) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    import polling as polling_bench

    results: dict[str, Any] = polling_bench.main([1, 6, 24], out_dir=out)
    return results


def write(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    stacks = results["stacks"]
    lines = [
        "# Benchmark results",
        "",
        "Reproduce: `.venv/bin/python bench/run.py` (after `make test` or `make synth` set up the "
        "environment). Each synthesis runs in a fresh process; times are medians of "
        f"{next(iter(stacks.values()))['synth_runs']} runs on this machine.",
        "",
        "## Scale of a stack (N audience models + configured models + generation jobs)",
        "",
        "| stack | N | resources | Lambda functions | IAM roles | state machines | template KB "
        "| synth s (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in stacks.values():
        lines.append(
            f"| {row['kind']} | {row['n']} | {row['resources']} | "
            f"{row['lambda_functions']} | {row['iam_roles']} | {row['state_machines']} | "
            f"{row['template_bytes'] / 1024:.0f} | {row['synth_seconds_median']} |"
        )
    lines += [
        "",
        "Naive = one `custom_resources.Provider` (framework Lambda + role) and one "
        "handler Lambda per resource. CloudFormation's limit is 500 resources per stack.",
        "",
        "| ratio | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {value} |" for name, value in results["ratios"].items()]
    footprint = results["handler"]
    lines += [
        "",
        "## Handler footprint",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| asset files | {footprint['asset_files']} |",
        f"| asset bytes (models included) | {footprint['asset_bytes']:,} |",
        f"| asset zip bytes | {footprint['asset_zip_bytes']:,} |",
        f"| `import handler` (python -X importtime, cumulative) | "
        f"{footprint['import_handler_ms']} ms |",
        f"| peak Python memory of one create (tracemalloc, stubbed client) | "
        f"{footprint['create_peak_kib']} KiB |",
        f"| process max RSS after that create | {footprint['process_max_rss_mib']} MiB |",
        "",
        "## Polling cost",
        "",
        "See [polling-results.md](polling-results.md) (written by the same run).",
    ]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=BENCH)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = scale_and_synth(sorted(args.n), args.runs)
    results["handler"] = handler_footprint()
    results["polling"] = polling(args.out)
    write(results, args.out)
    return results


if __name__ == "__main__":
    main()
