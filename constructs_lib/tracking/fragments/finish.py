"""The end of every job's tracking: publish the outcome event, signal a WaitCondition when one
was given, and end the execution as the outcome says."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.fragment import Fragment
from ..._internal.state_machines import publish_event
from ..kinds import EVENT_DETAIL_TYPE, EVENT_SOURCE, SUCCEEDED, SUCCEEDED_WITH_WARNINGS


class FinishTracking(Fragment):
    """Publish the outcome and end the execution.

    Start state: the task ``PublishOutcome`` (one event on ``event_bus``: ``source``
    ``EVENT_SOURCE``, ``detail-type`` ``EVENT_DETAIL_TYPE``, ``detail`` ``{"kind", "arn",
    "outcome", "cause", "result", "executionArn"}``). Then ``SignalRequested``: with
    ``$.signalUrl``, ``SignalWaitCondition`` invokes ``signal_handler`` to signal the
    CloudFormation WaitCondition. Then ``Outcome``: SUCCEEDED and SUCCEEDED_WITH_WARNINGS end
    in the Succeed ``JobSucceeded``, any other outcome in the Fail ``JobFailed`` (the outcome as
    error, the cause as cause). End states: none.

    Expects ``$.kind``, ``$.arn``, ``$.result`` and ``$.end`` (``{"outcome", "cause"}``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        event_bus: events.IEventBus,
        signal_handler: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        publish = publish_event(
            self,
            event_bus,
            EVENT_SOURCE,
            EVENT_DETAIL_TYPE,
            {
                "kind.$": "$.kind",
                "arn.$": "$.arn",
                "outcome.$": "$.end.outcome",
                "cause.$": "$.end.cause",
                "result.$": "$.result",
                "executionArn.$": "$$.Execution.Id",
            },
        )
        signal = tasks.LambdaInvoke(
            self,
            "SignalWaitCondition",
            lambda_function=signal_handler,
            payload=sfn.TaskInput.from_object(
                {
                    "Action": contract.SIGNAL_ACTION,
                    "SignalUrl.$": "$.signalUrl",
                    "Outcome.$": "$.end.outcome",
                    "Reason.$": "$.end.cause",
                    "UniqueId.$": "$.arn",
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            retry_on_service_exceptions=True,
        )
        done = (
            sfn.Choice(self, "Outcome")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.end.outcome", SUCCEEDED),
                    sfn.Condition.string_equals("$.end.outcome", SUCCEEDED_WITH_WARNINGS),
                ),
                sfn.Succeed(self, "JobSucceeded"),
            )
            .otherwise(
                sfn.Fail(self, "JobFailed", error_path="$.end.outcome", cause_path="$.end.cause")
            )
        )
        signal.next(done)
        has_signal = (
            sfn.Choice(self, "SignalRequested")
            .when(sfn.Condition.is_present("$.signalUrl"), signal)
            .otherwise(done)
        )
        publish.next(has_signal)
        self._bounds(publish)
