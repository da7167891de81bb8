"""How every run ends: one EventBridge event with the outcome, then success or failure; and the
small states that route a step's end (an outcome, a cause, the step) to it."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import any_of, publish_event
from ..props import SUCCESSES, WORKFLOW_EVENT_DETAIL_TYPE, WORKFLOW_EVENT_SOURCE


class PublishOutcome(Fragment):
    """Publish the run's outcome and end the run with it.

    Start state: ``PublishOutcome`` (one event on ``event_bus``, ``source``
    ``WORKFLOW_EVENT_SOURCE``, ``detail-type`` ``WORKFLOW_EVENT_DETAIL_TYPE``). Ends: none; the
    ``Outcome`` choice ends the execution in ``RunSucceeded`` when the outcome is SUCCEEDED or
    SUCCEEDED_WITH_WARNINGS (the Bedrock step's batch run had partial results), else
    in ``RunFailed`` with the outcome as the error and its cause.

    Expects in the state: ``$.end`` (``outcome``, ``cause``, ``step``: what ``end_run`` and the
    other steps' failure states write), ``$.plan``, ``$.generation``, ``$.exports``, ``$.batch``
    (the event's ``detail`` carries them, with the ``executionArn``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, event_bus: events.IEventBus) -> None:
        super().__init__(scope, construct_id)
        self._start = publish_event(
            self,
            event_bus,
            WORKFLOW_EVENT_SOURCE,
            WORKFLOW_EVENT_DETAIL_TYPE,
            {
                "outcome.$": "$.end.outcome",
                "cause.$": "$.end.cause",
                "step.$": "$.end.step",
                "plan.$": "$.plan",
                "generation.$": "$.generation",
                "exports.$": "$.exports",
                "batch.$": "$.batch",
                "executionArn.$": "$$.Execution.Id",
            },
        )
        self._start.next(outcome_choice(self))
        self._bounds(self._start)


def outcome_choice(scope: Construct) -> sfn.Choice:
    """``Outcome``: the run ends in ``RunSucceeded`` when ``$.end.outcome`` is one of
    ``SUCCESSES``, else in ``RunFailed`` with the outcome as the error and ``$.end.cause``."""
    return (
        sfn.Choice(scope, "Outcome")
        .when(any_of("$.end.outcome", SUCCESSES), sfn.Succeed(scope, "RunSucceeded"))
        .otherwise(
            sfn.Fail(scope, "RunFailed", error_path="$.end.outcome", cause_path="$.end.cause")
        )
    )


def end_run(
    scope: Construct,
    state_id: str,
    *,
    outcome: str,
    step: str,
    cause_path: str,
    publish: sfn.IChainable,
) -> sfn.IChainable:
    """A state (``state_id``, in ``scope``) that sets ``$.end`` to ``outcome``, the cause read
    at ``cause_path`` and ``step``, then goes on to ``publish``."""
    return sfn.Pass(
        scope,
        state_id,
        parameters={"outcome": outcome, "cause.$": cause_path, "step": step},
        result_path="$.end",
    ).next(publish)


def catch_call(
    scope: Construct, task: sfn.TaskStateBase, state_id: str, step: str, publish: sfn.IChainable
) -> None:
    """Any other error (after the retries) ends the run as CALL_FAILED with its cause."""
    task.add_catch(
        end_run(
            scope,
            f"{state_id}CallFailed",
            outcome="CALL_FAILED",
            step=step,
            cause_path="$.error.Cause",
            publish=publish,
        ),
        errors=["States.ALL"],
        result_path="$.error",
    )
