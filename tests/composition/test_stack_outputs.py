"""Stack outputs: one format (key ``<path><kind>``, description ``cleanrooms-ml-cdk:<kind>:<path>``)
for the pipeline, the workflow on its own and the tracker, which the ``audiences`` command reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    AudienceGenerationWorkflow,
    ColumnType,
    GlueTrainingTable,
    JobStatusTracker,
    LookalikeAudiencePipeline,
    SeedAudienceBucket,
    TrainingData,
    TrainingDataColumn,
)
from constructs_lib._internal.outputs import OUTPUT_KINDS, OUTPUT_MARKER
from tests.conftest import synth_stack

CAM = "arn:aws:cleanrooms-ml:us-east-1:111122223333:configured-audience-model/c-1"
MEMBERSHIP = "0f8fad5b-d9cb-469f-a165-70867728950e"
DESCRIPTION = re.compile(rf"^{OUTPUT_MARKER}:(?P<kind>[A-Za-z]+):(?P<path>.+)$")


def _ours(template: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Output key -> (kind, path) of the outputs the library published."""
    found = {}
    for key, output in template.get("Outputs", {}).items():
        match = DESCRIPTION.match(output.get("Description", ""))
        if match:
            found[key] = (match["kind"], match["path"])
    return found


def _pipeline(
    stack: cdk.Stack, parent: Any = None, collaboration: str | None = None
) -> LookalikeAudiencePipeline:
    table = GlueTrainingTable(
        "ads",
        "interactions",
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "my-interactions"),
    )
    return LookalikeAudiencePipeline(
        parent or stack,
        "Lookalikes",
        training_data=TrainingData(
            table,
            [
                TrainingDataColumn("user_id", ColumnType.USER_ID),
                TrainingDataColumn("item_id", ColumnType.ITEM_ID),
                TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
            ],
        ),
        collaboration=collaboration,
    )


def test_a_pipeline_publishes_every_kind_under_its_own_path(tmp_path: Path) -> None:
    # GIVEN a pipeline one level down in a stack, its model associated with a collaboration
    def build(stack: cdk.Stack) -> None:
        _pipeline(stack, cdk.Resource(stack, "Team-A"), MEMBERSHIP)

    # WHEN synthesized
    synthesized = synth_stack(tmp_path, build)
    ours = _ours(synthesized.raw)
    # THEN each kind (no Bedrock step: no batch output) is keyed by the path, letters and
    # digits only, and described with the path as written; the workflow inside publishes none
    expected_kinds = [k for k in OUTPUT_KINDS if k != "BatchOutputLocation"]
    pipeline = {k: v for k, v in ours.items() if v[1] == "Team-A/Lookalikes"}
    assert sorted(pipeline) == sorted(f"TeamALookalikes{k}" for k in expected_kinds)
    assert {v[0] for v in pipeline.values()} == set(expected_kinds)
    assert not [v for v in ours.values() if "Workflow" in v[1]]
    outputs = synthesized.raw["Outputs"]
    seed = outputs["TeamALookalikesSeedLocation"]["Value"]["Fn::Join"][1]
    assert seed[0] == "s3://"
    assert seed[-1] == "/seeds/"
    dashboard = str(outputs["TeamALookalikesDashboardUrl"]["Value"])
    assert "console.aws.amazon.com/cloudwatch/home" in dashboard
    assert "#dashboards:name=" in dashboard
    # AND the stack's tracker publishes its own ARN under its path
    assert ours["JobStatusTrackerJobStatusStateMachineArn"] == (
        "JobStatusStateMachineArn",
        "JobStatusTracker",
    )


def test_a_workflow_on_its_own_publishes_its_outputs(tmp_path: Path) -> None:
    # GIVEN a workflow with a seed bucket, outside any pipeline
    def build(stack: cdk.Stack) -> None:
        seeds = SeedAudienceBucket(stack, "Seeds")
        role = iam.Role.from_role_arn(
            stack, "SeedRole", "arn:aws:iam::111122223333:role/seed-reader", mutable=False
        )
        AudienceGenerationWorkflow(
            stack, "Weekly", configured_audience_model=CAM, seed_role=role, seed_bucket=seeds
        )

    # WHEN synthesized THEN it publishes what it knows: no model, output or dashboard
    ours = _ours(synth_stack(tmp_path, build).raw)
    assert {k: v for k, v in ours.items() if v[1] == "Weekly"} == {
        "WeeklyWorkflowArn": ("WorkflowArn", "Weekly"),
        "WeeklyJobStatusStateMachineArn": ("JobStatusStateMachineArn", "Weekly"),
        "WeeklySeedLocation": ("SeedLocation", "Weekly"),
    }


def test_outputs_can_be_turned_off(tmp_path: Path) -> None:
    # GIVEN a tracker and a pipeline with stack_outputs=False
    def build(stack: cdk.Stack) -> None:
        JobStatusTracker(stack, "JobStatusTracker", stack_outputs=False)
        pipeline = _pipeline(stack)
        assert pipeline.outputs  # on by default
        LookalikeAudiencePipeline(
            stack, "Quiet", configured_audience_model=CAM, stack_outputs=False
        )

    # WHEN synthesized THEN only the first pipeline's outputs are there
    ours = _ours(synth_stack(tmp_path, build).raw)
    assert {path for _, path in ours.values()} == {"Lookalikes"}
