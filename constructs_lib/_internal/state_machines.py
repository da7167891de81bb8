"""Pieces shared by the library's state machines (the job-status tracker and the workflow)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from . import defaults
from .nag import acknowledge
from .service_role import ServiceRolePolicy, trusted_service_principal

#: Error names Step Functions gives SDK integration errors: ``<prefix>.<error shape name>``
#: ("Handling errors in SDK service integrations", Step Functions developer guide,
#: https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
SDK_ERROR_PREFIX = {"cleanroomsml": "CleanRoomsMl", "bedrock": "Bedrock"}

#: Error shapes of each service's model worth retrying with a short back-off: throttling and
#: server faults. Only names the service model defines (``cleanroomsml`` defines no server-fault
#: shape; its 5xx answers arrive under the generic ``CleanRoomsMl.CleanRoomsMlException``). A
#: test reads the bundled botocore models to keep this table honest.
TRANSIENT_ERRORS: Mapping[str, tuple[str, ...]] = {
    "cleanroomsml": ("ThrottlingException",),
    "bedrock": ("ThrottlingException", "InternalServerException"),
}

#: The error shape each service answers a start call with when an account quota is full
#: (``StartAudienceGenerationJob``, ``StartAudienceExportJob``, ``CreateModelInvocationJob``; the
#: bundled botocore models define it for those operations). The quotas: "AWS Clean Rooms ML
#: quotas" (https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html:
#: 10 pending or in-progress generation jobs, 20 export jobs per account) and "Amazon Bedrock
#: endpoints and quotas" (https://docs.aws.amazon.com/general/latest/gr/bedrock.html: 20
#: submitted or in-progress batch inference jobs per base model, by default).
QUOTA_ERROR = "ServiceQuotaExceededException"

#: Quota back-off: the first retry after about a minute, doubling to at most 15 minutes, with
#: full jitter so that a burst of runs spreads its retries.
QUOTA_RETRY_INTERVAL = 60
QUOTA_RETRY_RATE = 2.0
QUOTA_RETRY_MAX_DELAY = 900


def transient_errors(service: str) -> list[str]:
    """Step Functions' names of ``service``'s throttling and server errors (and of the
    unmodelled errors Step Functions names ``<prefix>.<prefix>Exception``)."""
    prefix = SDK_ERROR_PREFIX[service]
    return [f"{prefix}.{name}" for name in TRANSIENT_ERRORS[service]] + [
        f"{prefix}.{prefix}Exception"
    ]


def quota_retry_attempts(horizon_seconds: int) -> int:
    """Retries of a start refused for quota that last, on average, ``horizon_seconds``.

    With full jitter a retry waits a uniformly random time between 0 and its nominal delay
    (60 s doubling to 900 s), so the expected wait is half the nominal one; attempts are added
    until the expected total reaches the horizon.
    """
    attempts, expected, delay = 0, 0.0, float(QUOTA_RETRY_INTERVAL)
    while expected < horizon_seconds:
        expected += delay / 2
        attempts += 1
        delay = min(QUOTA_RETRY_MAX_DELAY, delay * QUOTA_RETRY_RATE)
    return max(attempts, 1)


def retry_on_quota(task: sfn.TaskStateBase, service: str, horizon_seconds: int) -> None:
    """A start refused because the account's quota of jobs in flight is full waits for room
    (minutes, jittered) instead of failing: up to ``horizon_seconds`` on average."""
    task.add_retry(
        errors=[f"{SDK_ERROR_PREFIX[service]}.{QUOTA_ERROR}"],
        interval=Duration.seconds(QUOTA_RETRY_INTERVAL),
        backoff_rate=QUOTA_RETRY_RATE,
        max_attempts=quota_retry_attempts(horizon_seconds),
        max_delay=Duration.seconds(QUOTA_RETRY_MAX_DELAY),
        jitter_strategy=sfn.JitterType.FULL,
    )


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


#: Where ``read_nested_failure`` puts the failed nested execution's description.
NESTED_EXECUTION = "$.failure.execution"

#: ``end(suffix, error, cause)``: the state that ends with ``error`` (a literal or a JSONPath)
#: and ``cause`` (a JSONPath); ``suffix`` makes its state id unique.
EndFactory = Callable[[str, str, str], sfn.IChainable]


def read_nested_failure(
    scope: Construct,
    state_id: str,
    end: EndFactory,
    *,
    aborted: sfn.IChainable | None = None,
) -> sfn.IChainable:
    """Route a failed nested execution (``startExecution.sync:2``, error in ``$.error``).

    Step Functions fails the task with the nested execution's description as a JSON ``Cause``
    ("Start workflow executions", https://docs.aws.amazon.com/step-functions/latest/dg/
    connect-stepfunctions.html). Its ``Error`` and ``Cause`` are present only when the nested
    execution set them: an execution stopped by ``StopExecution`` with a cause and no error has
    ``Status`` ABORTED, a ``Cause`` and no ``Error``. So the stopped case is tested first, and
    an error name is read only where it is present. The member names are matched in both
    casings (the description's JSON uses the API's names; interpreters differ).

    - stopped (ABORTED): ``aborted`` when given, else ``end`` with ABORTED and the description;
    - ``Error`` and ``Cause`` present: ``end`` with them (the tracker's outcome and cause);
    - any other description: ``end`` with FAILED and the description;
    - no JSON at all (the start call itself failed): ``end`` with CALL_FAILED and the cause.
    """
    execution = NESTED_EXECUTION
    stopped = sfn.Condition.or_(
        *(
            sfn.Condition.and_(
                sfn.Condition.is_present(f"{execution}.{field}"),
                sfn.Condition.string_equals(f"{execution}.{field}", "ABORTED"),
            )
            for field in ("Status", "status")
        )
    )
    read = sfn.Choice(scope, f"{state_id}Ended")
    read.when(stopped, aborted or end("Aborted", "ABORTED", "$.error.Cause"))
    for suffix, error, cause in (("Outcome", "Error", "Cause"), ("OutcomeLower", "error", "cause")):
        read.when(
            sfn.Condition.and_(
                sfn.Condition.is_present(f"{execution}.{error}"),
                sfn.Condition.is_present(f"{execution}.{cause}"),
            ),
            end(suffix, f"{execution}.{error}", f"{execution}.{cause}"),
        )
    read.otherwise(end("OutcomeUnknown", "FAILED", "$.error.Cause"))
    return (
        sfn.Choice(scope, f"{state_id}Failed")
        .when(
            sfn.Condition.string_matches("$.error.Cause", "{*"),
            sfn.Pass(
                scope,
                f"{state_id}Failure",
                parameters={"execution.$": "States.StringToJson($.error.Cause)"},
                result_path="$.failure",
            ).next(read),
        )
        .otherwise(end("CallFailed", "CALL_FAILED", "$.error.Cause"))
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
        retention=defaults.LOG_RETENTION,
        encryption_key=logs_key,
        removal_policy=RemovalPolicy.RETAIN,
    )
    # Confused-deputy conditions on the state machine's own ARN (known from its name, so no
    # reference cycle): "Prevent cross-service confused deputy issue", https://docs.aws.amazon.com/
    # step-functions/latest/dg/procedure-create-iam-role.html.
    own_arn = Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role = iam.Role(
        scope,
        "Role",
        assumed_by=trusted_service_principal(scope, "states.amazonaws.com", [own_arn]),
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


def start_execution_rule(
    scope: Construct,
    *,
    role_description: str,
    description: str,
    event_pattern: events.EventPattern,
    state_machine: sfn.IStateMachine,
    state_machine_arn: str | None = None,
    target_input: events.RuleTargetInput | None = None,
) -> events.Rule:
    """A rule on the default bus (child ``Rule`` of ``scope``) whose matching events start an
    execution of ``state_machine``, retried by EventBridge for up to 24 hours, through its own
    role (child ``Role``): trusted by ``events.amazonaws.com`` only for that rule of this
    account ("For EventBridge event bus rule targets, the value of aws:SourceArn must be the rule
    ARN", "Cross-service confused deputy prevention in Amazon EventBridge",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html)
    and allowed ``states:StartExecution`` on ``state_machine_arn`` (default: the state
    machine's). The rule is named so that its ARN is known without a reference to it (which
    would be a cycle: rule -> role -> rule)."""
    rule_name = Names.unique_resource_name(scope, max_length=64, separator="-")
    rule_arn = Stack.of(scope).format_arn(
        service="events", resource="rule", resource_name=rule_name
    )
    role = iam.Role(
        scope,
        "Role",
        assumed_by=trusted_service_principal(scope, "events.amazonaws.com", [rule_arn]),
        description=role_description,
    )
    ServiceRolePolicy(scope, role).allow(
        ["states:StartExecution"], [state_machine_arn or state_machine.state_machine_arn]
    )
    return events.Rule(
        scope,
        "Rule",
        rule_name=rule_name,
        description=description,
        event_pattern=event_pattern,
        targets=[
            targets.SfnStateMachine(
                state_machine,
                role=role.without_policy_updates(),
                retry_attempts=20,
                max_event_age=Duration.hours(24),
                input=target_input,
            )
        ],
    )


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
