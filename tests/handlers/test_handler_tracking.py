"""The handler hands asynchronous objects to the job-status state machine and signals
WaitConditions (Stubber on real stepfunctions clients; a loopback server as the handle URL)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import handler
import pytest
import tracking
from errors import HandlerError
from lifecycle import OWNER_TAG

from tests.handler_support import (
    DATASET_ARN,
    JOB_ARN,
    MODEL_ARN,
    client_error,
    event,
    new_client,
    stubbed,
)

STATE_MACHINE = "arn:aws:states:us-east-1:111122223333:stateMachine:Audiences-job-status"
SIGNAL_URL = "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/arn%3Aaws/h?sig=1"
REQUEST = {"name": "lookalike", "trainingDatasetArn": DATASET_ARN}


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(tracking.STATE_MACHINE_ENV, STATE_MACHINE)
    made = {"cleanroomsml": new_client(), "stepfunctions": new_client("stepfunctions")}
    monkeypatch.setattr(handler.clients, "client", lambda service, region_name=None: made[service])
    return made


def _create_model(stubber: Any) -> None:
    stubber.add_response("list_audience_models", {"audienceModels": []})
    stubber.add_response("create_audience_model", {"audienceModelArn": MODEL_ARN})


def test_create_starts_one_tracking_execution_with_the_signal_url(clients: dict[str, Any]) -> None:
    create = event("Create", "Custom::CleanRoomsMLAudienceModel", REQUEST)
    create["ResourceProperties"]["SignalUrl"] = SIGNAL_URL
    name = tracking.execution_name("AUDIENCE_MODEL", MODEL_ARN, "req-1")
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]) as sfn:
        _create_model(crml)
        sfn.add_response(
            "start_execution",
            {
                "executionArn": f"{STATE_MACHINE}:{name}".replace(":stateMachine:", ":execution:"),
                "startDate": "2024-07-01T00:00:00Z",
            },
            {
                "stateMachineArn": STATE_MACHINE,
                "name": name,
                "input": json.dumps(
                    {"arn": MODEL_ARN, "kind": "AUDIENCE_MODEL", "signalUrl": SIGNAL_URL},
                    sort_keys=True,
                ),
            },
        )
        result = handler.on_event(create)
    assert result["PhysicalResourceId"] == MODEL_ARN
    assert result["Data"]["TrackingExecutionArn"].endswith(name)
    assert len(name) <= 80


def test_retried_create_does_not_start_a_second_execution(clients: dict[str, Any]) -> None:
    create = event("Create", "Custom::CleanRoomsMLAudienceModel", REQUEST)
    owner = handler.owner_tag_value(create)
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]) as sfn:
        crml.add_response(
            "list_audience_models",
            {
                "audienceModels": [
                    {
                        "createTime": "2024-07-01T00:00:00Z",
                        "updateTime": "2024-07-01T00:00:00Z",
                        "audienceModelArn": MODEL_ARN,
                        "name": "lookalike",
                        "trainingDatasetArn": DATASET_ARN,
                        "status": "CREATE_PENDING",
                    }
                ]
            },
        )
        crml.add_response("list_tags_for_resource", {"tags": {OWNER_TAG: owner}})
        client_error(
            sfn,
            "start_execution",
            "ExecutionAlreadyExists",
            "Execution already exists with a different input",
            400,
        )
        result = handler.on_event(create)
    assert result["PhysicalResourceId"] == MODEL_ARN
    assert ":execution:" in result["Data"]["TrackingExecutionArn"]


def test_generation_jobs_are_tracked_without_a_signal(clients: dict[str, Any]) -> None:
    request = {
        "name": "weekly",
        "configuredAudienceModelArn": JOB_ARN.replace(
            "audience-generation-job/j", "configured-audience-model/c"
        ),
        "seedAudience": {
            "roleArn": "arn:aws:iam::111122223333:role/r",
            "dataSource": {"s3Uri": "s3://b/seed.jsonl"},
        },
    }
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]) as sfn:
        crml.add_response("list_audience_generation_jobs", {"audienceGenerationJobs": []})
        crml.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
        sfn.add_response(
            "start_execution",
            {"executionArn": STATE_MACHINE + ":x", "startDate": "2024-07-01T00:00:00Z"},
            {
                "stateMachineArn": STATE_MACHINE,
                "name": tracking.execution_name("AUDIENCE_GENERATION_JOB", JOB_ARN, "req-1"),
                "input": json.dumps(
                    {"arn": JOB_ARN, "kind": "AUDIENCE_GENERATION_JOB"}, sort_keys=True
                ),
            },
        )
        handler.on_event(event("Create", "Custom::CleanRoomsMLAudienceGenerationJob", request))


def test_configured_models_are_not_tracked(clients: dict[str, Any]) -> None:
    request = {
        "name": "c",
        "audienceModelArn": MODEL_ARN,
        "sharedAudienceMetrics": ["NONE"],
        "outputConfig": {
            "destination": {"s3Destination": {"s3Uri": "s3://b/o/"}},
            "roleArn": "arn:aws:iam::111122223333:role/r",
        },
    }
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]):
        crml.add_response("list_configured_audience_models", {"configuredAudienceModels": []})
        crml.add_response(
            "create_configured_audience_model",
            {
                "configuredAudienceModelArn": MODEL_ARN.replace(
                    "audience-model", "configured-audience-model"
                )
            },
        )
        result = handler.on_event(
            event("Create", "Custom::CleanRoomsMLConfiguredAudienceModel", request)
        )
    assert "TrackingExecutionArn" not in result["Data"]


def test_without_a_tracker_nothing_is_started(
    clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tracking.STATE_MACHINE_ENV)
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]):
        _create_model(crml)
        result = handler.on_event(event("Create", "Custom::CleanRoomsMLAudienceModel", REQUEST))
    assert "TrackingExecutionArn" not in result["Data"]


def test_fails_if_the_tracking_execution_cannot_start(clients: dict[str, Any]) -> None:
    with stubbed(clients["cleanroomsml"]) as crml, stubbed(clients["stepfunctions"]) as sfn:
        _create_model(crml)
        client_error(
            sfn,
            "start_execution",
            "AccessDeniedException",
            "not authorized to perform states:StartExecution",
            403,
        )
        with pytest.raises(HandlerError, match="StartExecution failed"):
            handler.on_event(event("Create", "Custom::CleanRoomsMLAudienceModel", REQUEST))


@pytest.fixture
def handle() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handle(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "type": self.headers["Content-Type"]})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Handle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/handle", received
    server.shutdown()


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("SUCCEEDED", "SUCCESS"),
        ("SUCCEEDED_WITH_WARNINGS", "SUCCESS"),
        ("FAILED", "FAILURE"),
        ("TIMED_OUT", "FAILURE"),
        ("CALL_FAILED", "FAILURE"),
    ],
)
def test_signal_bodies(handle: tuple[str, list[dict[str, Any]]], outcome: str, status: str) -> None:
    url, received = handle
    answer = handler.on_event(
        {
            "Action": "SignalWaitCondition",
            "SignalUrl": url,
            "Outcome": outcome,
            "Reason": "Not enough users",
            "UniqueId": MODEL_ARN,
        }
    )
    assert answer == {"Signalled": status, "HttpStatus": 200}
    [signal] = received
    assert signal["body"]["Status"] == status
    assert signal["body"]["Reason"] == "Not enough users"
    assert signal["body"]["UniqueId"] == MODEL_ARN
    assert json.loads(signal["body"]["Data"]) == {"outcome": outcome}
    assert signal["type"] == ""


def test_fails_if_the_signal_url_is_not_https() -> None:
    with pytest.raises(HandlerError, match="must be the https:// URL"):
        handler.on_event(
            {
                "Action": "SignalWaitCondition",
                "SignalUrl": "file:///etc/passwd",
                "Outcome": "SUCCEEDED",
            }
        )


def test_fails_if_the_handle_cannot_be_reached() -> None:
    with pytest.raises(HandlerError, match="signalling the WaitCondition failed"):
        handler.on_event(
            {
                "Action": "SignalWaitCondition",
                "SignalUrl": "http://127.0.0.1:9/x",
                "Outcome": "SUCCEEDED",
            }
        )


def test_a_new_signal_url_on_a_kept_model_is_signalled(clients: dict[str, Any]) -> None:
    # GIVEN an update that only gives the model a new WaitCondition handle (a changed
    # ready_timeout, or a model newly queued behind it)
    update = event(
        "Update",
        "Custom::CleanRoomsMLAudienceModel",
        REQUEST,
        old_request=REQUEST,
        physical_id=MODEL_ARN,
        request_id="req-2",
    )
    update["ResourceProperties"]["SignalUrl"] = SIGNAL_URL
    name = tracking.execution_name("AUDIENCE_MODEL", MODEL_ARN, "req-2")
    with stubbed(clients["cleanroomsml"]), stubbed(clients["stepfunctions"]) as sfn:
        sfn.add_response(
            "start_execution",
            {"executionArn": f"{STATE_MACHINE}:{name}", "startDate": "2024-07-01T00:00:00Z"},
            {
                "stateMachineArn": STATE_MACHINE,
                "name": name,
                "input": json.dumps(
                    {"arn": MODEL_ARN, "kind": "AUDIENCE_MODEL", "signalUrl": SIGNAL_URL},
                    sort_keys=True,
                ),
            },
        )
        result = handler.on_event(update)
    # THEN the model is kept and tracked again with the new URL: the new condition is signalled
    assert result["PhysicalResourceId"] == MODEL_ARN
