"""The example app through every gate: cdk-nag (4 packs), cfn-lint, checkov, and the CDK CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, assert_cfn_lint_clean

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
PACKS = {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}


def _report(outdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text())
    return report


def test_example_app_passes_all_four_nag_packs(example_app: Path) -> None:
    # GIVEN the example app synthesized with the compliance gate (synthesis would have raised
    # on any unacknowledged finding) THEN every pack ran and concluded success
    reports = _report(example_app)["pluginReports"]
    assert {r["pluginName"] for r in reports} == PACKS
    for report in reports:
        assert report["conclusion"] == "success", report["pluginName"]
        assert report["violations"] == []


def test_every_acknowledgment_is_recorded_with_a_reason(example_app: Path) -> None:
    waived = [
        s for r in _report(example_app)["pluginReports"] for s in r.get("suppressedViolations", [])
    ]
    assert waived, "the report should list the acknowledged findings"
    for finding in waived:
        assert len(finding["reason"]) > 20, finding
        assert finding["acknowledgedAt"].startswith("AudiencePipeline/")


def test_cfn_lint_reports_nothing(example_app: Path) -> None:
    assert_cfn_lint_clean(example_app)


def test_checkov_fails_no_check(example_app: Path) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup` (checkov has its own venv)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(example_app),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "PYTHONWARNINGS": "ignore"},
    )
    data = json.loads(result.stdout)
    summary = data["summary"]
    assert summary["failed"] == 0, json.dumps(data["results"]["failed_checks"], indent=1)[:4000]
    assert summary["passed"] > 30
    assert summary["parsing_errors"] == 0
    # every skip comes from resource metadata with a reason
    templates = {p.name: json.loads(p.read_text()) for p in example_app.glob("*.template.json")}
    skipped_checks = data["results"].get("skipped_checks", [])
    assert {c["check_id"] for c in skipped_checks} == {
        "CKV_AWS_18",  # the access-log bucket's own access logs
        "CKV_AWS_115",  # provider framework function: concurrency bounded by the handler's
        "CKV_AWS_116",  # no DLQ for synchronously invoked custom-resource functions
        "CKV_AWS_117",  # no VPC for functions that only call AWS APIs
    }
    for skipped in skipped_checks:
        logical_id = skipped["resource"].split(".", 1)[1]
        resource = next(
            t["Resources"][logical_id] for t in templates.values() if logical_id in t["Resources"]
        )
        comments = {s["id"]: s["comment"] for s in resource["Metadata"]["checkov"]["skip"]}
        assert comments[skipped["check_id"]]
