"""Run the run's Bedrock batch inference as a run of a ``BatchInferenceWorkflow`` (a nested
execution) and read its end into the run's outcome."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_with_jitter
from .track_job import catch_tracking

#: The batch run's outcome with partial results; the audience run ends with it too.
SUCCEEDED_WITH_WARNINGS = "SUCCEEDED_WITH_WARNINGS"


class RunBatchInference(Fragment):
    """Start a run of the batch inference workflow over the run's input and wait for its end.

    Start state: ``RunBatchInference``, a ``startExecution.sync:2`` task of ``workflow`` named
    ``$.plan.batch.ExecutionName`` (one name per audience run, so a repeated start cannot run
    the input twice), with the input ``{"inputUris": [$.plan.batch.InputS3Uri]}`` (a folder
    stands for its ``.jsonl`` files). The batch run splits the input into jobs within the
    model's limits, runs them under its quota and writes one manifest. Then
    ``BatchInferenceOutcome``: a batch run that SUCCEEDED goes on to the fragment's end
    ``BatchInferenceDone``; one that SUCCEEDED_WITH_WARNINGS (some records or shards failed)
    ends the audience run with that outcome, step ``batch``, and the batch run's cause (its
    shards and manifest; the counts are in ``$.batch.result``).

    A batch run that failed ends the audience run (through ``publish``) with the batch run's
    outcome (FAILED, TOO_FEW_RECORDS, INVALID_INPUT, CALL_FAILED) and cause, step ``batch``;
    a stopped one as ABORTED; a start refused as CALL_FAILED (``catch_tracking``: the nested
    execution's description arrives as the error's JSON cause). A throttled start, or one
    refused for the account's quota of open executions, is retried first.

    Expects in the state: ``$.plan.batch`` (``ExecutionName``, ``InputS3Uri``: the input check
    derives them from the run). Leaves: ``$.batch`` = ``{"executionArn", "outcome", "cause",
    "result"}`` (``result``: the batch run's ``manifestUri``, ``shards``, ``byStatus`` and
    ``records`` counts).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflow: sfn.IStateMachine,
        publish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._start = tasks.StepFunctionsStartExecution(
            self,
            "RunBatchInference",
            state_machine=workflow,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            input=sfn.TaskInput.from_object(
                {"inputUris": sfn.JsonPath.array(sfn.JsonPath.string_at("$.plan.batch.InputS3Uri"))}
            ),
            name=sfn.JsonPath.string_at("$.plan.batch.ExecutionName"),
            associate_with_parent=True,
            result_selector={
                "executionArn.$": "$.ExecutionArn",
                "outcome.$": "$.Output.end.outcome",
                "cause.$": "$.Output.end.cause",
                "result.$": "$.Output.result",
            },
            result_path="$.batch",
        )
        # A throttled start, or one refused while the account's open executions are at their
        # quota, waits and tries again: the name and input are fixed, so a start that did go
        # through is answered again, not repeated (StartExecution is idempotent for a running
        # execution of the same name and input, "StartExecution", Step Functions API reference).
        retry_with_jitter(
            self._start,
            ["StepFunctions.ThrottlingException", "StepFunctions.ExecutionLimitExceededException"],
            6,
        )
        catch_tracking(self, self._start, "RunBatchInference", "batch", publish)
        self._done = sfn.Pass(self, "BatchInferenceDone")
        with_warnings = sfn.Pass(
            self,
            "BatchInferenceWithWarnings",
            parameters={
                "outcome": SUCCEEDED_WITH_WARNINGS,
                "cause.$": "$.batch.cause",
                "step": "batch",
            },
            result_path="$.end",
        ).next(publish)
        self._start.next(
            sfn.Choice(self, "BatchInferenceOutcome")
            .when(sfn.Condition.string_equals("$.batch.outcome", "SUCCEEDED"), self._done)
            .otherwise(with_warnings)
        )
        self._bounds(self._start, [self._done])
