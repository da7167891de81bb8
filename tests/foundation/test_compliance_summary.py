"""The one-line-per-pack summary `make synth` prints from cdk-nag's validation report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib import acknowledge_finding
from constructs_lib.foundation import compliance_summary
from tests.conftest import ROOT, synth_stack

PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def _role(stack: cdk.Stack) -> iam.Role:
    role = iam.Role(stack, "Scheduler", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["states:ListStateMachines"], resources=["*"]))
    return role


def _summary(report: Path) -> subprocess.CompletedProcess[str]:
    """The module run as `make synth` runs it, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "constructs_lib.foundation.compliance_summary", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_one_line_per_pack_with_the_acknowledged_findings_counted_per_rule(
    tmp_path: Path,
) -> None:
    # GIVEN an app whose only findings (a wildcard and inline policies) are acknowledged
    def build(stack: cdk.Stack) -> None:
        role = _role(stack)
        for pack in PACKS[1:]:
            acknowledge_finding(role, f"{pack}-IAMNoInlinePolicy", "reviewed")
        acknowledge_finding(role, "AwsSolutions-IAM5[Resource::*]", "List: no resource type")

    synth_stack(tmp_path, build)
    # WHEN the summary reads the report cdk-nag wrote
    result = _summary(tmp_path / "validation-report.json")
    # THEN it prints one line per pack, in the gate's order, and exits 0
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"cdk-nag {p}" for p in PACKS]
    assert lines[0] == (
        "cdk-nag AwsSolutions: success, 0 violation(s), 1 finding(s) acknowledged "
        "(AwsSolutions-IAM5 x1)"
    )
    assert lines[1].endswith("(NIST.800.53.R5-IAMNoInlinePolicy x1)")


def test_fails_if_a_pack_reports_violations(tmp_path: Path) -> None:
    # GIVEN an app with findings nobody acknowledged: synthesis fails, the report stays
    with pytest.raises(Exception, match="IAMNoInlinePolicy"):
        synth_stack(tmp_path, _role)
    # WHEN the summary reads it
    result = _summary(tmp_path)  # a cdk.out folder works as well as the file
    # THEN the failing packs say so with their counts, and the exit code is 1
    assert result.returncode == 1
    failing = [line for line in result.stdout.splitlines() if ": failure, " in line]
    assert failing, result.stdout
    assert all(" 0 violation(s)" not in line for line in failing)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no validation report"),
        ("not json", "no validation report"),
        ('{"title": "x"}', "not a CDK validation report"),
    ],
)
def test_fails_if_there_is_no_report(tmp_path: Path, content: str | None, message: str) -> None:
    # GIVEN a missing, unreadable or foreign file
    report = tmp_path / "validation-report.json"
    if content is not None:
        report.write_text(content)
    # WHEN the summary reads it THEN it exits 2 and says what to do
    assert compliance_summary.main([str(report)]) == 2
    result = _summary(report)
    assert result.returncode == 2
    assert message in result.stderr


def test_an_empty_report_is_not_a_pass() -> None:
    # GIVEN a report in which no pack ran WHEN it is judged THEN it does not pass
    assert not compliance_summary.passed({"pluginReports": []})
    assert compliance_summary.pack_lines({"pluginReports": []}) == []


def test_the_summary_module_loads_no_aws_cdk(tmp_path: Path) -> None:
    # GIVEN a report WHEN the module summarizes it in a fresh interpreter
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"pluginReports": []}))
    probe = (
        f"import sys, runpy; sys.argv = ['x', {str(report)!r}]\n"
        "try:\n    runpy.run_module('constructs_lib.foundation.compliance_summary', "
        "run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # THEN neither aws_cdk nor jsii was imported (no Node process, no end-of-life banner)
    assert result.stdout.strip().splitlines()[-1] == "[]"
