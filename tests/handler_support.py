"""Helpers for handler tests: real botocore clients (the handler's own factory and bundled
models) wrapped in Stubber, CloudFormation-shaped events, and a wire-level fake for retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import clients
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from tests.conftest import ROOT

LAMBDA_DIR = ROOT / "lambda"

REGION = "us-east-1"
ACCOUNT = "111122223333"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Audiences/0f1e2d3c"
MODEL_ARN = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:audience-model/7d0b5f2a-model"
DATASET_ARN = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:training-dataset/ds-1"
CAM_ARN = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:configured-audience-model/cam-1"
JOB_ARN = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:audience-generation-job/job-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cleanrooms-ml-audiences"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def new_client(service: str = "cleanroomsml") -> Any:
    """A client built exactly like the handler's (bundled models, retry config), uncached."""
    return clients.new_session().client(service, region_name=REGION, config=clients.CLIENT_CONFIG)


def event(
    request_type: str,
    resource_type: str,
    request: dict[str, Any],
    *,
    tags: dict[str, str] | None = None,
    physical_id: str | None = None,
    old_request: dict[str, Any] | None = None,
    old_tags: dict[str, str] | None = None,
    request_id: str = "req-1",
    logical_id: str = "Model",
) -> dict[str, Any]:
    """A CloudFormation custom-resource event, every property a string as CloudFormation sends."""
    body: dict[str, Any] = {
        "RequestType": request_type,
        "ResourceType": resource_type,
        "RequestId": request_id,
        "StackId": STACK_ID,
        "LogicalResourceId": logical_id,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/secret-signature",
        "ResourceProperties": {
            "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider",
            "Request": stringify(request),
            "Tags": stringify(tags or {}),
        },
    }
    if physical_id is not None:
        body["PhysicalResourceId"] = physical_id
    if old_request is not None:
        body["OldResourceProperties"] = {
            "Request": stringify(old_request),
            "Tags": stringify(old_tags or {}),
        }
    return body


def stringify(value: Any) -> Any:
    """What CloudFormation does to custom-resource properties: every scalar becomes a string."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@contextmanager
def stubbed(client: Any) -> Iterator[Stubber]:
    """Stubber on ``client``; every queued answer must be consumed."""
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def client_error(
    stubber: Stubber,
    method: str,
    code: str,
    message: str,
    status: int = 400,
    expected: dict[str, Any] | None = None,
) -> None:
    stubber.add_client_error(
        method,
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params=expected,
    )


class Wire:
    """Answers requests at the HTTP layer (``before-send``), so botocore's real retry logic,
    parser and error mapping run. Each answer is ``(status, body dict)``."""

    def __init__(self, client: Any, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = list(answers)
        self.requests: list[str] = []
        client.meta.events.register("before-send", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(f"{request.method} {request.url}")
        status, body = self.answers.pop(0)
        headers = {"Content-Type": "application/json"}
        if status >= 400:
            headers["x-amzn-ErrorType"] = str(body.get("__type", ""))
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data
