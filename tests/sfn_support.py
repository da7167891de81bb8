"""Run the synthesized job-status state machine in moto's Step Functions interpreter.

moto has no Clean Rooms ML backend and does not bridge two things real Step Functions does for
AWS SDK integrations; this helper fills exactly those gaps and nothing else:

- ``cleanroomsml`` / ``bedrock`` calls go to real botocore clients wrapped in ``Stubber`` with
  scripted answers (so every request is validated against the service model);
- Step Functions hands SDK tasks PascalCase parameters and returns PascalCase results; moto passes
  parameters through and returns boto's camelCase. The bridge maps names both ways against the
  service model, so the definition under test keeps real-AWS casing;
- moto names SDK errors by its own service-name table: the two services are added to it
  (``CleanRoomsMl.ThrottlingException``, ``Bedrock.ThrottlingException``, as Step Functions names
  them);
- moto's optimized Step Functions integration (``states:startExecution``, ``.sync:2``) hands the
  definition's PascalCase parameters to boto unchanged and returns boto's camelCase: its two
  normalisation hooks (no-ops in moto) are filled in with the same model-based mapping, and an
  unnamed nested execution gets a UUID name as in Step Functions;
- moto forgets the ``error`` and ``cause`` given to ``StopExecution``; Step Functions reports
  them in the stopped execution's description (``DescribeExecution``: ``status`` ABORTED with
  the stop's ``cause``, and an ``error`` only when one was given), which is what a parent
  waiting with ``startExecution.sync:2`` receives as its failure cause. The bridge records them
  and puts them back in that description;
- Lambda needs Docker in moto: the signal task invokes the real handler module in-process;
- retry back-off is recorded instead of slept.
"""

from __future__ import annotations

import functools
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk_task,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_sfn as sfn_task,
)

from tests.handler_support import new_client

REGION = "us-east-1"
ACCOUNT = "123456789012"
HANDLER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler"


def _machine(template: dict[str, Any], name_contains: str | None) -> dict[str, Any]:
    [machine] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and (name_contains is None or name_contains in r["Properties"]["StateMachineName"])
    ]
    return machine


def machine_name_of(template: dict[str, Any], name_contains: str | None = None) -> str:
    """A state machine's physical name (the definition refers to its own executions by it):
    the only one of ``template``, or the one whose name contains ``name_contains``."""
    name: str = _machine(template, name_contains)["Properties"]["StateMachineName"]
    return name


def definition_of(template: dict[str, Any], name_contains: str | None = None) -> str:
    """A state machine's definition with CloudFormation tokens resolved to test values."""
    body = _machine(template, name_contains)["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return "".join(_resolve(part, template) for part in parts)


def s3_json(uri: str) -> dict[str, Any]:
    """The JSON object at ``uri`` in (moto's) S3, e.g. a batch run's manifest."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"]
    found: dict[str, Any] = json.loads(body.read())
    return found


def _resolve(part: Any, template: dict[str, Any]) -> str:
    if isinstance(part, str):
        return part
    ref = part.get("Ref")
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if ref in pseudo:
        return pseudo[ref]
    if ref in template["Resources"]:
        resource = template["Resources"][ref]
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            name = resource["Properties"]["StateMachineName"]
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        if resource["Type"] == "AWS::S3::Bucket":
            return ref.lower()
    if "Fn::GetAtt" in part:
        logical_id, _ = part["Fn::GetAtt"]
        resource_type = template["Resources"][logical_id]["Type"]
        if resource_type == "AWS::Lambda::Function":
            return HANDLER_ARN
        if resource_type == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        if resource_type == "AWS::KMS::Key":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical_id}"
    raise AssertionError(f"unresolved token in the definition: {part}")


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def to_api_casing(shape: Any, value: Any) -> Any:
    """PascalCase parameters (as Step Functions sends them) -> the API's member names. Any
    other spelling of a member (camelCase included) fails, as it would in Step Functions."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        by_pascal = {_pascal(name): name for name in shape.members}
        out = {}
        for key, item in value.items():
            member = by_pascal.get(key)
            if member is None:
                raise AssertionError(f"{key} is not a PascalCase member of {shape.name}")
            out[member] = to_api_casing(shape.members[member], item)
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [to_api_casing(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: to_api_casing(shape.value, v) for k, v in value.items()}
    return value


def to_sfn_casing(shape: Any, value: Any) -> Any:
    """An API answer -> PascalCase member names, JSON-safe values (as Step Functions returns)."""
    if shape is not None and shape.type_name == "structure" and isinstance(value, dict):
        return {_pascal(k): to_sfn_casing(shape.members.get(k), v) for k, v in value.items()}
    if shape is not None and shape.type_name == "list" and isinstance(value, list):
        return [to_sfn_casing(shape.member, v) for v in value]
    if shape is not None and shape.type_name == "map" and isinstance(value, dict):
        return {k: to_sfn_casing(shape.value, v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


#: ``StopExecution`` requests' ``error`` / ``cause`` by execution ARN (moto does not keep them).
_STOP_REASONS: dict[str, dict[str, str]] = {}

#: Faults a test injects into moto's own Step Functions as SDK tasks call it: operation name ->
#: error code, raised once each (e.g. a poller that ends between DescribeExecution and
#: StopExecution).
_FAULTS: dict[str, str] = {}

#: How a nested execution's description is rendered as a failure cause: "sfn" (PascalCase, as
#: Step Functions' optimized integration returns results) or "api" (the API's camelCase, the
#: rendering ``read_nested_failure`` also reads, for an interpreter that gives it).
_DESCRIPTION_CASING = {"value": "sfn"}


_FAULT_CALLS: dict[str, int] = {}


def _raise_fault(operation: str) -> None:
    """Raise the fault a test injected for this call of ``operation`` (``"Op"``: its next
    call; ``"Op#n"``: its n-th call), once."""
    _FAULT_CALLS[operation] = _FAULT_CALLS.get(operation, 0) + 1
    fault = _FAULTS.pop(operation, None) or _FAULTS.pop(
        f"{operation}#{_FAULT_CALLS[operation]}", None
    )
    if fault:
        raise ClientError(
            {
                "Error": {"Code": fault, "Message": f"injected {fault}"},
                "ResponseMetadata": {
                    "RequestId": "00000000-0000-0000-0000-000000000000",
                    "HTTPStatusCode": 400,
                },
            },
            operation,
        )


class _FaultingClient:
    """The optimized Step Functions integration's client, raising injected faults."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._client, method)
        operation = self._client.meta.method_to_api_mapping.get(method)
        if operation is None:
            return target

        def call(**params: Any) -> Any:
            _raise_fault(operation)
            return target(**params)

        return call


class CasingBridge:
    """A client as the interpreter sees it: PascalCase in, PascalCase out; calls are counted."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, method: str) -> Callable[..., Any]:
        model = self._client.meta.service_model
        operation = model.operation_model(self._client.meta.method_to_api_mapping[method])

        def call(**params: Any) -> Any:
            self.calls.append(operation.name)
            _raise_fault(operation.name)
            try:
                answer = getattr(self._client, method)(
                    **to_api_casing(operation.input_shape, params)
                )
            except ClientError as error:
                # Real answers always carry a request id (Stubber's scripted ones do not).
                error.response.setdefault("ResponseMetadata", {}).setdefault(
                    "RequestId", "00000000-0000-0000-0000-000000000000"
                )
                raise
            answer.pop("ResponseMetadata", None)
            if operation.name == "StopExecution":
                given = to_api_casing(operation.input_shape, params)
                _STOP_REASONS[given["executionArn"]] = {
                    k: given[k] for k in ("error", "cause") if k in given
                }
            return to_sfn_casing(operation.output_shape, answer)

        return call


@functools.cache
def _sfn_model() -> tuple[Any, dict[str, str]]:
    """Step Functions' service model and its method -> operation names (read once)."""
    client = boto3.client("stepfunctions", region_name=REGION)
    return client.meta.service_model, client.meta.method_to_api_mapping


def _sfn_operation(task: Any, action: str | None) -> Any:
    model, operations = _sfn_model()
    return model.operation_model(operations[action or task._get_boto_service_action()])


def _sfn_parameters(
    task: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    _ORIGINAL_SFN_PARAMETERS(task, parameters, boto_service_name, service_action_name)
    operation = _sfn_operation(task, service_action_name)
    converted = to_api_casing(operation.input_shape, parameters)
    if operation.name == "StartExecution":
        # Step Functions names an unnamed execution with a UUID (moto would name it "None").
        converted.setdefault("name", str(uuid.uuid4()))
    parameters.clear()
    parameters.update(converted)


def _sfn_response(
    task: Any,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    if not isinstance(response, dict):
        return
    if response.get("status") == "ABORTED":
        for member, value in _STOP_REASONS.get(response.get("executionArn", ""), {}).items():
            response.setdefault(member, value)
    if response.get("status") not in (None, "RUNNING", "SUCCEEDED") and (
        _DESCRIPTION_CASING["value"] == "api"
    ):
        json_safe = json.loads(json.dumps(response, default=str))
        response.clear()
        response.update(json_safe)
        return
    converted = to_sfn_casing(_sfn_operation(task, service_action_name).output_shape, response)
    response.clear()
    response.update(converted)


_ORIGINAL_SFN_PARAMETERS = sfn_task.StateTaskServiceSfn._normalise_parameters
_ORIGINAL_SFN_RESPONSE = sfn_task.StateTaskServiceSfn._normalise_response


class _Lambda:
    """The signal task's Lambda: the real handler module, invoked in-process."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, **params: Any) -> dict[str, Any]:
        import handler

        payload = params.get("Payload", "{}")
        event = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
        self.payloads.append(event)
        try:
            body, error = handler.on_event(event), None
        except Exception as exc:
            body, error = {"errorMessage": str(exc), "errorType": type(exc).__name__}, "Unhandled"
        answer: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(body).encode()),
        }
        if error:
            answer["FunctionError"] = error
        return answer


class _RecordingTime:
    """Stands in for the ``time`` module inside moto's retrier: back-off is recorded, and slept
    only scaled down by ``scale`` (0: not at all), so that a load test sees retries spread in
    time as they would be, without waiting minutes."""

    def __init__(self, backoffs: list[float], scale: float = 0.0) -> None:
        self._backoffs = backoffs
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        self._backoffs.append(seconds)
        if self._scale:
            time.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class Run:
    """One finished execution: status, output, history, and what it called."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]
    calls: list[str]
    events: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    backoffs: list[float] = field(default_factory=list)

    @property
    def transitions(self) -> int:
        """States entered (Step Functions bills Standard workflows per state transition)."""
        return sum(1 for e in self.history if e["type"].endswith("StateEntered"))

    @property
    def entered(self) -> list[str]:
        """The names of the states entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history
            if "stateEnteredEventDetails" in e
        ]


@contextmanager
def interpreter(
    stubbers: dict[str, Stubber] | None = None,
    *,
    backoff_scale: float = 0.0,
    faults: dict[str, str] | None = None,
    description_casing: str = "sfn",
) -> Iterator[Callable[[str, dict[str, Any]], Run]]:
    """Yields ``run(definition, input) -> Run``; ``stubbers`` maps service -> scripted client
    (anything with a ``client``); retry back-off is slept scaled by ``backoff_scale``;
    ``faults`` are raised once by moto's Step Functions when an SDK task calls it;
    ``description_casing`` renders failed nested executions' descriptions."""
    bridges = {
        service: CasingBridge(stubber.client)  # type: ignore[attr-defined]
        for service, stubber in (stubbers or {}).items()
    }
    moto_bridges: dict[str, CasingBridge] = {}
    fake_lambda = _Lambda()
    backoffs: list[float] = []
    original_factory = aws_sdk_task.boto_client_for
    original_lambda_factory = lambda_eval_utils.boto_client_for
    original_sfn_factory = sfn_task.boto_client_for
    original_time = retrier_decl.time

    def sdk_factory(region: str, service: str, state_credentials: Any = None) -> Any:
        if service in bridges:
            return bridges[service]
        moto_client = original_factory(
            region=region, service=service, state_credentials=state_credentials
        )
        if service != "stepfunctions":
            return moto_client
        # moto's own Step Functions answers in boto's casing: bridge it too (calls counted).
        if "stepfunctions" not in moto_bridges:
            moto_bridges["stepfunctions"] = CasingBridge(moto_client)
        return moto_bridges["stepfunctions"]

    def lambda_factory(region: str, service: str, state_credentials: Any = None) -> Any:
        return fake_lambda

    _STOP_REASONS.clear()
    _FAULTS.clear()
    _FAULT_CALLS.clear()
    _FAULTS.update(faults or {})
    _DESCRIPTION_CASING["value"] = description_casing
    aws_sdk_task.boto_client_for = sdk_factory
    sfn_task.StateTaskServiceSfn._normalise_parameters = _sfn_parameters  # type: ignore[method-assign]
    sfn_task.StateTaskServiceSfn._normalise_response = _sfn_response  # type: ignore[method-assign]
    lambda_eval_utils.boto_client_for = lambda_factory
    sfn_task.boto_client_for = lambda **kwargs: _FaultingClient(original_sfn_factory(**kwargs))
    retrier_decl.time = _RecordingTime(backoffs, backoff_scale)  # type: ignore[assignment]
    aws_sdk_task._SERVICE_ERROR_NAMES.update({"cleanroomsml": "CleanRoomsMl", "bedrock": "Bedrock"})
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            sfn = boto3.client("stepfunctions", region_name=REGION)
            events = boto3.client("events", region_name=REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            queue = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            events.put_rule(
                Name="outcomes",
                EventPattern=json.dumps(
                    {
                        "source": [
                            "cleanrooms-ml-cdk.job-status",
                            "cleanrooms-ml-cdk.audience-generation",
                            "cleanrooms-ml-cdk.batch-inference",
                        ]
                    }
                ),
            )
            events.put_targets(Rule="outcomes", Targets=[{"Id": "q", "Arn": queue_arn}])

            machines: dict[str, str] = {}

            def machine_for(definition: str, name: str | None) -> str:
                key = f"{name}|{definition}"
                if key not in machines:
                    machine_name = name or f"sm-{threading.get_ident()}-{time.monotonic_ns()}"
                    machines[key] = sfn.create_state_machine(
                        name=machine_name[:80],
                        definition=definition,
                        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
                    )["stateMachineArn"]
                return machines[key]

            def start(
                definition: str,
                execution_input: dict[str, Any],
                execution_name: str | None = None,
                machine_name: str | None = None,
            ) -> str:
                """Start an execution without waiting for it."""
                kwargs: dict[str, Any] = {"name": execution_name} if execution_name else {}
                arn: str = sfn.start_execution(
                    stateMachineArn=machine_for(definition, machine_name),
                    input=json.dumps(execution_input),
                    **kwargs,
                )["executionArn"]
                return arn

            def wait_for(execution: str, timeout: float = 60) -> Run:
                deadline = time.monotonic() + timeout
                while True:
                    described = sfn.describe_execution(executionArn=execution)
                    if described["status"] != "RUNNING":
                        break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"execution did not finish within {timeout} s")
                    time.sleep(0.05)
                history = sfn.get_execution_history(executionArn=execution, maxResults=1000)[
                    "events"
                ]
                received: list[dict[str, Any]] = []
                while True:  # every event (a run of 20 tracked jobs publishes 21)
                    page = sqs.receive_message(
                        QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
                    ).get("Messages", [])
                    if not page:
                        break
                    received += page
                    for message in page:
                        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                output = described.get("output")
                return Run(
                    status=described["status"],
                    output=json.loads(output) if output else None,
                    error=described.get("error"),
                    cause=described.get("cause"),
                    history=history,
                    calls=[c for b in [*bridges.values(), *moto_bridges.values()] for c in b.calls],
                    events=[json.loads(m["Body"]) for m in received],
                    signals=list(fake_lambda.payloads),
                    backoffs=list(backoffs),
                )

            def run(
                definition: str,
                execution_input: dict[str, Any],
                execution_name: str | None = None,
                machine_name: str | None = None,
            ) -> Run:
                for bridge in [*bridges.values(), *moto_bridges.values()]:
                    bridge.calls.clear()
                return wait_for(start(definition, execution_input, execution_name, machine_name))

            run.start = start  # type: ignore[attr-defined]
            run.machine = machine_for  # type: ignore[attr-defined]
            run.wait_for = wait_for  # type: ignore[attr-defined]
            run.describe = sfn.describe_execution  # type: ignore[attr-defined]

            def list_executions(machine_name: str) -> list[dict[str, Any]]:
                arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine_name}"
                found: list[dict[str, Any]] = []
                for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                    found.extend(page["executions"])
                return found

            run.list_executions = list_executions  # type: ignore[attr-defined]

            def is_waiting(execution: str) -> bool:
                """Whether ``execution`` has entered a Wait state (and so sits in it, or did)."""
                try:
                    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)
                except sfn.exceptions.ExecutionDoesNotExist:
                    return False
                return any(e["type"] == "WaitStateEntered" for e in events["events"])

            def wait_until_waiting(execution: str) -> None:
                """Until ``execution`` sits in a Wait state (e.g. a poller after its first poll)."""
                deadline = time.monotonic() + 30
                while not is_waiting(execution):
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{execution} never reached a Wait state")
                    time.sleep(0.05)
                if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
                    raise AssertionError(f"{execution} ended instead of waiting")

            run.is_waiting = is_waiting  # type: ignore[attr-defined]
            run.wait_until_waiting = wait_until_waiting  # type: ignore[attr-defined]
            try:
                yield run
            finally:
                record_executions(sfn)
    finally:
        aws_sdk_task.boto_client_for = original_factory
        sfn_task.StateTaskServiceSfn._normalise_parameters = _ORIGINAL_SFN_PARAMETERS  # type: ignore[method-assign]
        sfn_task.StateTaskServiceSfn._normalise_response = _ORIGINAL_SFN_RESPONSE  # type: ignore[method-assign]
        lambda_eval_utils.boto_client_for = original_lambda_factory
        sfn_task.boto_client_for = original_sfn_factory
        _FAULTS.clear()
        _FAULT_CALLS.clear()
        _DESCRIPTION_CASING["value"] = "sfn"
        retrier_decl.time = original_time


#: Where the path-coverage gate collects executions (``tests/sfn_coverage.py`` sets it).
COVERAGE_DIR_ENV = "SFN_COVERAGE_DIR"


def _compact(event: dict[str, Any]) -> list[Any]:
    """``[type, state name, error, id, previous id]`` of a history event."""
    name = error = None
    for key, details in event.items():
        if not key.endswith("EventDetails") or not isinstance(details, dict):
            continue
        name = details.get("name", name)
        error = details.get("error", error)
    return [event["type"], name, error, event.get("id"), event.get("previousEventId")]


def record_executions(sfn: Any) -> None:
    """Every execution of this interpreter (nested ones included), its definition and history,
    appended to the coverage directory when the gate is on."""
    directory = os.environ.get(COVERAGE_DIR_ENV)
    if not directory:
        return
    lines = []
    machines = [
        m for page in sfn.get_paginator("list_state_machines").paginate()
        for m in page["stateMachines"]
    ]  # fmt: skip
    for machine in machines:
        arn = machine["stateMachineArn"]
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        executions = [
            e
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
            for e in page["executions"]
        ]
        for execution in executions:
            if execution["status"] == "RUNNING":
                continue  # still running when the test ended (e.g. a poller a test left waiting)
            events: list[dict[str, Any]] = []
            token = None
            while True:
                kwargs = {"nextToken": token} if token else {}
                page = sfn.get_execution_history(
                    executionArn=execution["executionArn"], maxResults=1000, **kwargs
                )
                events.extend(page["events"])
                token = page.get("nextToken")
                if not token:
                    break
            lines.append(
                json.dumps({"definition": definition, "events": [_compact(e) for e in events]})
            )
    if lines:
        path = Path(directory) / f"executions-{os.getpid()}-{uuid.uuid4().hex}.jsonl"
        path.write_text("\n".join(lines) + "\n")


def stubbed_client(service: str) -> Stubber:
    """A real client for ``service`` (the handler's bundled model) under a Stubber."""
    stubber = Stubber(new_client(service))
    stubber.activate()
    return stubber


__all__ = ["Run", "botocore", "definition_of", "interpreter", "stubbed_client"]
