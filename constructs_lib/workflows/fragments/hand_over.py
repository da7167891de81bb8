"""Hand a seed-file notification over to an execution named after the object."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_with_jitter


class HandOverSeedFile(Fragment):
    """An S3 notification starts the run under a name derived from the object: a second
    delivery of the same notification finds the name taken and ends here.

    Start state: ``HandOverSeedFile``, which starts an execution of the workflow itself
    (``own_arn``) named ``s3-<sha256 of bucket/key/sequencer>`` with ``{"seedObject": {bucket,
    key, sequencer}}`` as input (``input_key`` names the field; default ``seedObject``). Ends:
    none; the execution succeeds in ``HandedOver`` or, when that name is taken, in
    ``AlreadyHandedOver``.

    Expects in the state: an S3 "Object Created" event (``$.detail.bucket.name``,
    ``$.detail.object.key``, ``$.detail.object.sequencer``). Leaves: ``$.handedOver``
    (``executionArn``).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, own_arn: str, input_key: str = "seedObject"
    ) -> None:
        super().__init__(scope, construct_id)
        detail = "$.detail"
        start = tasks.StepFunctionsStartExecution(
            self,
            "HandOverSeedFile",
            state_machine=sfn.StateMachine.from_state_machine_arn(self, "Self", own_arn),
            integration_pattern=sfn.IntegrationPattern.REQUEST_RESPONSE,
            name=sfn.JsonPath.format(
                "s3-{}",
                sfn.JsonPath.hash(
                    sfn.JsonPath.format(
                        "{}/{}/{}",
                        sfn.JsonPath.string_at(f"{detail}.bucket.name"),
                        sfn.JsonPath.string_at(f"{detail}.object.key"),
                        sfn.JsonPath.string_at(f"{detail}.object.sequencer"),
                    ),
                    "SHA-256",
                ),
            ),
            input=sfn.TaskInput.from_object(
                {
                    input_key: {
                        "bucket.$": f"{detail}.bucket.name",
                        "key.$": f"{detail}.object.key",
                        "sequencer.$": f"{detail}.object.sequencer",
                    }
                }
            ),
            result_selector={"executionArn.$": "$.ExecutionArn"},
            result_path="$.handedOver",
        )
        retry_with_jitter(
            start,
            ["StepFunctions.ThrottlingException", "StepFunctions.ExecutionLimitExceededException"],
            6,
        )
        start.add_catch(
            sfn.Succeed(self, "AlreadyHandedOver"),
            errors=["StepFunctions.ExecutionAlreadyExistsException"],
            result_path=sfn.JsonPath.DISCARD,
        )
        start.next(sfn.Succeed(self, "HandedOver"))
        self._start = start
        self._bounds(self._start)
