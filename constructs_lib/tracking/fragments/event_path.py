"""The Bedrock end-event path: an execution started by Bedrock's "Batch Inference Job State
Change" event concludes the job's tracking at once, instead of its polling execution."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import any_of, retry_with_jitter
from ..kinds import BEDROCK_KIND, EVENT_KIND
from .check import StatusCheck, get_status


class BedrockEventPath(Fragment):
    """A Bedrock "Batch Inference Job State Change" event reported the end: read the final
    status, stop the job's polling execution, and finish as the poller would have. Jobs the
    library does not track (no polling execution) and polls already done end quietly.

    Start state: the task ``DescribePoller`` (the polling execution ``bedrock-<sha256 of $.arn>``
    of ``state_machine_name``, its status in ``$.poller``). While it runs,
    ``NoAnswerBeforeEvent`` and ``GetAfterEvent`` read the job (``$.result``);
    ``EndedPerEvent`` lets an ended status through to ``StopPoller`` and the check
    ``CheckEVENT_BEDROCK_BATCH_INFERENCE_JOB``, whose outcome goes to ``finish``. End states:
    none; an unknown or finished poller, or a status that has not ended, ends in the Succeed
    ``NotTrackedHere``.

    Expects ``$.kind`` and ``$.arn`` (the event's job ARN) in the input.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine_name: str,
        finish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        kind = BEDROCK_KIND
        poller = self._poller_execution_arn(state_machine_name)
        quiet = sfn.Succeed(self, "NotTrackedHere")
        describe = tasks.CallAwsService(
            self,
            "DescribePoller",
            service="sfn",
            action="describeExecution",
            iam_action="states:DescribeExecution",
            iam_resources=["*"],
            parameters={"ExecutionArn.$": poller},
            result_selector={"Status.$": "$.Status"},
            result_path="$.poller",
        )
        self._bounds(describe)
        describe.add_catch(
            quiet, errors=["Sfn.ExecutionDoesNotExistException"], result_path=sfn.JsonPath.DISCARD
        )
        retry_with_jitter(describe, ["Sfn.ThrottlingException", "Sfn.SfnException"], 4)
        get = get_status(self, "GetAfterEvent", kind, EVENT_KIND, finish)
        stop = tasks.CallAwsService(
            self,
            "StopPoller",
            service="sfn",
            action="stopExecution",
            iam_action="states:StopExecution",
            iam_resources=["*"],
            parameters={
                "ExecutionArn.$": poller,
                "Cause": "ended by a Bedrock Batch Inference Job State Change event",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        check = StatusCheck(
            self, f"Check{EVENT_KIND.name}", kind=EVENT_KIND, in_progress=None, finish=finish
        )
        stop.add_catch(check, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
        stop.next(check)
        ended = (
            sfn.Choice(self, "EndedPerEvent")
            .when(any_of("$.result.Status", [*kind.succeeded, *kind.warning, *kind.failed]), stop)
            .otherwise(quiet)
        )
        running = (
            sfn.Choice(self, "PollerRunning")
            .when(
                sfn.Condition.string_equals("$.poller.Status", "RUNNING"),
                sfn.Pass(
                    self,
                    "NoAnswerBeforeEvent",
                    result=sfn.Result.from_object({}),
                    result_path="$.result",
                )
                .next(get)
                .next(ended),
            )
            .otherwise(quiet)
        )
        describe.next(running)

    def _poller_execution_arn(self, state_machine_name: str) -> str:
        """``States.Format`` expression of the Bedrock job's polling execution ARN: the handler
        names it ``bedrock-<sha256 of the job ARN>``."""
        prefix = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine_name}:bedrock-",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return f"States.Format('{prefix}{{}}', States.Hash($.arn, 'SHA-256'))"
