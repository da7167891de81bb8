"""How long does `audiences --help` take to start?

Measures the median wall time of `python -m constructs_lib.cli --help` (what the `audiences`
console script runs) in a fresh process, over N runs after one warm-up run, and checks what the
process imported: the CLI must not import aws_cdk, constructs or jsii (no jsii runtime, no
Node), nor botocore before a command needs AWS. The goal is under half a second. Writes
bench/cli-startup.md and bench/cli-startup.json.

Usage: .venv/bin/python bench/cli_startup.py [runs]
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.5
COMMAND = [sys.executable, "-m", "constructs_lib.cli", "--help"]
#: Modules the start-up must not load.
FORBIDDEN = ("aws_cdk", "constructs", "jsii", "botocore")
#: Prints the modules `--help` loaded, run in the same kind of fresh process.
PROBE = (
    "import sys, contextlib, io\n"
    "from constructs_lib.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try:\n"
    "        main(['--help'])\n"
    "    except SystemExit:\n"
    "        pass\n"
    "print('\\n'.join(sorted(sys.modules)))\n"
)


def _once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def _loaded() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def measure(runs: int) -> dict[str, Any]:
    """The timings of ``runs`` fresh `--help` processes and what one of them imported."""
    _once(COMMAND)  # warm-up: byte-code compiled, files in the page cache
    times = [_once(COMMAND) for _ in range(runs)]
    bare = [_once([sys.executable, "-c", "pass"]) for _ in range(runs)]
    loaded = _loaded()
    forbidden = sorted({name.split(".")[0] for name in loaded if name.split(".")[0] in FORBIDDEN})
    return {
        "command": "python -m constructs_lib.cli --help",
        "runs": runs,
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "python_startup_s": round(statistics.median(bare), 4),
        "goal_s": GOAL_SECONDS,
        "meets_goal": statistics.median(times) < GOAL_SECONDS,
        "modules_loaded": len(loaded),
        "forbidden_loaded": forbidden,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def report(result: dict[str, Any]) -> str:
    forbidden = ", ".join(result["forbidden_loaded"]) or "none"
    verdict = "meets" if result["meets_goal"] else "MISSES"
    return "\n".join(
        [
            "# CLI start-up: measured",
            "",
            f"`{result['command']}` in a fresh process, {result['runs']} runs after one warm-up "
            "(`bench/cli_startup.py`).",
            "",
            "| median s | min s | max s | bare `python -c pass` median s | goal s |",
            "| ---: | ---: | ---: | ---: | ---: |",
            f"| {result['median_s']:.3f} | {result['min_s']:.3f} | {result['max_s']:.3f} | "
            f"{result['python_startup_s']:.3f} | {result['goal_s']:.1f} |",
            "",
            f"The median {verdict} the goal of {result['goal_s']:.1f} s. Modules loaded by "
            f"`--help`: {result['modules_loaded']}; of aws_cdk, constructs, jsii and botocore: "
            f"{forbidden}. Python {result['python']} on {result['machine']}.",
            "",
        ]
    )


def main(argv: list[str]) -> int:
    runs = int(argv[1]) if len(argv) > 1 else 20
    result = measure(runs)
    (ROOT / "bench" / "cli-startup.json").write_text(json.dumps(result, indent=2) + "\n")
    (ROOT / "bench" / "cli-startup.md").write_text(report(result))
    print(report(result))
    return 0 if result["meets_goal"] and not result["forbidden_loaded"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
