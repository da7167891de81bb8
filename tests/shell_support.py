"""Running documented shell commands in tests: one bash per command (or block), strict mode."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_bash(command: str, cwd: Path, env: Mapping[str, str], timeout: float = 600) -> str:
    """Run ``command`` with ``bash -euo pipefail``; fail the test with its output if it fails.

    Returns stdout and stderr together (the CLI prints to both)."""
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"$ {command}\n{output[-4000:]}"
    return output
