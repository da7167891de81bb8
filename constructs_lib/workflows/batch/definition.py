"""The batch inference workflow's definition: check the input, split it into shards, run the
shards with at most N jobs in flight, collect one result, publish one event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.state_machines import publish_event, retry_with_jitter
from ..fragments.hand_over import HandOverSeedFile
from ..fragments.publish_outcome import end_run, outcome_choice
from .job_spec import BatchJobSpec
from .shard_run import ShardRun

#: EventBridge ``source`` and ``detail-type`` of the event every batch inference run ends with.
BATCH_EVENT_SOURCE = "cleanrooms-ml-cdk.batch-inference"
BATCH_EVENT_DETAIL_TYPE = "Batch Inference Workflow Finished"
#: Outcomes of a run besides the shards' (SUCCEEDED, SUCCEEDED_WITH_WARNINGS, FAILED).
TOO_FEW_RECORDS = "TOO_FEW_RECORDS"


def batch_inference_definition(
    scope: Construct,
    *,
    handler: lambda_.IFunction,
    settings: Mapping[str, Any],
    own_arn: str,
    step: BatchJobSpec,
    tracker: sfn.IStateMachine,
    event_bus: events.IEventBus,
    quota_wait: int,
    max_jobs_in_flight: int,
    max_attempts: int,
) -> sfn.IChainable:
    """``Route`` (an S3 notification is handed over to an execution named after the object),
    ``CheckBatchInput``, the ``SplitInput`` loop, ``RunShards`` (a Map of ``ShardRun``, at most
    ``max_jobs_in_flight`` at once), ``CollectResults``, ``PublishOutcome``."""
    publish = publish_event(
        scope,
        event_bus,
        BATCH_EVENT_SOURCE,
        BATCH_EVENT_DETAIL_TYPE,
        {
            "outcome.$": "$.end.outcome",
            "cause.$": "$.end.cause",
            "step.$": "$.end.step",
            "plan.$": "$.plan",
            "result.$": "$.result",
            "executionArn.$": "$$.Execution.Id",
        },
    )
    # The run's output is its summary, not its state (whose shard list may be near the 256 KiB
    # limit): a workflow that starts runs of this one (startExecution.sync:2) receives the
    # output inside the execution's description, which must itself fit in 256 KiB ("Step
    # Functions service quotas", https://docs.aws.amazon.com/step-functions/latest/dg/
    # service-quotas.html).
    summary = sfn.Pass(
        scope,
        "Summary",
        parameters={"end.$": "$.end", "plan.$": "$.plan", "result.$": "$.result"},
    )
    publish.next(summary)
    summary.next(outcome_choice(scope))

    def end(state_id: str, outcome: str, step_name: str, cause_path: str) -> sfn.IChainable:
        return end_run(
            scope, state_id, outcome=outcome, step=step_name, cause_path=cause_path, publish=publish
        )

    def invoke(state_id: str, payload: Mapping[str, Any], result_path: str) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            scope,
            state_id,
            lambda_function=handler,
            payload=sfn.TaskInput.from_object(dict(payload)),
            payload_response_only=False,
            result_selector={"value.$": "$.Payload"},
            result_path=result_path,
            retry_on_service_exceptions=True,
        )
        # The handler is the stack's one function with a reserved concurrency: a burst of runs
        # (or a deploy) can take every slot; throttled invocations wait and try again.
        retry_with_jitter(task, ["Lambda.TooManyRequestsException"], 8)
        return task

    def refused(task: tasks.LambdaInvoke, state_id: str, step_name: str) -> None:
        """The handler's refusal (its message) ends the run as INVALID_INPUT; any other error as
        CALL_FAILED."""
        task.add_catch(
            sfn.Pass(
                scope,
                f"{state_id}Refused",
                parameters={"message.$": "States.StringToJson($.error.Cause)"},
                result_path="$.refused",
            ).next(
                end(
                    f"{state_id}Invalid",
                    "INVALID_INPUT",
                    step_name,
                    "$.refused.message.errorMessage",
                )
            ),
            errors=[contract.BATCH_INPUT_ERROR],
            result_path="$.error",
        )
        task.add_catch(
            end(f"{state_id}CallFailed", "CALL_FAILED", step_name, "$.error.Cause"),
            errors=["States.ALL"],
            result_path="$.error",
        )

    begin = sfn.Pass(
        scope,
        "Begin",
        parameters={
            "input.$": "$",
            "plan": {},
            "split": {"value": {"cursor": {}, "shards": []}},
            "result": {},
        },
    )
    check = invoke(
        "CheckBatchInput",
        {
            "Action": contract.PREPARE_BATCH_ACTION,
            "Input.$": "$.input",
            "ExecutionName.$": "$$.Execution.Name",
            "Settings": dict(settings),
        },
        "$.prepared",
    )
    refused(check, "CheckBatchInput", "input")
    keep_plan = sfn.Pass(scope, "KeepPlan", input_path="$.prepared.value", result_path="$.plan")
    split = invoke(
        "SplitInput",
        {
            "Action": contract.SPLIT_BATCH_ACTION,
            "Plan.$": "$.plan",
            "Cursor.$": "$.split.value.cursor",
            "Shards.$": "$.split.value.shards",
        },
        "$.split",
    )
    refused(split, "SplitInput", "split")
    too_few = end(
        "TooFewRecords",
        TOO_FEW_RECORDS,
        "split",
        "States.Format('{} records in all, fewer than the {} one job needs', "
        "$.split.value.records, $.split.value.minimum)",
    )
    shard = ShardRun(
        scope,
        "Shard",
        step=step,
        tracker=tracker,
        quota_wait=quota_wait,
        max_attempts=max_attempts,
    )
    run_shards = sfn.Map(
        scope,
        "RunShards",
        items_path="$.split.value.shards",
        item_selector={"shard.$": "$$.Map.Item.Value", "plan.$": "$.plan"},
        max_concurrency=max_jobs_in_flight,
        # the results replace the shard list: one copy in the state (256 KiB at most)
        result_path="$.split.value.shards",
    ).item_processor(shard)
    collect = invoke(
        "CollectResults",
        {
            "Action": contract.COLLECT_BATCH_ACTION,
            "Plan.$": "$.plan",
            "Shards.$": "$.split.value.shards",
        },
        "$.collected",
    )
    collect.add_catch(
        end("CollectResultsCallFailed", "CALL_FAILED", "collect", "$.error.Cause"),
        errors=["States.ALL"],
        result_path="$.error",
    )
    collected = (
        sfn.Pass(
            scope,
            "KeepResult",
            input_path="$.collected.value",
            result_path="$.result",
        )
        .next(
            sfn.Pass(
                scope,
                "ShardsDone",
                parameters={
                    "outcome.$": "$.result.outcome",
                    "cause.$": "States.Format('{} shards; the manifest is {}', $.result.shards, "
                    "$.result.manifestUri)",
                    "step": "done",
                },
                result_path="$.end",
            )
        )
        .next(publish)
    )
    split_done = (
        sfn.Choice(scope, "SplitDone")
        .when(sfn.Condition.boolean_equals("$.split.value.done", False), split)
        .when(sfn.Condition.boolean_equals("$.split.value.tooFew", True), too_few)
        .otherwise(run_shards)
    )
    run_shards.next(collect)
    collect.next(collected)
    split.next(split_done)
    begin.next(check).next(keep_plan).next(split)
    return (
        sfn.Choice(scope, "InputNotification")
        .when(
            sfn.Condition.and_(
                sfn.Condition.is_present("$.source"),
                sfn.Condition.string_equals("$.source", "aws.s3"),
                sfn.Condition.is_present("$.detail.object.key"),
            ),
            HandOverSeedFile(scope, "HandOver", own_arn=own_arn, input_key="inputObject"),
        )
        .otherwise(begin)
    )
