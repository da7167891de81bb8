"""The EventBridge rule that starts the audience-generation workflow when a seed file lands."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal.state_machines import start_execution_rule


class SeedFileTrigger(Construct):
    """A rule on the default bus (child ``Rule``, with its own target role ``Role``) matching
    S3's "Object Created" events of ``*.jsonl`` keys under ``seed_prefix`` of ``bucket``; each
    starts an execution of ``state_machine`` (whose ARN, known from its name, is ``own_arn``)
    with the event as input. The batch inference workflow uses it for its input files too
    (``role_description`` and ``description`` say which). EventBridge retries the target for up
    to 24 hours.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        seed_prefix: str,
        state_machine: sfn.IStateMachine,
        own_arn: str,
        role_description: str = "Starts the audience-generation workflow when a seed file lands",
        description: str = "A new seed file starts an audience generation run",
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = start_execution_rule(
            self,
            role_description=role_description,
            description=description,
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(f"{seed_prefix}*.jsonl")},
                },
            ),
            state_machine=state_machine,
            state_machine_arn=own_arn,
        )
