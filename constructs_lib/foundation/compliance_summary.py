"""One line per cdk-nag pack from a synthesized app's ``validation-report.json``.

``add_compliance_checks`` makes CDK write ``<outdir>/validation-report.json`` at every synth
(tens of kilobytes: each acknowledged finding with its reason and construct path). This module
reads it back as one line per pack: its conclusion, its violations and its acknowledged
findings counted per rule. Standard library only, so it also runs where aws_cdk is not
installed::

    python -m constructs_lib.foundation.compliance_summary cdk.out/validation-report.json

It exits 1 when a pack reports a violation or did not conclude ``success``, and 2 when the file
is missing or not a report.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# cdk-nag's granular rules carry what they apply to in brackets, e.g.
# "AwsSolutions-IAM5[Resource::arn:...]"; the line counts them under the rule itself.
_GRANULAR_SUFFIX = re.compile(r"\[.*\]$")


def pack_lines(report: Mapping[str, Any]) -> list[str]:
    """The summary lines of a parsed report, one per plugin (pack), in the report's order."""
    lines = []
    for plugin in report.get("pluginReports", []):
        violations = plugin.get("violations") or []
        acknowledged = plugin.get("suppressedViolations") or []
        rules = Counter(_GRANULAR_SUFFIX.sub("", str(f.get("ruleName", "?"))) for f in acknowledged)
        by_rule = ", ".join(f"{rule} x{count}" for rule, count in sorted(rules.items()))
        lines.append(
            f"cdk-nag {plugin.get('pluginName', '?')}: {plugin.get('conclusion', '?')}, "
            f"{len(violations)} violation(s), {len(acknowledged)} finding(s) acknowledged"
            + (f" ({by_rule})" if by_rule else "")
        )
    return lines


def passed(report: Mapping[str, Any]) -> bool:
    """Whether every pack concluded ``success`` with no violation (and there is one at least)."""
    plugins = report.get("pluginReports", [])
    return bool(plugins) and all(
        p.get("conclusion") == "success" and not p.get("violations") for p in plugins
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0] if args else "cdk.out/validation-report.json")
    if path.is_dir():
        path = path / "validation-report.json"
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(
            f"{path}: no validation report ({error}); synthesize an app that calls "
            "add_compliance_checks(app) first",
            file=sys.stderr,
        )
        return 2
    if not isinstance(report, dict) or "pluginReports" not in report:
        print(f"{path}: not a CDK validation report (no 'pluginReports')", file=sys.stderr)
        return 2
    for line in pack_lines(report):
        print(line)
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main())
