"""Every configuration of the library's two state machines, synthesized once per session.

The job-status tracker (Bedrock events on or off) and the audience-generation workflow (manual
only; S3-triggered with exports; with a Bedrock step; in a collaboration) differ in the states
their definitions hold. The path-coverage gate (``tests/sfn_coverage.py``) and the definition
linters (``tests/checks/test_definition_lint.py``) read them all from here, so a state that
exists in only one configuration is still expected to be covered and linted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    AudienceModel,
    AudienceSizeType,
    BatchInferenceWorkflow,
    BatchLimits,
    CleanRoomsMlServiceRole,
    JobStatusTracker,
    SeedAudienceBucket,
)
from tests.conftest import synth_stack
from tests.sfn_support import definition_of, machine_name_of

CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
DATASET_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:training-dataset/d-1"
SEED_ROLE_ARN = "arn:aws:iam::123456789012:role/SeedRole"
COLLABORATION = "0f8fad5b-d9cb-469f-a165-70867728950e"
MEMBERSHIP = "5a6b7c8d-1111-2222-3333-444455556666"
#: A configured model of the model owner's account, associated with the collaboration.
OTHER_ACCOUNT_CAM_ARN = (
    "arn:aws:cleanrooms-ml:us-east-1:444455556666:configured-audience-model/owner-1"
)

#: The two families of state machines, told apart by their names.
TRACKER = "job-status tracker"
WORKFLOW = "audience-generation workflow"
BATCH = "batch inference workflow"


@dataclass(frozen=True)
class Configuration:
    """One synthesized configuration: resolved definitions by family, and the template."""

    name: str
    definitions: dict[str, str]
    names: dict[str, str]
    template: dict[str, Any]


def fast_tracker(stack: cdk.Stack) -> None:
    """The stack's tracker polling every second: jobs that end at the first poll never wait,
    others wait one second per poll."""
    JobStatusTracker(
        stack,
        "JobStatusTracker",
        initial_interval=cdk.Duration.seconds(1),
        max_interval=cdk.Duration.seconds(1),
        timeout=cdk.Duration.hours(1),
    )


def _tracker_only(bedrock_events: bool) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        JobStatusTracker(stack, "JobStatusTracker", bedrock_events=bedrock_events)
        AudienceModel(stack, "Model", training_dataset=DATASET_ARN)

    return build


def scratch_batch_workflow(stack: cdk.Stack, **props: Any) -> BatchInferenceWorkflow:
    """A batch inference workflow (``Batch``) over a new bucket of its own (``Data``), for tests
    that only construct and synthesize; ``props`` override its defaults."""
    bucket = cdk.aws_s3.Bucket(stack, "Data", event_bridge_enabled=True)
    return BatchInferenceWorkflow(
        stack, "Batch", model_id="anthropic.claude-3-haiku-20240307-v1:0", bucket=bucket, **props
    )


def bedrock_step(
    stack: cdk.Stack, seeds: SeedAudienceBucket, key: AudienceEncryptionKey, **props: Any
) -> BatchInferenceWorkflow:
    """The Bedrock step of the test workflows: a batch inference workflow (``Batch``, 10 to 100
    records a job) over the seed bucket, started by the audience runs (not on upload)."""
    return BatchInferenceWorkflow(
        stack,
        "Batch",
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        bucket=seeds,
        output_encryption_key=key,
        limits=BatchLimits(min_records_per_job=10, max_records_per_job=100),
        trigger_on_upload=False,
        **props,
    )


def _workflow(
    *, s3: bool, exports: bool, bedrock: bool, collaboration: bool
) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        # in a collaboration: SQL seeds run as this account's membership, against the
        # configured model of the other member's account
        role = CleanRoomsMlServiceRole(
            stack,
            "SeedRole",
            seed_bucket=seeds.bucket,
            seed_prefix="seeds/",
            encryption_key=key,
            sql_seed_membership=MEMBERSHIP if collaboration else None,
        )
        batch = bedrock_step(stack, seeds, key) if bedrock else None
        AudienceGenerationWorkflow(
            stack,
            "Workflow",
            configured_audience_model=OTHER_ACCOUNT_CAM_ARN if collaboration else CAM_ARN,
            seed_role=role,
            seed_bucket=seeds if s3 else None,
            collaboration_id=COLLABORATION if collaboration else None,
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)] if exports else (),
            batch_inference=batch,
        )

    return build


def batch_workflow_of(
    *, min_records: int, max_records: int, in_flight: int, attempts: int = 3
) -> Callable[[cdk.Stack], None]:
    """A batch inference workflow with these limits, beside a tracker polling every second."""

    def build(stack: cdk.Stack) -> None:
        fast_tracker(stack)
        key = AudienceEncryptionKey(stack, "Key")
        bucket = SeedAudienceBucket(stack, "Data", encryption_key=key)
        BatchInferenceWorkflow(
            stack,
            "Batch",
            model_id="anthropic.claude-3-haiku-20240307-v1:0",
            bucket=bucket,
            output_encryption_key=key,
            limits=BatchLimits(min_records_per_job=min_records, max_records_per_job=max_records),
            max_jobs_in_flight=in_flight,
            max_attempts=attempts,
        )

    return build


#: A batch inference workflow: 100 records per job, 10 jobs in flight, 2 attempts.
batch_workflow = batch_workflow_of(min_records=10, max_records=100, in_flight=10, attempts=2)


#: name -> how the stack is built.
BUILDS: dict[str, Callable[[cdk.Stack], None]] = {
    "tracker, Bedrock events on": _tracker_only(True),
    "tracker, Bedrock events off": _tracker_only(False),
    "workflow, manual only": _workflow(s3=False, exports=False, bedrock=False, collaboration=False),
    "workflow, S3 trigger + exports": _workflow(
        s3=True, exports=True, bedrock=False, collaboration=False
    ),
    "workflow, S3 trigger + exports + Bedrock": _workflow(
        s3=True, exports=True, bedrock=True, collaboration=False
    ),
    "workflow, collaboration + Bedrock": _workflow(
        s3=False, exports=False, bedrock=True, collaboration=True
    ),
    "batch inference workflow": batch_workflow,
}


def family_of(definition: str | dict[str, Any]) -> str | None:
    """Which of the library's state machines ``definition`` is (None: neither)."""
    states = (json.loads(definition) if isinstance(definition, str) else definition)["States"]
    if "RouteByKind" in states:
        return TRACKER
    if "SeedFileNotification" in states:
        return WORKFLOW
    if "InputNotification" in states:
        return BATCH
    return None


def synthesize_all(outdir: Path) -> list[Configuration]:
    """Synthesize every configuration (through the cdk-nag gate) under ``outdir``."""
    found = []
    for index, (name, build) in enumerate(BUILDS.items()):
        template = synth_stack(outdir / f"c{index}", build).raw
        definitions: dict[str, str] = {}
        names: dict[str, str] = {}
        for family, contains in (
            (TRACKER, "-job-status"),
            (WORKFLOW, "Workflow"),
            (BATCH, "Batch"),
        ):
            machines = [
                r
                for r in template["Resources"].values()
                if r["Type"] == "AWS::StepFunctions::StateMachine"
                and contains in r["Properties"]["StateMachineName"]
            ]
            if machines:
                definitions[family] = definition_of(template, contains)
                names[family] = machine_name_of(template, contains)
        found.append(Configuration(name, definitions, names, template))
    return found
