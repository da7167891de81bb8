"""Track one job to its end with the stack's job-status state machine (a nested execution), and
read a failed tracking execution into the run's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import read_nested_failure


class TrackJob(Fragment):
    """Run the job-status state machine for one job and wait for its end.

    Start state: a ``startExecution.sync:2`` task named after the fragment (its construct id,
    e.g. ``TrackGenerationJob``), which is also the prefix of its failure states. Ends: that
    task, after the tracker succeeded.

    Expects in the state: what ``tracker_input`` reads (JSONPath values, e.g. the job's ARN).
    Leaves: ``{"status", "trackedBy"}`` (the job's final status, the tracking execution's ARN)
    at ``result_path``. A failed tracking execution ends the run (through ``publish``) with the
    tracker's outcome and cause and ``step``; without ``publish`` (inside the export Map) the
    iteration fails instead, see ``catch_tracking``.

    :param tracker: the job-status state machine.
    :param tracker_input: the tracking execution's input (``kind``, ``arn.$``, ...).
    :param result_path: where the tracker's result goes.
    :param step: the run's step, as the end event names it (``generation``, ``batch``...).
    :param publish: where a failure ends the run; ``None`` to fail the execution (a Map
        iteration) with the outcome as its error.
    :param execution_name: the tracking execution's name (a JSONPath format). Default: any.
    :param aborted: where to go when the tracking execution was stopped. Default: end as
        ABORTED.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tracker: sfn.IStateMachine,
        tracker_input: Mapping[str, Any],
        result_path: str,
        step: str,
        publish: sfn.IChainable | None,
        execution_name: str | None = None,
        aborted: sfn.IChainable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.task = start_tracking(
            self, construct_id, tracker, tracker_input, result_path, name=execution_name
        )
        catch_tracking(self, self.task, construct_id, step, publish, aborted)
        self._bounds(self.task, [self.task])


def start_tracking(
    scope: Construct,
    state_id: str,
    tracker: sfn.IStateMachine,
    tracker_input: Mapping[str, Any],
    result_path: str,
    *,
    name: str | None = None,
) -> tasks.StepFunctionsStartExecution:
    """Run the job-status state machine for one job and wait for its end."""
    return tasks.StepFunctionsStartExecution(
        scope,
        state_id,
        state_machine=tracker,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        input=sfn.TaskInput.from_object(dict(tracker_input)),
        name=name,
        associate_with_parent=True,
        result_selector={
            "status.$": "$.Output.result.Status",
            "trackedBy.$": "$.ExecutionArn",
        },
        result_path=result_path,
    )


def catch_tracking(
    scope: Construct,
    task: sfn.TaskStateBase,
    state_id: str,
    step: str,
    publish: sfn.IChainable | None,
    aborted: sfn.IChainable | None = None,
) -> None:
    """A failed tracking execution ends the run with the tracker's outcome and cause.

    The nested execution's description arrives as the JSON cause of the task's error; any
    other error (the start call itself failed) is CALL_FAILED. With ``publish`` the run ends
    there; without (inside the export Map) the iteration fails with the outcome as its
    error name, which the Map's own catcher then reports. ``aborted`` takes over when the
    tracking execution was stopped.
    """

    def end(suffix: str, error: str, cause: str) -> sfn.IChainable:
        state_id_end = f"{state_id}{suffix}"
        if publish is None:
            from_path = error.startswith("$")
            return sfn.Fail(
                scope,
                state_id_end,
                error=None if from_path else error,
                error_path=error if from_path else None,
                cause_path=cause,
            )
        outcome = {"outcome.$": error} if error.startswith("$") else {"outcome": error}
        return sfn.Pass(
            scope,
            state_id_end,
            parameters={**outcome, "cause.$": cause, "step": step},
            result_path="$.end",
        ).next(publish)

    described = read_nested_failure(scope, state_id, end, aborted=aborted)
    task.add_catch(described, errors=["States.ALL"], result_path="$.error")
