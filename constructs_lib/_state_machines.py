"""Pieces shared by the library's state machines (the job-status tracker and the workflow)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn

from ._service_role import ServiceRolePolicy

#: Error names Step Functions gives throttling and server errors of SDK integrations.
SDK_ERROR_PREFIX = {"cleanroomsml": "CleanRoomsMl", "bedrock": "Bedrock"}
TRANSIENT_ERRORS = ("ThrottlingException", "InternalServerException", "ServiceUnavailableException")


def transient_errors(service: str) -> list[str]:
    """Step Functions' names of ``service``'s throttling and server errors."""
    prefix = SDK_ERROR_PREFIX[service]
    return [f"{prefix}.{name}" for name in TRANSIENT_ERRORS] + [f"{prefix}.{prefix}Exception"]


def retry_with_jitter(task: sfn.TaskStateBase, errors: Sequence[str], attempts: int) -> None:
    """Retry ``errors`` with exponential back-off (2 s doubling, capped at 60 s) and full jitter."""
    task.add_retry(
        errors=list(errors),
        interval=Duration.seconds(2),
        backoff_rate=2,
        max_attempts=attempts,
        max_delay=Duration.seconds(60),
        jitter_strategy=sfn.JitterType.FULL,
    )


def any_of(path: str, values: Sequence[str]) -> sfn.Condition:
    """``path`` equals one of ``values``."""
    conditions = [sfn.Condition.string_equals(path, value) for value in values]
    return conditions[0] if len(conditions) == 1 else sfn.Condition.or_(*conditions)


def allow_logs_and_tracing(permissions: ServiceRolePolicy) -> None:
    """What a state machine with CloudWatch Logs logging and X-Ray tracing needs."""
    permissions.allow(
        [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        ],
        ["*"],
        wildcard_reason="CloudWatch Logs log-delivery actions for Step Functions logging "
        "support no resource-level permissions.",
    )
    permissions.allow(
        [
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
        ],
        ["*"],
        wildcard_reason="X-Ray trace actions support no resource-level permissions.",
    )
