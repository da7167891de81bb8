"""The start of every run: a seed-file notification is handed over, any other input is checked
against the service model by the stack's handler before any call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_with_jitter
from ..props import INVALID_INPUT
from .hand_over import HandOverSeedFile
from .publish_outcome import catch_call, end_run


class CheckInput(Fragment):
    """Route the execution's input, then check it into the run's plan.

    Start state: the ``SeedFileNotification`` choice. An S3 "Object Created" event (``source``
    ``aws.s3`` with ``detail.object.key``) goes to ``HandOverSeedFile`` (a fragment that ends
    the execution); any other input goes to ``Begin``, which sets up the run's state, and
    ``CheckInput``, the handler's check (``contract.PREPARE_ACTION``) of the input against the
    service model with ``settings``. Ends: ``KeepPlan``.

    Expects in the state: the execution's input (a CLI skeleton of
    ``StartAudienceGenerationJob``, or the ``seedObject`` a hand-over starts with). Leaves:
    ``$.input`` (the input), ``$.plan`` (the checked requests: ``request``, ``exports``,
    ``batch`` when configured, ``source``, ``jobName``; also in ``$.prepared.plan``), and empty
    ``$.generation``, ``$.exports``, ``$.batch`` for the end event.

    A rejected input ends the run (through ``publish``) as ``INVALID_INPUT`` with the handler's
    message naming every problem; a failed call as CALL_FAILED (step ``input``).

    :param handler: the stack's handler function (``CustomResourceProvider.handler``).
    :param settings: the workflow's defaults and limits (``props.input_check_settings``).
    :param own_arn: the workflow's own ARN (the hand-over starts an execution of it).
    :param publish: where the run ends (``PublishOutcome``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        settings: Mapping[str, Any],
        own_arn: str,
        publish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        begin = sfn.Pass(
            self,
            "Begin",
            parameters={
                "input.$": "$",
                "plan": {},
                "generation": {},
                "exports": [],
                "batch": {},
            },
        )
        prepare = tasks.LambdaInvoke(
            self,
            "CheckInput",
            lambda_function=handler,
            payload=sfn.TaskInput.from_object(
                {
                    "Action": contract.PREPARE_ACTION,
                    "Input.$": "$.input",
                    "ExecutionName.$": "$$.Execution.Name",
                    "Settings": dict(settings),
                }
            ),
            payload_response_only=False,
            result_selector={"plan.$": "$.Payload"},
            result_path="$.prepared",
            retry_on_service_exceptions=True,
        )
        # The handler is the stack's one function with a reserved concurrency: a burst of runs
        # (or a deploy) can take every slot; throttled invocations wait and try again.
        retry_with_jitter(prepare, ["Lambda.TooManyRequestsException"], 8)
        rejected = end_run(
            self,
            "InputRejected",
            outcome=INVALID_INPUT,
            step="input",
            cause_path="$.rejected.message",
            publish=publish,
        )
        prepare.add_catch(
            sfn.Pass(
                self,
                "ReadRejection",
                parameters={"message.$": "States.StringToJson($.error.Cause)"},
                result_path="$.rejected",
            )
            .next(
                sfn.Pass(
                    self,
                    "RejectionMessage",
                    parameters={"message.$": "$.rejected.message.errorMessage"},
                    result_path="$.rejected",
                )
            )
            .next(rejected),
            errors=[contract.WORKFLOW_INPUT_ERROR],
            result_path="$.error",
        )
        catch_call(self, prepare, "CheckInput", "input", publish)
        self._keep_plan = sfn.Pass(
            self, "KeepPlan", input_path="$.prepared.plan", result_path="$.plan"
        )
        begin.next(prepare).next(self._keep_plan)
        self._start = (
            sfn.Choice(self, "SeedFileNotification")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.source"),
                    sfn.Condition.string_equals("$.source", "aws.s3"),
                    sfn.Condition.is_present("$.detail.object.key"),
                ),
                HandOverSeedFile(self, "HandOver", own_arn=own_arn),
            )
            .otherwise(begin)
        )
        self._bounds(self._start, [self._keep_plan])
