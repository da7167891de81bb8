"""The synth-time errors ``docs/validation.md`` shows under "Messages you will see", each made by
real code (``tests/checks/test_docs_messages.py`` checks the page quotes them exactly)."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    AudienceExportSize,
    AudienceGenerationWorkflow,
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    BatchInferenceWorkflow,
    ConfiguredAudienceModel,
    JobStatusTracker,
    LookalikeAudiencePipeline,
)

CAM = "arn:aws:cleanrooms-ml:us-east-1:111122223333:configured-audience-model/c-1"
ROLE = "arn:aws:iam::111122223333:role/SeedRole"


def _prefix(stack: cdk.Stack) -> None:
    LookalikeAudiencePipeline(stack, "Pipeline", configured_audience_model=CAM, seed_prefix="seeds")


def _export_size(stack: cdk.Stack) -> None:
    configured = ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model="arn:aws:cleanrooms-ml:us-east-1:111122223333:audience-model/m-1",
        output_config=AudienceOutputConfig("s3://acme-seeds/audiences/", ROLE),
        audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10000, 50000]),
    )
    AudienceGenerationWorkflow(
        stack,
        "Workflow",
        configured_audience_model=configured,
        seed_role=ROLE,
        export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 7000)],
    )


def _batch_on_upload(stack: cdk.Stack) -> None:
    batch = BatchInferenceWorkflow(
        stack,
        "Batch",
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        bucket=s3.Bucket.from_bucket_name(stack, "Data", "acme-seeds"),
    )
    AudienceGenerationWorkflow(
        stack, "Workflow", configured_audience_model=CAM, seed_role=ROLE, batch_inference=batch
    )


def _role_name(stack: cdk.Stack) -> None:
    AudienceGenerationWorkflow(
        stack, "Workflow", configured_audience_model=CAM, seed_role="SeedRole"
    )


def _wrong_role(stack: cdk.Stack) -> None:
    role = iam.Role(stack, "BedrockRole", assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com"))
    ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model="arn:aws:cleanrooms-ml:us-east-1:111122223333:audience-model/m-1",
        output_config=AudienceOutputConfig("s3://acme-seeds/audiences/", role),
    )


def _intervals(stack: cdk.Stack) -> None:
    JobStatusTracker(
        stack,
        "JobStatusTracker",
        initial_interval=cdk.Duration.minutes(10),
        max_interval=cdk.Duration.minutes(5),
    )


#: What docs/validation.md shows, in its order.
CASES: list[Callable[[cdk.Stack], None]] = [
    _prefix,
    _export_size,
    _batch_on_upload,
    _role_name,
    _wrong_role,
    _intervals,
]


def messages() -> list[str]:
    """Each case's message, built in a stack named ``Audiences``."""
    found = []
    for case in CASES:
        try:
            case(cdk.Stack(cdk.App(), "Audiences"))
        except ValueError as error:
            found.append(str(error))
        else:
            raise AssertionError(f"{case.__name__} raised nothing")
    return found
