"""Bedrock batch jobs end on events: the "Batch Inference Job State Change" path of the
synthesized job-status state machine, and the sparse polling fallback, run in moto."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import BatchInferenceJob
from constructs_lib.tracking.schedule import EVENT_TRANSITIONS
from tests.conftest import synth_stack
from tests.sfn_support import definition_of, interpreter, machine_name_of, stubbed_client

JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"
ROLE_ARN = "arn:aws:iam::123456789012:role/bedrock-batch"
NOW = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)
POLLER_NAME = f"bedrock-{hashlib.sha256(JOB_ARN.encode()).hexdigest()}"
EVENT = {
    "kind": "BEDROCK_BATCH_INFERENCE_JOB",
    "arn": JOB_ARN,
    "via": "event",
    "eventStatus": "Completed",
}
POLLER_INPUT = {"kind": "BEDROCK_BATCH_INFERENCE_JOB", "arn": JOB_ARN}


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, Any]]:
    # GIVEN a stack with a batch inference job (its tracker gets the Bedrock event rule)
    def build(stack: cdk.Stack) -> None:
        BatchInferenceJob(
            stack,
            "Batch",
            model_id="anthropic.claude-3-haiku-20240307-v1:0",
            role=ROLE_ARN,
            input_s3_uri="s3://seeds-bucket/batch-input/",
            output_s3_uri="s3://seeds-bucket/batch-output/",
        )

    template = synth_stack(tmp_path_factory.mktemp("bedrock-events"), build).raw
    return definition_of(template), machine_name_of(template), template


def _job(status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "jobArn": JOB_ARN,
        "jobName": "batch",
        "modelId": "anthropic.claude-3-haiku",
        "roleArn": ROLE_ARN,
        "status": status,
        "submitTime": NOW,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
    }
    if message:
        answer["message"] = message
    return answer


def test_event_ends_tracking_before_the_next_poll(machine: tuple[str, str, dict]) -> None:
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    stubber.add_response("get_model_invocation_job", _job("InProgress"))  # the poller's first
    stubber.add_response("get_model_invocation_job", _job("Completed"))  # after the event
    with interpreter({"bedrock": stubber}) as run:
        # GIVEN the job's poller waiting out its (sparse, 35 min) interval
        poller = run.start(definition, POLLER_INPUT, POLLER_NAME, name)
        run.wait_until_waiting(poller)
        # WHEN Bedrock's end event starts an execution
        ended = run(definition, EVENT, None, name)
        stopped = run.wait_for(poller)
    stubber.assert_no_pending_responses()
    # THEN the event execution reports the outcome at once and the poller is stopped
    assert ended.status == "SUCCEEDED"
    assert ended.output["end"]["outcome"] == "SUCCEEDED"
    assert [e["detail"]["outcome"] for e in ended.events] == ["SUCCEEDED"]
    assert ended.events[0]["detail"]["result"]["Status"] == "Completed"
    assert stopped.status == "ABORTED"
    assert ended.transitions == EVENT_TRANSITIONS
    # one status call by the poller, one after the event: no polling in between
    assert sorted(ended.calls) == ["DescribeExecution", "GetModelInvocationJob", "StopExecution"]


def test_event_for_a_failed_job_fails_with_bedrocks_message(machine: tuple[str, str, dict]) -> None:
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    stubber.add_response("get_model_invocation_job", _job("InProgress"))
    stubber.add_response("get_model_invocation_job", _job("Failed", "Input file is not JSONL"))
    with interpreter({"bedrock": stubber}) as run:
        poller = run.start(definition, POLLER_INPUT, POLLER_NAME, name)
        run.wait_until_waiting(poller)
        ended = run(definition, {**EVENT, "eventStatus": "Failed"}, None, name)
        run.wait_for(poller)
    assert ended.status == "FAILED"
    assert ended.error == "FAILED"
    assert ended.cause == "Input file is not JSONL"


def test_event_for_a_job_not_tracked_here_ends_quietly(machine: tuple[str, str, dict]) -> None:
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    with interpreter({"bedrock": stubber}) as run:
        ended = run(definition, EVENT, None, name)
    assert ended.status == "SUCCEEDED"
    assert ended.events == []
    assert ended.calls == ["DescribeExecution"]


def test_event_after_the_poller_finished_ends_quietly(machine: tuple[str, str, dict]) -> None:
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    stubber.add_response("get_model_invocation_job", _job("Completed"))
    with interpreter({"bedrock": stubber}) as run:
        # GIVEN the poller already saw the end (the event came late)
        finished = run(definition, POLLER_INPUT, POLLER_NAME, name)
        late = run(definition, EVENT, None, name)
    assert finished.status == "SUCCEEDED"
    assert [e["detail"]["outcome"] for e in finished.events] == ["SUCCEEDED"]
    # THEN the late event publishes no second outcome
    assert late.status == "SUCCEEDED"
    assert late.events == []


def test_lost_event_the_sparse_poll_still_ends_the_job(machine: tuple[str, str, dict]) -> None:
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    stubber.add_response("get_model_invocation_job", _job("InProgress"))
    stubber.add_response("get_model_invocation_job", _job("PartiallyCompleted", "2 records"))
    with interpreter({"bedrock": stubber}) as run:
        result = run(
            definition,
            {**POLLER_INPUT, "poll": {"schedule": [0], "maxPolls": 5, "continueAt": 24000}},
            POLLER_NAME,
            name,
        )
    assert result.status == "SUCCEEDED"
    assert [e["detail"]["outcome"] for e in result.events] == ["SUCCEEDED_WITH_WARNINGS"]
    assert len(result.calls) == 2


def test_bedrock_jobs_poll_sparsely_when_events_are_on(machine: tuple[str, str, dict]) -> None:
    import json

    definition, _, _ = machine
    states = json.loads(definition)["States"]
    assert states["BedrockPolling"]["Result"]["schedule"] == [2100]
    assert states["DefaultPolling"]["Result"]["schedule"] == [30, 60, 120, 240, 300]


def test_the_rule_feeds_bedrock_end_events_to_the_state_machine(
    machine: tuple[str, str, dict],
) -> None:
    _, _, template = machine
    [rule] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.bedrock"]
    assert pattern["detail-type"] == ["Batch Inference Job State Change"]
    assert set(pattern["detail"]["status"]) == {
        "Completed",
        "PartiallyCompleted",
        "Failed",
        "Stopped",
        "Expired",
    }
    [target] = rule["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    assert "$.resources[0]" in transformer["InputPathsMap"].values()
    assert '"via":"event"' in transformer["InputTemplate"].replace(" ", "")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 20


# ---- every branch of the event path (the path-coverage gate's list) ---------------------------


def _event_run(
    machine: tuple[str, str, dict[str, Any]],
    after_event: list[tuple[str, Any]],
    faults: dict[str, str] | None = None,
) -> Any:
    """The poller waiting, then an end event; ``after_event`` scripts the Bedrock answers."""
    definition, name, _ = machine
    stubber = stubbed_client("bedrock")
    stubber.add_response("get_model_invocation_job", _job("InProgress"))  # the poller's
    for kind, value in after_event:
        if kind == "answer":
            stubber.add_response("get_model_invocation_job", value)
        else:
            stubber.add_client_error("get_model_invocation_job", value, "not allowed", 403)
    with interpreter({"bedrock": stubber}, faults=faults) as run:
        poller = run.start(definition, POLLER_INPUT, POLLER_NAME, name)
        run.wait_until_waiting(poller)
        ended = run(definition, EVENT, None, name)
        run.describe(executionArn=poller)
    return ended


def test_event_for_a_partially_completed_job_succeeds_with_warnings(
    machine: tuple[str, str, dict],
) -> None:
    ended = _event_run(machine, [("answer", _job("PartiallyCompleted"))])
    assert ended.status == "SUCCEEDED"
    assert ended.output["end"]["outcome"] == "SUCCEEDED_WITH_WARNINGS"


def test_event_for_a_job_failed_without_a_message_names_the_status(
    machine: tuple[str, str, dict],
) -> None:
    ended = _event_run(machine, [("answer", _job("Failed"))])
    assert ended.error == "FAILED"
    assert ended.cause == "status Failed"


def test_event_whose_job_still_runs_ends_quietly(machine: tuple[str, str, dict]) -> None:
    # GIVEN an event, but Bedrock still reports the job running when asked
    ended = _event_run(machine, [("answer", _job("InProgress"))])
    # THEN the poller is left to find the end; this execution ends without an outcome
    assert ended.status == "SUCCEEDED"
    assert ended.entered[-1] == "NotTrackedHere"
    assert ended.events == []


def test_fails_if_the_status_call_after_the_event_is_refused(
    machine: tuple[str, str, dict],
) -> None:
    ended = _event_run(machine, [("error", "AccessDeniedException")])
    assert ended.error == "CALL_FAILED"
    assert "not allowed" in str(ended.cause)


def test_a_poller_that_ends_before_it_is_stopped_still_gets_the_outcome(
    machine: tuple[str, str, dict],
) -> None:
    # GIVEN the poller ends between the event's DescribeExecution and its StopExecution
    ended = _event_run(
        machine,
        [("answer", _job("Completed"))],
        faults={"StopExecution": "ExecutionDoesNotExist"},
    )
    # THEN the event execution reports the outcome anyway
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause, ended.entered)
    assert "StopPoller" in ended.entered
    assert ended.output["end"]["outcome"] == "SUCCEEDED"
