"""What an ``AudienceGenerationWorkflow`` is configured with, the names its runs end with, and the
synth-time checks of its properties (plain functions, so each reads on its own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._internal.custom_resource import RoleLike, role_arn_of
from .._internal.validation import check_api_value, check_int_range, fail, is_unresolved
from ..bedrock.batch_inference_job import BatchVpcConfig, ModelInvocationType, S3InputFormat
from ..cleanrooms_ml.configured_audience_model import AudienceSizeType
from ..foundation.encryption_key import AudienceEncryptionKey

#: EventBridge ``source`` and ``detail-type`` of the event every workflow execution ends with.
WORKFLOW_EVENT_SOURCE = "cleanrooms-ml-cdk.audience-generation"
WORKFLOW_EVENT_DETAIL_TYPE = "Audience Generation Workflow Finished"

#: Workflow outcomes besides the tracker's (SUCCEEDED, FAILED, TIMED_OUT, UNKNOWN_STATUS,
#: CALL_FAILED): the input was rejected before any call.
INVALID_INPUT = "INVALID_INPUT"

#: AWS Clean Rooms ML quotas ("AWS Clean Rooms ML quotas", Clean Rooms user guide).
CLEAN_ROOMS_ML_QUOTAS_PAGE = (
    "https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html"
)
MAX_CONCURRENT_EXPORT_JOBS = 20
MAX_EXPORTS_PER_GENERATION_JOB = 25


@dataclass(frozen=True)
class AudienceExportSize:
    """One export of every generated audience (``StartAudienceExportJob.audienceSize``); it
    must be one of the configured audience model's size bins."""

    type: AudienceSizeType
    value: int


@dataclass(frozen=True)
class BatchInferenceStep:
    """A Bedrock batch inference job after the audience is generated and exported
    (``CreateModelInvocationJob``); one job per run, named after the generation job.

    :param model_id: foundation model id, inference profile, or custom model ARN.
    :param role: role Bedrock assumes (a ``BedrockBatchInferenceRole``, an ``iam.IRole`` or an
        ARN).
    :param input_s3_uri: ``s3://bucket/prefix/`` of the JSONL model inputs (Bedrock's record
        format, ``{"recordId", "modelInput"}``).
    :param output_s3_uri: ``s3://bucket/prefix/``; each run writes under ``<job name>/``.
    :param output_encryption_key: key for the output. Default: the bucket's default encryption.
    :param timeout_duration_in_hours: 24-168. Default: the service's default (168).
    :param model_invocation_type: ``InvokeModel`` or ``Converse``. Default: the service's.
    :param input_format: Default: ``JSONL``.
    :param vpc_config: subnets and security groups. Default: no VPC.
    :param tags: tags of every job. Default: none.
    """

    model_id: str
    role: RoleLike
    input_s3_uri: str
    output_s3_uri: str
    output_encryption_key: kms.IKey | AudienceEncryptionKey | str | None = None
    timeout_duration_in_hours: int | None = None
    model_invocation_type: ModelInvocationType | None = None
    input_format: S3InputFormat = S3InputFormat.JSONL
    vpc_config: BatchVpcConfig | None = None
    tags: Mapping[str, str] | None = None


def check_generation_props(
    scope: Construct,
    *,
    job_name_prefix: str,
    seed_prefix: str,
    collaboration_id: str | None,
    description: str | None,
    export_sizes: Sequence[AudienceExportSize],
    max_concurrent_exports: int,
) -> None:
    """Check the generation and export properties against the service models and quotas; an
    error names ``scope``'s path, the property, the value and the rule."""
    operation = "StartAudienceGenerationJob"
    if not is_unresolved(job_name_prefix) and not 1 <= len(job_name_prefix) <= 40:
        raise fail(scope, "job_name_prefix", job_name_prefix, "must have 1-40 characters")
    check_api_value(
        scope,
        "job_name_prefix",
        job_name_prefix,
        service="cleanroomsml",
        operation=operation,
        member="name",
    )
    for prop, member, value in (
        ("collaboration_id", "collaborationId", collaboration_id),
        ("description", "description", description),
    ):
        check_api_value(
            scope, prop, value, service="cleanroomsml", operation=operation, member=member
        )
    if seed_prefix.startswith("/"):
        raise fail(scope, "seed_prefix", seed_prefix, "is a key prefix: no leading '/'")
    for i, size in enumerate(export_sizes):
        check_api_value(
            scope,
            f"export_sizes[{i}].value",
            size.value,
            service="cleanroomsml",
            operation="StartAudienceExportJob",
            member="audienceSize.value",
        )
        if size.type is AudienceSizeType.PERCENTAGE and not 1 <= size.value <= 100:
            raise fail(scope, f"export_sizes[{i}].value", size.value, "a percentage must be 1-100")
    # AWS Clean Rooms ML quotas (CLEAN_ROOMS_ML_QUOTAS_PAGE): 20 pending or in-progress
    # export jobs per account, 25 active exports per audience generation job.
    if len(export_sizes) > MAX_EXPORTS_PER_GENERATION_JOB:
        raise fail(
            scope,
            "export_sizes",
            f"{len(export_sizes)} sizes",
            f"at most {MAX_EXPORTS_PER_GENERATION_JOB}: Clean Rooms ML allows "
            f"{MAX_EXPORTS_PER_GENERATION_JOB} active exports per audience generation job "
            f"({CLEAN_ROOMS_ML_QUOTAS_PAGE})",
        )
    if not 1 <= max_concurrent_exports <= MAX_CONCURRENT_EXPORT_JOBS:
        raise fail(
            scope,
            "max_concurrent_exports",
            max_concurrent_exports,
            f"must be 1-{MAX_CONCURRENT_EXPORT_JOBS}: Clean Rooms ML allows "
            f"{MAX_CONCURRENT_EXPORT_JOBS} pending or in-progress export jobs per account "
            f"({CLEAN_ROOMS_ML_QUOTAS_PAGE})",
        )


def check_durations(
    scope: Construct, timeout: Duration | None, quota_wait: Duration | None
) -> tuple[int, int]:
    """A run's limit (1 h-1 year; default 10 days) and its average wait for quota (1 minute to
    that limit; default 12 hours), in seconds."""
    overall = int((timeout or Duration.days(10)).to_seconds())
    check_int_range(scope, "timeout (seconds)", overall, minimum=3600, maximum=365 * 86400)
    wait = int((quota_wait or Duration.hours(12)).to_seconds())
    check_int_range(scope, "quota_wait (seconds)", wait, minimum=60, maximum=overall)
    return overall, wait


def check_batch_inference(scope: Construct, step: BatchInferenceStep) -> None:
    """Check the Bedrock step against ``CreateModelInvocationJob``'s service model."""
    for prop, member, value in (
        ("batch_inference.model_id", "modelId", step.model_id),
        ("batch_inference.role", "roleArn", role_arn_of(step.role)),
        (
            "batch_inference.input_s3_uri",
            "inputDataConfig.s3InputDataConfig.s3Uri",
            step.input_s3_uri,
        ),
        (
            "batch_inference.output_s3_uri",
            "outputDataConfig.s3OutputDataConfig.s3Uri",
            step.output_s3_uri,
        ),
        (
            "batch_inference.timeout_duration_in_hours",
            "timeoutDurationInHours",
            step.timeout_duration_in_hours,
        ),
    ):
        check_api_value(
            scope,
            prop,
            value,
            service="bedrock",
            operation="CreateModelInvocationJob",
            member=member,
        )


def input_check_settings(
    *,
    model_arn: str,
    seed_role_arn: str,
    job_name_prefix: str,
    include_seed_in_output: bool,
    seed_prefix: str,
    export_sizes: Sequence[AudienceExportSize],
    seed_bucket_name: str | None,
    collaboration_id: str | None,
    description: str | None,
    tags: Mapping[str, str] | None,
    batch_inference: BatchInferenceStep | None,
) -> dict[str, Any]:
    """The ``Settings`` the definition hands the input check (``lambda/workflow_input.py``):
    the defaults and limits a run's input is completed and checked with."""
    settings: dict[str, Any] = {
        "configuredAudienceModelArn": model_arn,
        "roleArn": seed_role_arn,
        "jobNamePrefix": job_name_prefix,
        "includeSeedInOutput": include_seed_in_output,
        "seedPrefix": seed_prefix,
        "exportSizes": [{"type": e.type.value, "value": e.value} for e in export_sizes],
    }
    if seed_bucket_name is not None:
        settings["seedBucket"] = seed_bucket_name
    if collaboration_id:
        settings["collaborationId"] = collaboration_id
    if description:
        settings["description"] = description
    if tags:
        settings["tags"] = dict(tags)
    if batch_inference is not None:
        settings["batch"] = {"outputS3Uri": batch_inference.output_s3_uri}
    return settings
