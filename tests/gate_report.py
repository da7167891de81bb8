"""Figures the quality gates print at the end of ``make test``.

A test (in any xdist worker) calls ``report(section, lines)``; the ``tests.sfn_coverage`` plugin
prints every section in pytest's terminal summary of the main process. The files live in
``.gate-report/`` at the repository root, emptied when a session starts.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

REPORT_DIR = Path(__file__).resolve().parent.parent / ".gate-report"


def report(section: str, lines: list[str]) -> None:
    """Record ``lines`` under ``section`` (a later call for the same section replaces them)."""
    REPORT_DIR.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
    (REPORT_DIR / f"{slug}.json").write_text(
        json.dumps({"section": section, "lines": lines, "pid": os.getpid()})
    )


def sections() -> list[tuple[str, list[str]]]:
    """Every recorded section, by name."""
    if not REPORT_DIR.is_dir():
        return []
    found = [json.loads(p.read_text()) for p in sorted(REPORT_DIR.glob("*.json"))]
    return [(f["section"], f["lines"]) for f in found]
