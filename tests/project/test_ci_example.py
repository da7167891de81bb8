"""The example GitHub Actions workflow: OIDC, the job order, deploy only from main."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / "examples" / "github-actions" / "deploy.yml"


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def test_workflow_uses_oidc_and_no_stored_keys() -> None:
    workflow = _workflow()
    assert workflow["permissions"]["id-token"] == "write"
    text = WORKFLOW.read_text()
    assert "aws-access-key-id" not in text
    assert "aws-secret-access-key" not in text
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assumed = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert assumed
    assert all("role-to-assume" in s["with"] for s in assumed)


def test_workflow_runs_test_synth_diff_then_deploys_on_main_only() -> None:
    jobs = _workflow()["jobs"]
    runs = [s["run"] for s in jobs["test-and-synth"]["steps"] if "run" in s]
    assert runs == ["make test", "make synth"]  # the cdk-nag gate runs inside synth
    assert jobs["diff"]["needs"] == "test-and-synth"
    assert any("cdk diff" in s.get("run", "") for s in jobs["diff"]["steps"])
    assert jobs["deploy"]["needs"] == "diff"
    assert jobs["deploy"]["if"] == "github.ref == 'refs/heads/main' && github.event_name == 'push'"
    assert any("cdk deploy" in s.get("run", "") for s in jobs["deploy"]["steps"])


def test_workflow_uses_the_readmes_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make synth" in readme
    assert "make test" in readme
