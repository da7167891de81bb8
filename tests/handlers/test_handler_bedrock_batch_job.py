"""Custom::BedrockBatchInferenceJob handler against Stubber-wrapped real bedrock clients."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import bedrock_batch_job
import botocore
import handler
import pytest
import tracking
from errors import HandlerError
from lifecycle import OWNER_TAG, owner_tag_value

from tests.handler_support import client_error, event, new_client, stubbed

TYPE = bedrock_batch_job.RESOURCE_TYPE
JOB_ARN = "arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/abcdefghijkl"
ROLE_ARN = "arn:aws:iam::111122223333:role/bedrock-batch"
STATE_MACHINE = "arn:aws:states:us-east-1:111122223333:stateMachine:Audiences-job-status"
REQUEST: dict[str, Any] = {
    "jobName": "segment-copy",
    "roleArn": ROLE_ARN,
    "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "inputDataConfig": {
        "s3InputDataConfig": {
            "s3InputFormat": "JSONL",
            "s3Uri": "s3://seeds-bucket/batch-input/",
            "s3BucketOwner": "111122223333",
        }
    },
    "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://seeds-bucket/batch-output/"}},
    "timeoutDurationInHours": 48,
    "modelInvocationType": "InvokeModel",
}


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(tracking.STATE_MACHINE_ENV, STATE_MACHINE)
    made = {"bedrock": new_client("bedrock"), "stepfunctions": new_client("stepfunctions")}
    monkeypatch.setattr(handler.clients, "client", lambda service, region_name=None: made[service])
    return made


def _expected_create(
    request_id: str = "req-1", tags: dict[str, str] | None = None
) -> dict[str, Any]:
    owner = owner_tag_value(event("Create", TYPE, REQUEST, request_id=request_id))
    all_tags = {**(tags or {}), OWNER_TAG: owner}
    return {
        **REQUEST,
        "timeoutDurationInHours": 48,
        "clientRequestToken": hashlib.sha256(owner.encode()).hexdigest(),
        "tags": [{"key": k, "value": v} for k, v in sorted(all_tags.items())],
    }


def _expect_tracking(sfn: Any) -> None:
    sfn.add_response(
        "start_execution",
        {"executionArn": STATE_MACHINE + ":x", "startDate": "2024-07-01T00:00:00Z"},
        {
            "stateMachineArn": STATE_MACHINE,
            "name": f"bedrock-{hashlib.sha256(JOB_ARN.encode()).hexdigest()}",
            "input": json.dumps(
                {"arn": JOB_ARN, "kind": "BEDROCK_BATCH_INFERENCE_JOB"}, sort_keys=True
            ),
        },
    )


def test_create_derives_the_token_from_the_request_and_tracks_the_job(
    clients: dict[str, Any],
) -> None:
    with stubbed(clients["bedrock"]) as bedrock, stubbed(clients["stepfunctions"]) as sfn:
        bedrock.add_response(
            "create_model_invocation_job",
            {"jobArn": JOB_ARN},
            _expected_create(tags={"team": "ads"}),
        )
        _expect_tracking(sfn)
        result = handler.on_event(event("Create", TYPE, REQUEST, tags={"team": "ads"}))
    assert result["PhysicalResourceId"] == JOB_ARN
    assert result["Data"]["JobArn"] == JOB_ARN
    assert result["Data"]["JobName"] == "segment-copy"


def test_retried_create_sends_the_same_token(clients: dict[str, Any]) -> None:
    # GIVEN two deliveries of the same CloudFormation request THEN Bedrock sees one token
    tokens = []
    for _ in range(2):
        with stubbed(clients["bedrock"]) as bedrock, stubbed(clients["stepfunctions"]) as sfn:
            expected = _expected_create()
            tokens.append(expected["clientRequestToken"])
            bedrock.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, expected)
            _expect_tracking(sfn)
            handler.on_event(event("Create", TYPE, REQUEST))
    assert tokens[0] == tokens[1]
    assert tokens[0] != _expected_create(request_id="req-2")["clientRequestToken"]


def test_a_token_given_by_the_user_is_kept(clients: dict[str, Any]) -> None:
    request = {**REQUEST, "clientRequestToken": "my-token-1"}
    with stubbed(clients["bedrock"]) as bedrock, stubbed(clients["stepfunctions"]) as sfn:
        bedrock.add_response(
            "create_model_invocation_job",
            {"jobArn": JOB_ARN},
            {**_expected_create(), "clientRequestToken": "my-token-1"},
        )
        _expect_tracking(sfn)
        handler.on_event(event("Create", TYPE, request))


def test_tags_update_in_place_with_bedrocks_tag_shape(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock, stubbed(clients["stepfunctions"]):
        bedrock.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["old"]})
        bedrock.add_response(
            "tag_resource", {}, {"resourceARN": JOB_ARN, "tags": [{"key": "team", "value": "ml"}]}
        )
        result = handler.on_event(
            event(
                "Update",
                TYPE,
                REQUEST,
                tags={"team": "ml"},
                old_request=REQUEST,
                old_tags={"team": "ads", "old": "1"},
                physical_id=JOB_ARN,
            )
        )
    assert result["PhysicalResourceId"] == JOB_ARN


def test_a_changed_job_starts_a_new_one(clients: dict[str, Any]) -> None:
    new = {**REQUEST, "jobName": "segment-copy-v2", "timeoutDurationInHours": 72}
    with stubbed(clients["bedrock"]) as bedrock, stubbed(clients["stepfunctions"]) as sfn:
        bedrock.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, None)
        _expect_tracking(sfn)
        handler.on_event(
            event(
                "Update",
                TYPE,
                new,
                old_request=REQUEST,
                physical_id=JOB_ARN[:-1] + "x",
                request_id="req-2",
            )
        )


@pytest.mark.parametrize("status", ["Submitted", "Validating", "Scheduled", "InProgress"])
def test_delete_stops_a_running_job(clients: dict[str, Any], status: str) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        bedrock.add_response("get_model_invocation_job", _job(status), {"jobIdentifier": JOB_ARN})
        bedrock.add_response("stop_model_invocation_job", {}, {"jobIdentifier": JOB_ARN})
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=JOB_ARN))


@pytest.mark.parametrize(
    "status", ["Completed", "PartiallyCompleted", "Failed", "Stopped", "Stopping", "Expired"]
)
def test_delete_of_a_finished_job_makes_no_stop_call(clients: dict[str, Any], status: str) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        bedrock.add_response("get_model_invocation_job", _job(status))
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=JOB_ARN))


def test_delete_of_a_missing_job_succeeds(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        client_error(bedrock, "get_model_invocation_job", "ResourceNotFoundException", "gone", 404)
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=JOB_ARN))


def test_delete_when_the_job_ends_between_get_and_stop_succeeds(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        bedrock.add_response("get_model_invocation_job", _job("InProgress"))
        client_error(
            bedrock,
            "stop_model_invocation_job",
            "ConflictException",
            "Job is already completed",
            409,
        )
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=JOB_ARN))


def test_delete_after_a_failed_create_makes_no_call(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]):
        handler.on_event(
            event(
                "Delete",
                TYPE,
                REQUEST,
                physical_id="AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",
            )
        )


def test_fails_if_access_is_denied(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        client_error(
            bedrock,
            "create_model_invocation_job",
            "AccessDeniedException",
            "not authorized to perform iam:PassRole",
            403,
        )
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", TYPE, REQUEST))
    assert "CreateModelInvocationJob failed (AccessDeniedException)" in str(error.value)
    assert "iam:PassRole" in str(error.value)


def test_fails_if_the_request_is_invalid(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        client_error(
            bedrock,
            "create_model_invocation_job",
            "ValidationException",
            "The model does not support batch inference",
        )
        with pytest.raises(HandlerError, match="does not support batch inference"):
            handler.on_event(event("Create", TYPE, REQUEST))


def test_fails_if_stopping_is_denied(clients: dict[str, Any]) -> None:
    with stubbed(clients["bedrock"]) as bedrock:
        bedrock.add_response("get_model_invocation_job", _job("InProgress"))
        client_error(bedrock, "stop_model_invocation_job", "AccessDeniedException", "no", 403)
        with pytest.raises(HandlerError, match="StopModelInvocationJob failed"):
            handler.on_event(event("Delete", TYPE, REQUEST, physical_id=JOB_ARN))


def test_throttling_is_retried_by_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.handler_support import Wire

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _: None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = new_client("bedrock")
    wire = Wire(
        client,
        [(429, {"__type": "ThrottlingException", "message": "slow"}), (200, {"jobArn": JOB_ARN})],
    )
    props = handler.parse_props(
        client,
        "CreateModelInvocationJob",
        {"Request": handler_support_strings(REQUEST)},
        "o/r",
        "r",
    )
    assert bedrock_batch_job.on_create(props, client)["PhysicalResourceId"] == JOB_ARN
    assert len(wire.requests) == 2


def handler_support_strings(value: Any) -> Any:
    from tests.handler_support import stringify

    return stringify(value)


def _job(status: str) -> dict[str, Any]:
    return {
        "jobArn": JOB_ARN,
        "jobName": "segment-copy",
        "modelId": REQUEST["modelId"],
        "roleArn": ROLE_ARN,
        "status": status,
        "submitTime": "2024-07-01T00:00:00Z",
        "inputDataConfig": REQUEST["inputDataConfig"],
        "outputDataConfig": REQUEST["outputDataConfig"],
    }
