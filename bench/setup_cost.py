"""What a fresh clone pays before `make synth` synthesizes: time and disk, before and after the
split of the runtime packages from the test tools, and with uv as the installer.

For each variant it clones the repository into a temporary folder and times the commands a
user runs; package caches (pip's, npm's, uv's) are warm, as on a developer's machine after the
first install. Writes bench/setup-cost.json and bench/setup-cost.md.

Variants:
- ``before``: `make synth` at the commit before the split (it installed every test tool too);
- ``split``: `make synth` once it installed only the runtime packages, Node and the CLI, with pip;
- ``after``: `make synth` with the same packages installed by uv (the ref measured: UV_REF);
- ``pip`` and ``uv``: only the Python install of `make synth` (a venv, then requirements.txt
  under constraints.txt), with pip, and with uv (from PyPI, pinned) installed into the venv
  first, so uv's own install time is counted.

Usage: .venv/bin/python bench/setup_cost.py [--before-ref REF] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The last commit whose `make synth` installed requirements-dev.txt (everything).
BEFORE_REF = "d6f8b91"
#: The last commit whose `make synth` installed only the runtime packages, with pip.
SPLIT_REF = "de9b9af"
#: The commit whose Makefile installed with uv (measured, then reverted: docs/benchmarks.md).
UV_REF = "b60c12b"
UV_VERSION = "0.13.8"


def _megabytes(path: Path) -> int:
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def _clone(ref: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", ref], check=True)
    return into


def _timed(command: str, cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    # the caller's PATH (its Python and npm) without this checkout's environments
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT))
    )
    start = time.perf_counter()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"{command} failed in {cwd}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return elapsed


def _make_synth(ref: str, work: Path) -> dict[str, Any]:
    clone = _clone(ref, work / f"clone-{ref}")
    seconds = _timed("make synth", clone)
    return {
        "ref": ref,
        "make_synth_s": round(seconds, 1),
        "venv_mb": _megabytes(clone / ".venv"),
        "node_modules_mb": _megabytes(clone / "node_modules"),
    }


def _python_install(installer: str, work: Path) -> dict[str, Any]:
    clone = _clone("HEAD", work / f"install-{installer}")
    if installer == "pip":
        command = (
            "python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check "
            "-r requirements.txt -c constraints.txt"
        )
    else:
        command = (
            "python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check "
            f"uv=={UV_VERSION} && .venv/bin/uv pip install -q --compile-bytecode "
            "--python .venv/bin/python -r requirements.txt -c constraints.txt"
        )
    seconds = _timed(command, clone)
    frozen = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    installed = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in frozen.splitlines()
        if "==" in line
    }
    mismatched = sorted(
        name for name, version in installed.items() if name in pins and pins[name] != version
    )
    return {
        "installer": installer,
        "python_install_s": round(seconds, 1),
        "venv_mb": _megabytes(clone / ".venv"),
        "versions_not_as_pinned": mismatched,
    }


def render(results: dict[str, Any], out: Path) -> None:
    """bench/setup-cost.md from the figures (also: --render-only, from setup-cost.json)."""
    runs = results["runs"]
    before, split, after, pip, uv = (results[k] for k in ("before", "split", "after", "pip", "uv"))
    (out / "setup-cost.md").write_text(
        "# Fresh-clone set-up for `make synth`: measured\n\n"
        f"`bench/setup_cost.py`, {runs} runs each (median), {results['cores']} cores, warm "
        "package caches.\n\n"
        "| variant | `make synth` on a fresh clone | `.venv` | `node_modules` |\n"
        "| --- | ---: | ---: | ---: |\n"
        f"| before ({before['ref']}: every test tool installed) | {before['make_synth_s']} s | "
        f"{before['venv_mb']} MB | {before['node_modules_mb']} MB |\n"
        f"| split ({split['ref']}: runtime packages, Node and the CLI only; pip) | "
        f"{split['make_synth_s']} s | {split['venv_mb']} MB | {split['node_modules_mb']} MB |\n"
        f"| the same, installed by uv {UV_VERSION} (measured, not used) | "
        f"{after['make_synth_s']} s | "
        f"{after['venv_mb']} MB | {after['node_modules_mb']} MB |\n\n"
        "The Python install of `make synth` alone (venv + requirements.txt under "
        "constraints.txt):\n\n"
        "| installer | time | `.venv` | versions not as pinned |\n"
        "| --- | ---: | ---: | --- |\n"
        f"| pip | {pip['python_install_s']} s | {pip['venv_mb']} MB | "
        f"{', '.join(pip['versions_not_as_pinned']) or 'none'} |\n"
        f"| uv {UV_VERSION} (its own install counted) | {uv['python_install_s']} s | "
        f"{uv['venv_mb']} MB | {', '.join(uv['versions_not_as_pinned']) or 'none'} |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-ref", default=BEFORE_REF)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md from .json")
    args = parser.parse_args()
    if args.render_only:
        render(json.loads((ROOT / "bench" / "setup-cost.json").read_text()), ROOT / "bench")
        return
    results: dict[str, Any] = {"runs": args.runs, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, ref in (("before", args.before_ref), ("split", SPLIT_REF), ("after", UV_REF)):
            runs = []
            for run in range(args.runs):
                runs.append(_make_synth(ref, work / f"{name}{run}"))
            results[name] = {
                **runs[-1],
                "make_synth_s_runs": [r["make_synth_s"] for r in runs],
                "make_synth_s": round(statistics.median(r["make_synth_s"] for r in runs), 1),
            }
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
        for installer in ("pip", "uv"):
            runs = [_python_install(installer, work / f"{installer}{i}") for i in range(args.runs)]
            results[installer] = {
                **runs[-1],
                "python_install_s_runs": [r["python_install_s"] for r in runs],
                "python_install_s": round(
                    statistics.median(r["python_install_s"] for r in runs), 1
                ),
            }
    out = ROOT / "bench"
    (out / "setup-cost.json").write_text(json.dumps(results, indent=2) + "\n")
    render(results, out)
    print((ROOT / "bench" / "setup-cost.md").read_text())


if __name__ == "__main__":
    main()
