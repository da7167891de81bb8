"""Custom::BedrockBatchInferenceJob -> CreateModelInvocationJob / StopModelInvocationJob.

Bedrock makes the create idempotent itself: ``clientRequestToken`` is derived from the
CloudFormation request (stack, logical id, request id) unless the user gives one, so a retried
create returns the job the first attempt started. A job is immutable: any change but tags starts
a new one. Deleting the resource stops a job that is still running; a finished or missing job
needs nothing (batch jobs cannot be deleted).
"""

from __future__ import annotations

import hashlib
from typing import Any

import lifecycle
import tracking
from botocore.exceptions import ClientError
from errors import describe, error_code
from lifecycle import OWNER_TAG, Props, Result

RESOURCE_TYPE = "Custom::BedrockBatchInferenceJob"
SERVICE = "bedrock"
CREATE_OPERATION = "CreateModelInvocationJob"
#: Statuses in which a job still runs and can be stopped.
RUNNING = frozenset({"Submitted", "Validating", "Scheduled", "InProgress"})


def client_request_token(props: Props) -> str:
    """The idempotency token: the user's, or one derived from the CloudFormation request."""
    given = props.request.get("clientRequestToken")
    if given:
        return str(given)
    return hashlib.sha256(props.owner.encode()).hexdigest()


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def _result(arn: str, props: Props) -> Result:
    return {"PhysicalResourceId": arn, "Data": {"JobArn": arn, "JobName": props.request["jobName"]}}


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    request = {
        **props.request,
        "clientRequestToken": client_request_token(props),
        "tags": _tag_list({**props.tags, OWNER_TAG: props.owner}),
    }
    arn: str = lifecycle.call(client, CREATE_OPERATION, **request)["jobArn"]
    answer = _result(arn, props)
    if tracker is not None:
        execution = tracking.start_tracking(
            tracker, tracking.KIND_BEDROCK_BATCH_INFERENCE_JOB, arn, props.request_id
        )
        if execution:
            answer["Data"]["TrackingExecutionArn"] = execution
    return answer


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    if lifecycle.changed_fields(old.request, props.request):
        return on_create(props, client, tracker)
    lifecycle.update_tags(
        client, physical_id, old.tags, props.tags, arn_parameter="resourceARN", tag_shape=_tag_list
    )
    return _result(physical_id, props)


def on_delete(physical_id: str, client: Any) -> Result:
    done: Result = {"PhysicalResourceId": physical_id}
    if not (physical_id.startswith("arn:") and ":model-invocation-job/" in physical_id):
        return done
    try:
        status = client.get_model_invocation_job(jobIdentifier=physical_id)["status"]
        if status in RUNNING:
            client.stop_model_invocation_job(jobIdentifier=physical_id)
    except ClientError as error:
        # Gone, or finished/stopping between the two calls: nothing left to stop.
        if error_code(error) not in ("ResourceNotFoundException", "ConflictException"):
            raise describe("StopModelInvocationJob", error, arn=physical_id) from None
    return done
