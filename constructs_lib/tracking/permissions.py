"""What the job-status state machine's role may do: read the status of the jobs it tracks,
publish outcome events, find and stop its own executions, continue as new, signal through the
handler. One managed policy (the builder ``logged_state_machine`` returns); the statements'
order is the template's."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from .._internal.service_role import ServiceRolePolicy


def grant_tracker_permissions(
    scope: IConstruct,
    permissions: ServiceRolePolicy,
    *,
    state_machine_name: str,
    state_machine_arn: str,
    event_bus: events.IEventBus,
    signal_handler: lambda_.IFunction,
) -> None:
    """Allow the tracker's state machine (named ``state_machine_name``, at
    ``state_machine_arn``) every call its definition makes, on the resources of ``scope``'s
    stack. The tasks' own grants are ignored (the role takes no policy updates)."""
    stack = Stack.of(scope)
    reason = (
        "Job ids are assigned by the service; the state machine may only read the "
        "status of this account's and region's jobs of the kinds it tracks."
    )
    for resource, action in (
        ("audience-model", "GetAudienceModel"),
        ("audience-generation-job", "GetAudienceGenerationJob"),
    ):
        permissions.allow(
            [f"cleanrooms-ml:{action}"],
            [stack.format_arn(service="cleanrooms-ml", resource=resource, resource_name="*")],
            wildcard_reason=reason,
        )
    permissions.allow(
        ["bedrock:GetModelInvocationJob"],
        [stack.format_arn(service="bedrock", resource="model-invocation-job", resource_name="*")],
        wildcard_reason=reason,
    )
    # ListAudienceExportJobs takes the audience-generation-job resource type (Service
    # Authorization Reference, "Actions, resources, and condition keys for AWS Clean Rooms
    # ML", https://docs.aws.amazon.com/service-authorization/latest/reference/
    # list_awscleanroomsml.html).
    permissions.allow(
        ["cleanrooms-ml:ListAudienceExportJobs"],
        [
            stack.format_arn(
                service="cleanrooms-ml", resource="audience-generation-job", resource_name="*"
            )
        ],
        wildcard_reason=reason,
    )
    permissions.allow(["events:PutEvents"], [event_bus.event_bus_arn])
    allow_own_executions(
        scope,
        permissions,
        state_machine_name,
        "bedrock-",
        "Bedrock jobs' polling executions of this state machine, named "
        "bedrock-<hash of the job ARN>: found and stopped when the job's end event arrives.",
    )
    # Continuing as new: start an execution of this state machine and wait for it
    # (startExecution.sync:2 needs DescribeExecution, StopExecution and its managed rule;
    # "IAM policies for Step Functions' optimized integrations", https://docs.aws.amazon.com/
    # step-functions/latest/dg/stepfunctions-iam.html).
    permissions.allow(["states:StartExecution"], [state_machine_arn])
    allow_own_executions(
        scope,
        permissions,
        state_machine_name,
        "continued-",
        "Continuations of this state machine's executions, named "
        "continued-<hash of the continued execution's ARN>.",
    )
    allow_sync_rule(scope, permissions)
    permissions.allow(["lambda:InvokeFunction"], [signal_handler.function_arn])


def allow_sync_rule(scope: IConstruct, permissions: ServiceRolePolicy) -> None:
    """The managed rule Step Functions uses to wait for a nested execution
    (``startExecution.sync:2``; "IAM policies for Step Functions' optimized integrations",
    https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html)."""
    permissions.allow(
        ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        [
            Stack.of(scope).format_arn(
                service="events",
                resource="rule",
                resource_name="StepFunctionsGetEventsForStepFunctionsExecutionRule",
            )
        ],
    )


def allow_own_executions(
    scope: IConstruct,
    permissions: ServiceRolePolicy,
    state_machine_name: str,
    name_prefix: str,
    reason: str,
) -> None:
    """Describe and stop the state machine's executions named ``<name_prefix>...``."""
    permissions.allow(
        ["states:DescribeExecution", "states:StopExecution"],
        [
            Stack.of(scope).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{state_machine_name}:{name_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        wildcard_reason=reason,
    )
