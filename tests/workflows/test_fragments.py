"""The workflow's pieces stand alone: a fragment builds into a state machine of its own, with the
start and end states its docstring names, and runs by itself in moto's interpreter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib.workflows.fragments.check_input import CheckInput
from constructs_lib.workflows.fragments.publish_outcome import PublishOutcome
from constructs_lib.workflows.fragments.track_job import TrackJob
from constructs_lib.workflows.props import WORKFLOW_EVENT_DETAIL_TYPE, WORKFLOW_EVENT_SOURCE
from tests.sfn_support import definition_of, interpreter

MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:workflow"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:handler"


def _publish(stack: cdk.Stack) -> PublishOutcome:
    return PublishOutcome(
        stack,
        "Publish",
        event_bus=events.EventBus.from_event_bus_name(stack, "Bus", "default"),
    )


def _definition(stack: cdk.Stack, chainable: sfn.IChainable) -> str:
    """``chainable`` as the only definition of a state machine in ``stack``, synthesized."""
    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(chainable))
    app = cdk.App.of(stack)
    assert app is not None
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return definition_of(template)


def _fresh_stack(outdir: Path) -> cdk.Stack:
    return cdk.Stack(cdk.App(outdir=str(outdir)), "Fragment")


def _state_ids(states: list[sfn.INextable]) -> list[str]:
    return [cast(sfn.State, state).state_id for state in states]


def test_publish_outcome_alone_is_a_state_machine(tmp_path: Path) -> None:
    # GIVEN the publish-outcome fragment alone in a fresh stack
    stack = _fresh_stack(tmp_path)
    publish = _publish(stack)
    # WHEN it is the whole definition of a state machine
    definition = json.loads(_definition(stack, publish))
    # THEN it starts with the event and ends in success or failure, with nothing to chain onto
    assert publish.start_state.state_id == "PublishOutcome"
    assert publish.end_states == []
    assert definition["StartAt"] == "PublishOutcome"
    assert set(definition["States"]) == {"PublishOutcome", "Outcome", "RunSucceeded", "RunFailed"}
    assert definition["States"]["RunFailed"] == {
        "Type": "Fail",
        "ErrorPath": "$.end.outcome",
        "CausePath": "$.end.cause",
    }


@pytest.mark.parametrize(
    ("outcome", "last_state", "status", "error"),
    [("SUCCEEDED", "RunSucceeded", "SUCCEEDED", None), ("FAILED", "RunFailed", "FAILED", "FAILED")],
)
def test_publish_outcome_runs_alone(
    tmp_path: Path, outcome: str, last_state: str, status: str, error: str | None
) -> None:
    # GIVEN the publish-outcome fragment as a state machine of its own
    stack = _fresh_stack(tmp_path)
    definition = _definition(stack, _publish(stack))
    end = {"outcome": outcome, "cause": "because", "step": "done"}
    state: dict[str, Any] = {
        "end": end,
        "plan": {"jobName": "audience-1"},
        "generation": {},
        "exports": [],
        "batch": {},
    }
    # WHEN it runs with a run's end in the state
    with interpreter() as run:
        result = run(definition, state)
    # THEN the execution ends with that outcome, after one event carrying it
    assert result.entered == ["PublishOutcome", "Outcome", last_state]
    assert (result.status, result.error) == (status, error)
    [event] = result.events
    assert (event["source"], event["detail-type"]) == (
        WORKFLOW_EVENT_SOURCE,
        WORKFLOW_EVENT_DETAIL_TYPE,
    )
    assert {k: event["detail"][k] for k in ("outcome", "cause", "step")} == end
    assert event["detail"]["plan"] == {"jobName": "audience-1"}


def test_check_input_alone_starts_with_the_notification_choice(tmp_path: Path) -> None:
    # GIVEN the check-input fragment, ending the run in a publish-outcome fragment
    stack = _fresh_stack(tmp_path)
    check = CheckInput(
        stack,
        "Input",
        handler=lambda_.Function.from_function_arn(stack, "Handler", FUNCTION_ARN),
        settings={"jobNamePrefix": "audience"},
        own_arn=MACHINE_ARN,
        publish=_publish(stack),
    )
    # WHEN a state is chained after it and the chain is a state machine's definition
    definition = json.loads(_definition(stack, check.next(sfn.Succeed(stack, "Checked"))))
    # THEN it starts with the notification choice, ends in KeepPlan (now followed by the next
    # state), and its rejections end in the outcome it was given
    assert check.start_state.state_id == "SeedFileNotification"
    assert _state_ids(check.end_states) == ["KeepPlan"]
    states = definition["States"]
    assert definition["StartAt"] == "SeedFileNotification"
    assert states["KeepPlan"]["Next"] == "Checked"
    assert states["InputRejected"]["Next"] == "PublishOutcome"
    assert states["CheckInputCallFailed"]["Next"] == "PublishOutcome"
    assert states["CheckInput"]["Parameters"]["Payload"]["Settings"] == {
        "jobNamePrefix": "audience"
    }


def test_fails_if_a_state_is_chained_after_publish_outcome(tmp_path: Path) -> None:
    # GIVEN the publish-outcome fragment, which ends every execution
    stack = _fresh_stack(tmp_path)
    publish = _publish(stack)
    # WHEN a state is chained after it THEN CDK refuses: it has no end state to continue from
    with pytest.raises(RuntimeError, match=r"Cannot add to chain"):
        publish.next(sfn.Pass(stack, "After"))


def test_fails_if_two_fragments_share_a_state_name(tmp_path: Path) -> None:
    # GIVEN two job trackers named alike in different scopes (state names are construct ids,
    # whatever the scope)
    stack = _fresh_stack(tmp_path)
    tracker = sfn.StateMachine.from_state_machine_arn(stack, "Tracker", MACHINE_ARN)
    first, second = (
        TrackJob(
            Construct(stack, f"Scope{i}"),
            "TrackJob",
            tracker=tracker,
            tracker_input={"kind": "k", "arn.$": "$.arn"},
            result_path="$.tracking",
            step="job",
            publish=None,
        )
        for i in (1, 2)
    )
    # WHEN both are chained into one definition
    chain = first.next(second)
    # THEN synthesis fails on the duplicate state name
    with pytest.raises(RuntimeError, match=r"State with name 'TrackJob' occurs in both"):
        _definition(stack, chain)
