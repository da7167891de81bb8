"""Run the run's Bedrock batch inference job (``CreateModelInvocationJob``) to its end."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.custom_resource import role_arn_of
from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_on_quota, retry_with_jitter, transient_errors
from ...foundation.encryption_key import key_parts
from ..props import BatchInferenceStep
from .publish_outcome import catch_call
from .track_job import TrackJob


class BatchInference(Fragment):
    """Create the Bedrock batch inference job of ``step`` and track it to its end.

    Start state: ``StartBatchInference`` (retried with jitter on throttling and server errors,
    waiting for room when the model's quota of batch jobs is full; any other error ends the run
    as CALL_FAILED, step ``batch``). Then ``TrackBatchInference`` (a ``TrackJob``, named like the
    handler's Bedrock pollers); when Bedrock's end event stopped that poller,
    ``ConfirmBatchInference`` reads the final status once more. Ends: ``BatchInferenceDone``. A
    failed job ends the run (through ``publish``) with the tracker's outcome, step ``batch``.

    Expects in the state: ``$.plan.batch`` (``JobName``, ``ClientRequestToken``,
    ``OutputS3Uri``, ``InputS3Uri``: the input check derives them from the generation job and
    the run's input). Leaves:
    ``$.batch.arn`` and ``$.batch.tracking`` (``status``, ``trackedBy``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        step: BatchInferenceStep,
        tracker: sfn.IStateMachine,
        quota_wait: int,
        publish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._start = create_job(
            self, "StartBatchInference", job_parameters(step), "$.batch", quota_wait
        )
        catch_call(self, self._start, "StartBatchInference", "batch", publish)
        tracker_input = {"kind": contract.KIND_BEDROCK_BATCH_INFERENCE_JOB, "arn.$": "$.batch.arn"}
        # When Bedrock's end event stops the poller below (ABORTED), read the final status
        # once more.
        confirm = TrackJob(
            self,
            "ConfirmBatchInference",
            tracker=tracker,
            tracker_input=tracker_input,
            result_path="$.batch.tracking",
            step="batch",
            publish=publish,
        )
        # Named like the handler's Bedrock pollers, so Bedrock's end event concludes it early.
        track = TrackJob(
            self,
            "TrackBatchInference",
            tracker=tracker,
            tracker_input=tracker_input,
            result_path="$.batch.tracking",
            step="batch",
            publish=publish,
            execution_name=sfn.JsonPath.format(
                "bedrock-{}", sfn.JsonPath.hash(sfn.JsonPath.string_at("$.batch.arn"), "SHA-256")
            ),
            aborted=confirm,
        )
        self._done = sfn.Pass(self, "BatchInferenceDone")
        track.next(self._done)
        confirm.next(self._done)
        self._start.next(track)
        self._bounds(self._start, [self._done])


def create_job(
    scope: Construct, state_id: str, parameters: dict[str, Any], result_path: str, quota_wait: int
) -> tasks.CallAwsService:
    """``CreateModelInvocationJob`` with ``parameters``, the new job's ARN at
    ``<result_path>.arn``: throttling and server errors retried with jitter, a full quota of
    jobs waited out for up to ``quota_wait`` seconds on average."""
    create = tasks.CallAwsService(
        scope,
        state_id,
        service="bedrock",
        action="createModelInvocationJob",
        iam_action="bedrock:CreateModelInvocationJob",
        iam_resources=["*"],
        parameters=parameters,
        result_selector={"arn.$": "$.JobArn"},
        result_path=result_path,
    )
    retry_with_jitter(create, transient_errors("bedrock"), 6)
    retry_on_quota(create, "bedrock", quota_wait)
    return create


def job_parameters(step: BatchInferenceStep) -> dict[str, Any]:
    """The ``CreateModelInvocationJob`` request of ``step`` (PascalCase); the job's name, token
    and output location come from the plan."""
    key_id, _ = key_parts(step.output_encryption_key)
    output: dict[str, Any] = {"S3Uri.$": "$.plan.batch.OutputS3Uri"}
    if key_id is not None:
        output["S3EncryptionKeyId"] = key_id
    parameters: dict[str, Any] = {
        "JobName.$": "$.plan.batch.JobName",
        "ClientRequestToken.$": "$.plan.batch.ClientRequestToken",
        "RoleArn": role_arn_of(step.role),
        "ModelId": step.model_id,
        "InputDataConfig": {
            "S3InputDataConfig": {
                # the run's own input (a field of the manual input, or the seed file's folder)
                "S3Uri.$": "$.plan.batch.InputS3Uri",
                "S3InputFormat": step.input_format.value,
            }
        },
        "OutputDataConfig": {"S3OutputDataConfig": output},
    }
    if step.timeout_duration_in_hours is not None:
        parameters["TimeoutDurationInHours"] = step.timeout_duration_in_hours
    if step.model_invocation_type is not None:
        parameters["ModelInvocationType"] = step.model_invocation_type.value
    if step.vpc_config is not None:
        parameters["VpcConfig"] = {
            "SubnetIds": list(step.vpc_config.subnet_ids),
            "SecurityGroupIds": list(step.vpc_config.security_group_ids),
        }
    if step.tags:
        parameters["Tags"] = [{"Key": k, "Value": v} for k, v in step.tags.items()]
    return parameters
