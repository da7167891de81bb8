"""Pieces shared by the library's state machines (the job-status tracker and the workflow)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from . import _defaults
from ._nag import acknowledge
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


def logged_state_machine(
    scope: Construct,
    *,
    name: str,
    definition: sfn.IChainable,
    timeout: Duration,
    logs_key: kms.IKey,
    role_description: str,
) -> tuple[sfn.StateMachine, logs.LogGroup, ServiceRolePolicy]:
    """A Standard state machine (child ``Resource``) with X-Ray tracing and full execution logs
    in an encrypted, retained log group (``Logs``); its role's permissions go into one managed
    policy (the returned builder), never CDK's inline default policy."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        retention=_defaults.LOG_RETENTION,
        encryption_key=logs_key,
        removal_policy=RemovalPolicy.RETAIN,
    )
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
        description=role_description,
    )
    machine = sfn.StateMachine(
        scope,
        "Resource",
        state_machine_name=name,
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
        ),
        role=role.without_policy_updates(),
    )
    permissions = ServiceRolePolicy(scope, role)
    allow_logs_and_tracing(permissions)
    machine.node.add_dependency(permissions.require_policy())
    return machine, log_group, permissions


def publish_event(
    scope: Construct,
    bus: events.IEventBus,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
) -> tasks.EventBridgePutEvents:
    """``PublishOutcome``: one event with ``detail`` (JSONPath values), retried with jitter."""
    publish = tasks.EventBridgePutEvents(
        scope,
        "PublishOutcome",
        entries=[
            tasks.EventBridgePutEventsEntry(
                event_bus=bus,
                source=source,
                detail_type=detail_type,
                detail=sfn.TaskInput.from_object(dict(detail)),
            )
        ],
        result_path=sfn.JsonPath.DISCARD,
    )
    retry_with_jitter(publish, ["EventBridge.EventBridgeException", "States.TaskFailed"], 4)
    return publish


def failure_alarm(
    scope: Construct, machine: sfn.StateMachine, description: str, *, aborted: bool
) -> cloudwatch.Alarm:
    """``FailureAlarm``: any execution of ``machine`` failed or timed out (or, with
    ``aborted``, was stopped) in 5 minutes. Without actions until users (or
    ``PipelineMonitoring``) add them."""
    period = Duration.minutes(5)
    metrics = {
        "failed": machine.metric_failed(period=period),
        "timedOut": machine.metric_timed_out(period=period),
    }
    if aborted:
        metrics["aborted"] = machine.metric_aborted(period=period)
    return any_occurrence_alarm(
        scope,
        "FailureAlarm",
        cloudwatch.MathExpression(
            expression=" + ".join(metrics), using_metrics=metrics, period=period
        ),
        description,
        "failure_alarm",
    )


def any_occurrence_alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.IMetric,
    description: str,
    exposed_as: str,
) -> cloudwatch.Alarm:
    """An alarm on any occurrence of ``metric`` in one period (no data = OK), exposed to users
    as the attribute ``exposed_as`` to add actions to."""
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    acknowledge_alarm(alarm, exposed_as)
    return alarm


def acknowledge_alarm(alarm: cloudwatch.Alarm, attribute: str) -> None:
    """The NIST/HIPAA alarm-action rules, for an alarm the library exposes without actions."""
    acknowledge(
        alarm,
        f"The alarm is exposed as `{attribute}` for users to add actions (an SNS topic, a "
        "pager; PipelineMonitoring adds its topic); the library cannot know where to send it.",
        "NIST.800.53.R5-CloudWatchAlarmAction",
        "HIPAA.Security-CloudWatchAlarmAction",
    )
