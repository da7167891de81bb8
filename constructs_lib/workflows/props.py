"""What an ``AudienceGenerationWorkflow`` is configured with, the names its runs end with, and the
synth-time checks of its properties (plain functions, so each reads on its own)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from constructs import Construct

from .._internal import defaults
from .._internal.custom_resource import RoleLike, check_role_trusts, role_arn_of
from .._internal.validation import (
    ConstructValidationError,
    check_api_value,
    check_int_range,
    check_prefix,
    fail,
    is_unresolved,
    seconds_of,
)
from ..cleanrooms_ml.configured_audience_model import AudienceSizeType

if TYPE_CHECKING:
    from .batch_inference_workflow import BatchInferenceWorkflow

#: EventBridge ``source`` and ``detail-type`` of the event every workflow execution ends with.
WORKFLOW_EVENT_SOURCE = "cleanrooms-ml-cdk.audience-generation"
WORKFLOW_EVENT_DETAIL_TYPE = "Audience Generation Workflow Finished"

#: Workflow outcomes besides the tracker's (SUCCEEDED, FAILED, TIMED_OUT, UNKNOWN_STATUS,
#: CALL_FAILED): the input was rejected before any call.
INVALID_INPUT = "INVALID_INPUT"
#: Outcomes that end a run in success: SUCCEEDED, and SUCCEEDED_WITH_WARNINGS when the Bedrock
#: step's batch run had partial results (some records or shards failed; its end event says how
#: many).
SUCCESSES = ("SUCCEEDED", "SUCCEEDED_WITH_WARNINGS")

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


def check_generation_props(
    scope: Construct,
    *,
    model_arn: str,
    seed_role: RoleLike,
    job_name_prefix: str,
    seed_prefix: str,
    collaboration_id: str | None,
    description: str | None,
    export_sizes: Sequence[AudienceExportSize],
    max_concurrent_exports: int,
    model_sizes: tuple[AudienceSizeType, Sequence[int]] | None = None,
) -> None:
    """Check the generation and export properties against the service models and quotas; an
    error names ``scope``'s path, the property, the value and the rule.

    :param model_sizes: the configured model's size type and bins, when known at synth time.
    """
    operation = "StartAudienceGenerationJob"
    arns: tuple[tuple[str, str, str], ...] = (
        ("configured_audience_model", "configuredAudienceModelArn", model_arn),
        ("seed_role", "seedAudience.roleArn", role_arn_of(seed_role)),
    )
    for prop, member, arn in arns:
        check_api_value(
            scope, prop, arn, service="cleanroomsml", operation=operation, member=member
        )
    check_role_trusts(scope, "seed_role", seed_role, defaults.CLEAN_ROOMS_ML_PRINCIPAL)
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
    check_prefix(scope, "seed_prefix", seed_prefix)
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
    if model_sizes is not None:
        check_export_sizes_match(scope, export_sizes, *model_sizes)
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


#: The longest job name Clean Rooms ML takes (``NameString``, 1-63 characters), and what a
#: run adds to the prefix: ``-`` and 16 hexadecimal digits of the execution name's hash
#: (``lambda/workflow_input.py``, ``_with_defaults``).
_NAME_MAX = 63
_SAMPLE_SUFFIX = "-" + "0" * 16


def model_sizes_of(
    configured_audience_model: object,
) -> tuple[AudienceSizeType, list[int]] | None:
    """The size type and bins of a configured model built in this app (None when unknown: an
    ARN, an imported model, or bins that are tokens)."""
    config = getattr(configured_audience_model, "audience_size_config", None)
    if config is None or is_unresolved(list(config.audience_size_bins)):
        return None
    return config.audience_size_type, list(config.audience_size_bins)


def check_export_sizes_match(
    scope: Construct,
    export_sizes: Sequence[AudienceExportSize],
    size_type: AudienceSizeType,
    bins: Sequence[int],
) -> None:
    """Each export size must be one of the configured model's sizes: "The size of the generated
    audience. Must match one of the sizes in the configured audience model."
    (StartAudienceExportJob, audienceSize, https://docs.aws.amazon.com/cleanrooms-ml/latest/
    APIReference/API_StartAudienceExportJob.html)."""
    for index, size in enumerate(export_sizes):
        if is_unresolved(size.value) or (size.type is size_type and size.value in bins):
            continue
        raise fail(
            scope,
            f"export_sizes[{index}]",
            f"{size.type.value} {size.value}",
            f"must be one of the configured audience model's sizes ({size_type.value} "
            f"{list(bins)}): Clean Rooms ML exports an audience only in those",
        )


def check_job_names(
    scope: Construct,
    *,
    job_name_prefix: str,
    export_sizes: Sequence[AudienceExportSize],
) -> None:
    """Check ``job_name_prefix`` against every name a run builds from it: the generation job's
    name and each export job's name, so a prefix that would fail hours into a run fails at
    synth."""
    if is_unresolved(job_name_prefix) or not isinstance(job_name_prefix, str):
        return
    name = job_name_prefix + _SAMPLE_SUFFIX
    built: list[tuple[str, str, str]] = [
        ("generation job name", name, "StartAudienceGenerationJob")
    ]
    for size in export_sizes:
        suffix = f"-{size.type.value.lower()}-{size.value}"
        export = name[: _NAME_MAX - len(suffix)] + suffix
        built.append(("export job name", export, "StartAudienceExportJob"))
    for what, value, operation in built:
        try:
            check_api_value(
                scope,
                "job_name_prefix",
                value,
                service="cleanroomsml",
                operation=operation,
                member="name",
            )
        except ConstructValidationError as error:
            raise fail(
                scope,
                "job_name_prefix",
                job_name_prefix,
                f"a run builds the {what} {value!r} from it, which {error.rule}",
            ) from None


#: The characters a state machine name may hold, as CDK checks them before Step Functions
#: ("CreateStateMachine", name: no whitespace, brackets, wildcards or special characters,
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html).
_STATE_MACHINE_NAME = re.compile(r"[a-zA-Z0-9+!@.()=_'-]{1,80}")


def check_state_machine_name(scope: Construct, name: str) -> None:
    if not is_unresolved(name) and _STATE_MACHINE_NAME.fullmatch(name) is None:
        raise fail(
            scope,
            "state_machine_name",
            name,
            "must be 1-80 letters, digits or + ! @ . ( ) = _ ' - (no spaces)",
        )


def check_no_substitution(scope: Construct, fields: Sequence[tuple[str, object]]) -> None:
    """Text that lands in the state machine's definition must not hold ``${``: CloudFormation
    tooling reads it as a substitution there (cfn-lint E1029)."""
    for prop, value in fields:
        if isinstance(value, Mapping):
            check_no_substitution(scope, [(f"{prop}[{k!r}]", v) for k, v in value.items()])
        elif isinstance(value, (list, tuple)):
            check_no_substitution(scope, [(f"{prop}[{i}]", v) for i, v in enumerate(value)])
        elif isinstance(value, str) and not is_unresolved(value) and "${" in value:
            raise fail(scope, prop, value, "must not contain '${' (it lands in the definition)")


def check_durations(
    scope: Construct,
    timeout: Duration | None,
    quota_wait: Duration | None,
    default_timeout: Duration | None = None,
) -> tuple[int, int]:
    """A run's limit (1 h-1 year; default ``default_timeout``, else 10 days) and its average
    wait for quota (1 minute to that limit; default 12 hours), in seconds."""
    overall = seconds_of(scope, "timeout", timeout or default_timeout or Duration.days(10))
    check_int_range(scope, "timeout (seconds)", overall, minimum=3600, maximum=365 * 86400)
    # the default wait is 12 hours, or the run's whole timeout when that is shorter
    wait = (
        seconds_of(scope, "quota_wait", quota_wait)
        if quota_wait is not None
        else min(12 * 3600, overall)
    )
    check_int_range(scope, "quota_wait (seconds)", wait, minimum=60, maximum=overall)
    return overall, wait


def check_batch_workflow(scope: Construct, workflow: BatchInferenceWorkflow) -> None:
    """A batch workflow the audience workflow starts must not also start on upload: each
    run's input lands under its input location, so both would run it (twice the cost)."""
    if workflow.trigger_on_upload:
        raise fail(
            scope,
            "batch_inference",
            workflow.node.path,
            "must be a BatchInferenceWorkflow created with trigger_on_upload=False: every "
            "audience run's Bedrock input lands under its input location "
            f"({workflow.input_s3_uri}), so a workflow that also starts on upload would run "
            "each input twice",
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
    batch: Mapping[str, str] | None,
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
    if batch is not None:
        settings["batch"] = dict(batch)
    return settings
