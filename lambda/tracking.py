"""Hand asynchronous objects to the stack's job-status state machine, and signal WaitConditions.

The handler returns as soon as Clean Rooms ML accepts a create; waiting is the state machine's
work. The execution name is derived from the object's ARN and the CloudFormation request, so a
retried create starts no second execution. At the end of an execution the state machine invokes
the handler again to signal the CloudFormation WaitCondition handle, if the resource has one.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from errors import HandlerError, describe, error_code

#: Shared with constructs_lib/_contract.py.
STATE_MACHINE_ENV = "JOB_STATUS_STATE_MACHINE_ARN"
SIGNAL_ACTION = "SignalWaitCondition"
KIND_AUDIENCE_MODEL = "AUDIENCE_MODEL"
KIND_AUDIENCE_GENERATION_JOB = "AUDIENCE_GENERATION_JOB"
KIND_BEDROCK_BATCH_INFERENCE_JOB = "BEDROCK_BATCH_INFERENCE_JOB"
_SUCCESS_OUTCOMES = ("SUCCEEDED", "SUCCEEDED_WITH_WARNINGS")
_SIGNAL_TIMEOUT_SECONDS = 20


def execution_name(kind: str, arn: str, request_id: str) -> str:
    """A Step Functions execution name (<= 80 characters) unique to this object and request.

    A Bedrock job's tracking execution is named from its ARN alone (``bedrock-<sha256>``): the
    state machine recomputes the name from a "Batch Inference Job State Change" event to find
    and stop the polling execution when the event reports the end first.
    """
    if kind == KIND_BEDROCK_BATCH_INFERENCE_JOB:
        return f"bedrock-{hashlib.sha256(arn.encode()).hexdigest()}"
    digest = hashlib.sha256(f"{arn}|{request_id}".encode()).hexdigest()[:48]
    return f"{kind[:28]}-{digest}"


def start_tracking(
    client: Any, kind: str, arn: str, request_id: str, signal_url: str | None = None
) -> str | None:
    """Start the tracking execution; None when the stack has no tracker configured."""
    state_machine = os.environ.get(STATE_MACHINE_ENV)
    if not state_machine:
        return None
    payload: dict[str, Any] = {"kind": kind, "arn": arn}
    if signal_url:
        payload["signalUrl"] = signal_url
    name = execution_name(kind, arn, request_id)
    try:
        response = client.start_execution(
            stateMachineArn=state_machine, name=name, input=json.dumps(payload, sort_keys=True)
        )
    except ClientError as error:
        if error_code(error) == "ExecutionAlreadyExists":
            return f"{state_machine.replace(':stateMachine:', ':execution:')}:{name}"
        raise describe("StartExecution", error, arn=arn) from None
    execution: str = response["executionArn"]
    return execution


def signal_wait_condition(event: Mapping[str, Any]) -> dict[str, Any]:
    """PUT the WaitCondition signal: SUCCESS for a succeeded job, FAILURE with the cause else."""
    url = str(event.get("SignalUrl") or "")
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        raise HandlerError("SignalUrl must be the https:// URL of a WaitConditionHandle")
    outcome = str(event.get("Outcome", ""))
    status = "SUCCESS" if outcome in _SUCCESS_OUTCOMES else "FAILURE"
    reason = str(event.get("Reason") or outcome)[:4000]
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "UniqueId": str(event.get("UniqueId", "job"))[:128],
            "Data": json.dumps({"outcome": outcome}),
        }
    ).encode()
    # Presigned S3 PUT: the signature covers an empty Content-Type.
    # The scheme was checked above (https, or loopback http in tests).
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=_SIGNAL_TIMEOUT_SECONDS) as response:  # noqa: S310
            code = response.status
    except OSError as error:
        raise HandlerError(f"signalling the WaitCondition failed: {error}") from None
    return {"Signalled": status, "HttpStatus": code}
