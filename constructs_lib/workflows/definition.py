"""The audience-generation workflow's definition: its fragments, chained in the order a run
meets them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal import contract
from .fragments.check_input import CheckInput
from .fragments.export_sizes import ExportSizes
from .fragments.publish_outcome import PublishOutcome, end_run
from .fragments.run_batch_inference import RunBatchInference
from .fragments.start_generation import StartGeneration
from .fragments.track_job import TrackJob
from .props import AudienceExportSize


def audience_generation_definition(
    scope: Construct,
    *,
    handler: lambda_.IFunction,
    settings: Mapping[str, Any],
    own_arn: str,
    tracker: sfn.IStateMachine,
    event_bus: events.IEventBus,
    quota_wait: int,
    export_sizes: Sequence[AudienceExportSize],
    max_concurrent_exports: int,
    batch_workflow: sfn.IStateMachine | None,
) -> sfn.IChainable:
    """Check the input, start the generation job, track it, export it in each size (when
    there are ``export_sizes``), run Bedrock batch inference (a run of ``batch_workflow``,
    when given), and end with ``AudienceReady``; every step's end, a failure included, goes
    to ``PublishOutcome``.

    The fragments are built in this order on purpose: each routes its failures to ``publish``
    as it is built, and that order is the order in which the rendered definition lists the
    failure states.

    :param scope: the workflow; the fragments are its children.
    :param handler: the stack's handler function (the input check).
    :param settings: what the input check completes and checks a run's input with.
    :param own_arn: the workflow's ARN (a seed-file notification is handed over to it).
    :param tracker: the stack's job-status state machine.
    :param event_bus: where the end event goes.
    :param quota_wait: seconds a start refused for quota keeps retrying, on average.
    """
    publish = PublishOutcome(scope, "Publish", event_bus=event_bus)
    run = (
        CheckInput(
            scope,
            "Input",
            handler=handler,
            settings=settings,
            own_arn=own_arn,
            publish=publish,
        )
        .next(StartGeneration(scope, "Generation", quota_wait=quota_wait, publish=publish))
        .next(
            TrackJob(
                scope,
                "TrackGenerationJob",
                tracker=tracker,
                tracker_input={
                    "kind": contract.KIND_AUDIENCE_GENERATION_JOB,
                    "arn.$": "$.generation.arn",
                },
                result_path="$.generation.tracking",
                step="generation",
                publish=publish,
            )
        )
    )
    if export_sizes:
        run = run.next(
            ExportSizes(
                scope,
                "Exports",
                tracker=tracker,
                max_concurrency=max_concurrent_exports,
                quota_wait=quota_wait,
                publish=publish,
            )
        )
    if batch_workflow is not None:
        run = run.next(
            RunBatchInference(scope, "BatchInference", workflow=batch_workflow, publish=publish)
        )
    run.next(
        end_run(
            scope,
            "AudienceReady",
            outcome="SUCCEEDED",
            step="done",
            cause_path="States.Format('audience generation job {} and its exports are done', "
            "$.plan.jobName)",
            publish=publish,
        )
    )
    return run
