"""The EventBridge rule that ends Bedrock batch jobs' tracking on Bedrock's own events."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal.state_machines import rule_with_role
from .kinds import BEDROCK_KIND


def bedrock_rule(scope: Construct, state_machine: sfn.IStateMachine) -> events.Rule:
    """Bedrock's batch-job end events start a short execution of ``state_machine`` (the
    ``BedrockEventPath``): ``BedrockEvents/Rule`` under ``scope``, with its own role."""
    rule_scope = Construct(scope, "BedrockEvents")
    rule_name, role, permissions = rule_with_role(
        rule_scope, "Starts the job-status state machine on Bedrock job events"
    )
    permissions.allow(["states:StartExecution"], [state_machine.state_machine_arn])
    kind = BEDROCK_KIND
    return events.Rule(
        rule_scope,
        "Rule",
        rule_name=rule_name,
        description="Bedrock batch inference job ended: conclude its tracking now",
        event_pattern=events.EventPattern(
            source=["aws.bedrock"],
            detail_type=["Batch Inference Job State Change"],
            detail={"status": [*kind.succeeded, *kind.warning, *kind.failed]},
        ),
        targets=[
            targets.SfnStateMachine(
                state_machine,
                role=role.without_policy_updates(),
                retry_attempts=20,
                max_event_age=Duration.hours(24),
                input=events.RuleTargetInput.from_object(
                    {
                        "kind": kind.name,
                        "arn": events.EventField.from_path("$.resources[0]"),
                        "via": "event",
                        "eventStatus": events.EventField.from_path("$.detail.status"),
                    }
                ),
            )
        ],
    )
