"""Continuing as new: a tracking execution near the history limit hands the job to a fresh
execution of the same state machine and ends as it does."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import read_nested_failure, retry_with_jitter
from ..kinds import CALL_FAILED
from .check import outcome

#: Where a continuation's input holds its predecessor's state.
CARRIED = "carried"


class ContinueAsNew(Fragment):
    """Start a fresh execution of this state machine with the whole state (job, schedule,
    polls spent) and wait for it (``startExecution.sync:2``): its outcome is this one's.

    The continuation publishes the outcome event and signals; this execution then ends
    like it: succeeded with its output, or failed with its error and cause. Only when the
    continuation cannot be started does this execution end the tracking as CALL_FAILED.

    Start state: the task ``ContinueAsNew`` (of ``state_machine_arn``, named
    ``continued-<hash of this execution's ARN>``, input ``{"carried": <the whole state>}``,
    the continuation's output in ``$.continued``). End state: the Pass
    ``ContinuedJobSucceeded``, whose output is the continuation's. A failed continuation ends in
    a Fail ``ContinuedJob<...>`` with its error and cause (``Continuation*`` states read them);
    a refused start goes through ``ContinueAsNewCallFailed`` to ``finish``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine_arn: str,
        finish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        own = sfn.StateMachine.from_state_machine_arn(self, "ContinuationTarget", state_machine_arn)
        task = tasks.StepFunctionsStartExecution(
            self,
            "ContinueAsNew",
            state_machine=own,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            # The whole state, wrapped: Step Functions links the continuation to this execution
            # through the top-level AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID field, and a
            # state started by the workflow carries the workflow's link, which must not be
            # passed on as this one's.
            input=sfn.TaskInput.from_object({f"{CARRIED}.$": "$"}),
            associate_with_parent=True,
            name=sfn.JsonPath.format(
                "continued-{}", sfn.JsonPath.hash(sfn.JsonPath.execution_id, "SHA-256")
            ),
            result_selector={"Output.$": "$.Output"},
            result_path="$.continued",
        )
        # Refused starts only: a start that may have happened is not repeated under its name.
        retry_with_jitter(
            task,
            ["StepFunctions.ThrottlingException", "StepFunctions.ExecutionLimitExceededException"],
            6,
        )

        def end(suffix: str, error: str, cause: str) -> sfn.IChainable:
            if suffix == "CallFailed":
                return outcome(self, "ContinueAsNewCallFailed", CALL_FAILED, finish, cause)
            from_path = error.startswith("$")
            return sfn.Fail(
                self,
                f"ContinuedJob{suffix}",
                error=None if from_path else error,
                error_path=error if from_path else None,
                cause_path=cause,
            )

        task.add_catch(
            read_nested_failure(self, "Continuation", end),
            errors=["States.ALL"],
            result_path="$.error",
        )
        # A terminal Pass, not a Succeed: cfn-lint's state-machine schema (E3601) allows no
        # OutputPath on a Succeed state.
        succeeded = sfn.Pass(self, "ContinuedJobSucceeded", output_path="$.continued.Output")
        task.next(succeeded)
        self._bounds(task, [succeeded])
