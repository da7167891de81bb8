"""The template's GitHub Actions workflow: the template's own commands, one synth whose cloud
assembly is what gets diffed and deployed, OIDC, time limits, deploys from main only."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import ROOT
from tests.docs_support import fences

TEMPLATE = ROOT / "examples" / "consumer"
WORKFLOW = TEMPLATE / ".github" / "workflows" / "deploy.yml"
#: GitHub-hosted runners stop a job after 6 hours
#: (https://docs.github.com/en/actions/reference/limits#existing-system-limits).
HOSTED_JOB_LIMIT_MINUTES = 360


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _readme_commands() -> list[str]:
    [block] = [f for f in fences((TEMPLATE / "README.md").read_text()) if f.runnable]
    return [line for line in block.code.splitlines() if line.strip()]


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


def test_synth_runs_exactly_the_template_readmes_commands() -> None:
    # GIVEN the commands a user runs by hand (the README block the template test executes)
    # WHEN compared with the synth job THEN CI runs those, in that order, and nothing of this
    # repository's (no make targets)
    jobs = _workflow()["jobs"]
    assert _runs(jobs["synth"]) == _readme_commands()
    assert not [r for job in jobs.values() for r in _runs(job) if r.startswith("make")]


def test_the_synthesized_assembly_is_what_gets_diffed_and_deployed() -> None:
    jobs = _workflow()["jobs"]
    [upload] = [s for s in jobs["synth"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"].rstrip("/") == "cdk.out"
    for name, command in (("diff", "npx cdk diff --app cdk.out"), ("deploy", "npx cdk deploy")):
        job = jobs[name]
        [download] = [s for s in job["steps"] if "download-artifact" in s.get("uses", "")]
        assert download["with"] == {"name": upload["with"]["name"], "path": "cdk.out"}
        runs = _runs(job)
        # no second synth: no Python environment, no `cdk synth`, the CLI reads cdk.out
        assert runs[0] == "npm ci"
        assert not [r for r in runs if "synth" in r or "pip" in r or "venv" in r]
        [cdk] = [r for r in runs if r.startswith("npx cdk")]
        assert cdk.startswith(command)
        assert "--app cdk.out" in cdk
        steps = [s.get("uses", s.get("run")) for s in job["steps"]]
        assert steps.index(download["uses"]) < steps.index(cdk)


def test_jobs_run_in_order_and_deploy_only_from_main() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["diff"]["needs"] == "synth"
    assert jobs["deploy"]["needs"] == "diff"
    assert jobs["deploy"]["if"] == "github.ref == 'refs/heads/main' && github.event_name == 'push'"
    assert _workflow()["concurrency"]["cancel-in-progress"] is False


def test_every_job_has_a_time_limit_and_none_waits_for_training() -> None:
    # GIVEN that a first training may hold a deploy for up to 12 hours, more than a
    # GitHub-hosted job may run WHEN the jobs' limits are read
    jobs = _workflow()["jobs"]
    limits = {name: job.get("timeout-minutes") for name, job in jobs.items()}
    # THEN each has one, under the hosted limit
    assert all(isinstance(v, int) and 0 < v < HOSTED_JOB_LIMIT_MINUTES for v in limits.values())
    # AND the way around training is wired: the model ARN variable reaches the app
    assert _workflow()["env"]["AUDIENCE_MODEL_ARN"] == "${{ vars.AUDIENCE_MODEL_ARN }}"
    assert 'os.environ.get("AUDIENCE_MODEL_ARN")' in (TEMPLATE / "app.py").read_text()
    assert "from a workstation" in WORKFLOW.read_text()
