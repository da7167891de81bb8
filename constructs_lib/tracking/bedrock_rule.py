"""The EventBridge rule that ends Bedrock batch jobs' tracking on Bedrock's own events."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal.state_machines import start_execution_rule
from .kinds import BEDROCK_KIND


def bedrock_rule(scope: Construct, state_machine: sfn.IStateMachine) -> events.Rule:
    """Bedrock's batch-job end events start a short execution of ``state_machine`` (the
    ``BedrockEventPath``): ``BedrockEvents/Rule`` under ``scope``, with its own role."""
    kind = BEDROCK_KIND
    return start_execution_rule(
        Construct(scope, "BedrockEvents"),
        role_description="Starts the job-status state machine on Bedrock job events",
        description="Bedrock batch inference job ended: conclude its tracking now",
        event_pattern=events.EventPattern(
            source=["aws.bedrock"],
            detail_type=["Batch Inference Job State Change"],
            detail={"status": [*kind.succeeded, *kind.warning, *kind.failed]},
        ),
        state_machine=state_machine,
        target_input=events.RuleTargetInput.from_object(
            {
                "kind": kind.name,
                "arn": events.EventField.from_path("$.resources[0]"),
                "via": "event",
                "eventStatus": events.EventField.from_path("$.detail.status"),
            }
        ),
    )
