"""The synthesized job-status state machine, executed by moto's Step Functions interpreter."""

from __future__ import annotations

import datetime
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import AudienceModel
from constructs_lib.tracking.job_status import JobStatusTracker
from constructs_lib.tracking.schedule import (
    CONTINUE_AT_EVENTS,
    EVENTS_CHARGED_PER_POLL,
    EVENTS_PER_EXPORT_POLL,
    EVENTS_PER_POLL,
    EVENTS_PER_SKIPPED_EXPORT,
    HISTORY_EVENT_LIMIT,
    POLLS_PER_EXECUTION,
    max_polls,
    poll_schedule,
    transitions_for,
)
from tests.conftest import Synthesized, synth_stack
from tests.sfn_support import definition_of, interpreter, machine_name_of, stubbed_client

MODEL_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-model/m-1"
DATASET_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:training-dataset/d-1"
JOB_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-generation-job/j-1"
CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
BEDROCK_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"
NOW = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)
FAST = {"schedule": [0], "maxPolls": 10, "continueAt": 24000}


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> str:
    # GIVEN the tracker as a stack synthesizes it (through the cdk-nag gate)
    def build(stack: cdk.Stack) -> None:
        JobStatusTracker(stack, "JobStatusTracker")
        AudienceModel(stack, "Model", training_dataset=DATASET_ARN)

    synthesized: Synthesized = synth_stack(tmp_path_factory.mktemp("tracker"), build)
    global TRACKER_NAME
    TRACKER_NAME = machine_name_of(synthesized.raw)
    return definition_of(synthesized.raw)


#: The synthesized state machine's name: a continuation starts an execution of it by name.
TRACKER_NAME = ""


def _model(status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "createTime": NOW,
        "updateTime": NOW,
        "audienceModelArn": MODEL_ARN,
        "name": "m",
        "trainingDatasetArn": DATASET_ARN,
        "status": status,
    }
    if message:
        answer["statusDetails"] = {"statusCode": "ERR", "message": message}
    return answer


def _job(status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "createTime": NOW,
        "updateTime": NOW,
        "audienceGenerationJobArn": JOB_ARN,
        "name": "j",
        "status": status,
        "configuredAudienceModelArn": CAM_ARN,
    }
    if status == "ACTIVE":
        answer["metrics"] = {
            "relevanceMetrics": [
                {"audienceSize": {"type": "ABSOLUTE", "value": 10000}, "score": 7.5}
            ],
            "recallMetric": 0.42,
        }
    if message:
        answer["statusDetails"] = {"message": message}
    return answer


def _bedrock(status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "jobArn": BEDROCK_ARN,
        "jobName": "batch",
        "modelId": "anthropic.claude-3-haiku",
        "roleArn": "arn:aws:iam::123456789012:role/bedrock",
        "status": status,
        "submitTime": NOW,
        "lastModifiedTime": NOW,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
        "timeoutDurationInHours": 24,
    }
    if message:
        answer["message"] = message
    return answer


def _statuses(run_events: list[dict[str, Any]]) -> list[str]:
    return [e["detail"]["outcome"] for e in run_events]


# ---- audience model ---------------------------------------------------------------------------


def test_model_is_polled_until_active(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    for status in ("CREATE_PENDING", "CREATE_IN_PROGRESS", "ACTIVE"):
        stubber.add_response("get_audience_model", _model(status), {"audienceModelArn": MODEL_ARN})
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    stubber.assert_no_pending_responses()
    assert result.status == "SUCCEEDED"
    assert result.calls == ["GetAudienceModel"] * 3
    # THEN the output carries the whole Get answer, in Step Functions' PascalCase
    assert result.output["result"]["Status"] == "ACTIVE"
    assert result.output["result"]["AudienceModelArn"] == MODEL_ARN
    assert result.output["end"] == {"outcome": "SUCCEEDED", "cause": "status ACTIVE"}
    # AND one outcome event was published
    [event] = result.events
    assert event["source"] == "cleanrooms-ml-cdk.job-status"
    assert event["detail-type"] == "Tracked Job Finished"
    assert event["detail"]["outcome"] == "SUCCEEDED"
    assert event["detail"]["arn"] == MODEL_ARN
    assert event["detail"]["result"]["Status"] == "ACTIVE"
    assert event["detail"]["executionArn"].startswith("arn:aws:states:")
    assert result.signals == []
    # 5 start states + first poll (3) + 2 loops of 9 states + 5 end states: the formula the
    # polling benchmark uses
    assert result.transitions == 5 + 3 + 2 * 9 + 5
    assert result.transitions == transitions_for(3, default_polling=False)


def _history_length(
    definition: str, method: str, answers: list[dict[str, Any]], execution_input: dict[str, Any]
) -> int:
    stubber = stubbed_client("cleanroomsml")
    for answer in answers:
        stubber.add_response(method, answer)
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, execution_input)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return len(result.history)


def test_a_further_poll_writes_the_history_events_each_poll_is_charged(definition: str) -> None:
    # GIVEN executions of the same job, one polling once more than the other
    model = {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST}
    shorter = _history_length(
        definition, "get_audience_model", [_model("CREATE_PENDING"), _model("ACTIVE")], model
    )
    longer = _history_length(
        definition,
        "get_audience_model",
        [_model("CREATE_PENDING"), _model("CREATE_PENDING"), _model("ACTIVE")],
        model,
    )
    # THEN the difference is the figure the history count charges a poll of a Get kind
    assert longer - shorter == EVENTS_PER_POLL
    assert EVENTS_CHARGED_PER_POLL >= EVENTS_PER_EXPORT_POLL > EVENTS_PER_POLL


def test_an_export_poll_writes_the_events_it_is_charged_per_listed_export(definition: str) -> None:
    # GIVEN export polls that find the requested export first, or after two others
    def listed(*names: str, status: str = "CREATE_IN_PROGRESS") -> dict[str, Any]:
        return {"audienceExportJobs": [_export(name, status) for name in names]}

    first = _history_length(
        definition,
        "list_audience_export_jobs",
        [listed("export-10k"), listed("export-10k", status="ACTIVE")],
        EXPORT_INPUT,
    )
    once_more = _history_length(
        definition,
        "list_audience_export_jobs",
        [listed("export-10k"), listed("export-10k"), listed("export-10k", status="ACTIVE")],
        EXPORT_INPUT,
    )
    behind_two = _history_length(
        definition,
        "list_audience_export_jobs",
        [listed("a", "b", "export-10k"), listed("export-10k", status="ACTIVE")],
        EXPORT_INPUT,
    )
    # THEN a further export poll writes EVENTS_PER_EXPORT_POLL events, and each export listed
    # before the requested one EVENTS_PER_SKIPPED_EXPORT (both charged to the history count)
    assert once_more - first == EVENTS_PER_EXPORT_POLL
    assert behind_two - first == 2 * EVENTS_PER_SKIPPED_EXPORT


def test_model_training_failure_fails_with_the_services_message(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    stubber.add_response(
        "get_audience_model", _model("CREATE_FAILED", "Training data has fewer than 1000 users")
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.error == "FAILED"
    assert result.cause == "Training data has fewer than 1000 users"
    assert _statuses(result.events) == ["FAILED"]
    assert result.events[0]["detail"]["cause"] == "Training data has fewer than 1000 users"
    assert len(result.calls) == 2


def test_failure_without_a_message_names_the_status(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response("get_audience_model", _model("DELETE_IN_PROGRESS"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.cause == "status DELETE_IN_PROGRESS"


def test_throttling_is_retried_with_jittered_backoff(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    for _ in range(2):
        stubber.add_client_error("get_audience_model", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response("get_audience_model", _model("ACTIVE"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "SUCCEEDED"
    assert len(result.calls) == 3
    assert len(result.backoffs) == 2
    # full jitter: each back-off is drawn from [0, interval]
    assert 0 <= result.backoffs[0] <= 2
    assert 0 <= result.backoffs[1] <= 4


def test_other_errors_fail_at_once_with_their_message(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_client_error(
        "get_audience_model",
        "AccessDeniedException",
        "not authorized to perform cleanrooms-ml:GetAudienceModel",
        403,
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.error == "CALL_FAILED"
    assert "not authorized to perform cleanrooms-ml:GetAudienceModel" in (result.cause or "")
    assert result.backoffs == []
    assert _statuses(result.events) == ["CALL_FAILED"]
    assert result.events[0]["detail"]["result"] == {}


def test_unknown_status_fails_instead_of_looping(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response("get_audience_model", _model("ARCHIVED"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.error == "UNKNOWN_STATUS"
    assert "ARCHIVED is not a known status" in (result.cause or "")


def test_tracking_ends_after_the_poll_budget(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    for _ in range(4):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition,
            {
                "kind": "AUDIENCE_MODEL",
                "arn": MODEL_ARN,
                "poll": {"schedule": [0], "maxPolls": 3, "continueAt": 24000},
            },
        )
    assert result.status == "FAILED"
    assert result.error == "TIMED_OUT"
    assert result.cause == "still CREATE_IN_PROGRESS after 3 polls; the job is no longer tracked"
    assert len(result.calls) == 4
    assert _statuses(result.events) == ["TIMED_OUT"]


def test_unknown_kind_fails(definition: str) -> None:
    with interpreter() as run:
        result = run(definition, {"kind": "SOMETHING", "arn": MODEL_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.error == "UNKNOWN_STATUS"
    assert result.cause == "unknown kind SOMETHING"


# ---- audience generation job ------------------------------------------------------------------


def test_generation_job_success_carries_its_metrics(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response(
        "get_audience_generation_job", _job("CREATE_PENDING"), {"audienceGenerationJobArn": JOB_ARN}
    )
    stubber.add_response("get_audience_generation_job", _job("ACTIVE"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_GENERATION_JOB", "arn": JOB_ARN, "poll": FAST})
    assert result.status == "SUCCEEDED"
    metrics = result.output["result"]["Metrics"]
    assert metrics["RecallMetric"] == 0.42
    assert metrics["RelevanceMetrics"][0]["AudienceSize"] == {"Type": "ABSOLUTE", "Value": 10000}
    assert result.events[0]["detail"]["result"]["Metrics"]["RecallMetric"] == 0.42


def test_generation_job_failure_and_throttling(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_client_error("get_audience_generation_job", "ThrottlingException", "slow down", 400)
    stubber.add_response(
        "get_audience_generation_job",
        _job("CREATE_FAILED", "Seed has fewer than 500 matching users"),
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_GENERATION_JOB", "arn": JOB_ARN, "poll": FAST})
    assert result.status == "FAILED"
    assert result.cause == "Seed has fewer than 500 matching users"
    assert len(result.backoffs) == 1


def test_generation_job_times_out(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response("get_audience_generation_job", _job("CREATE_PENDING"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition,
            {
                "kind": "AUDIENCE_GENERATION_JOB",
                "arn": JOB_ARN,
                "poll": {"schedule": [0], "maxPolls": 2, "continueAt": 24000},
            },
        )
    assert result.error == "TIMED_OUT"


# ---- Bedrock batch inference ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("final", "execution_status", "outcome"),
    [
        ("Completed", "SUCCEEDED", "SUCCEEDED"),
        ("PartiallyCompleted", "SUCCEEDED", "SUCCEEDED_WITH_WARNINGS"),
        ("Failed", "FAILED", "FAILED"),
        ("Stopped", "FAILED", "FAILED"),
        ("Expired", "FAILED", "FAILED"),
    ],
)
def test_bedrock_job_statuses(
    definition: str, final: str, execution_status: str, outcome: str
) -> None:
    stubber = stubbed_client("bedrock")
    for status in ("Submitted", "Validating", "Scheduled", "InProgress"):
        stubber.add_response(
            "get_model_invocation_job", _bedrock(status), {"jobIdentifier": BEDROCK_ARN}
        )
    stubber.add_response(
        "get_model_invocation_job",
        _bedrock(final, "3 records failed" if final != "Completed" else None),
    )
    with interpreter({"bedrock": stubber}) as run:
        result = run(
            definition, {"kind": "BEDROCK_BATCH_INFERENCE_JOB", "arn": BEDROCK_ARN, "poll": FAST}
        )
    assert result.status == execution_status
    assert _statuses(result.events) == [outcome]
    assert result.calls == ["GetModelInvocationJob"] * 5
    if execution_status == "FAILED":
        assert result.cause == "3 records failed"
    else:
        assert (
            result.output["result"]["OutputDataConfig"]["S3OutputDataConfig"]["S3Uri"]
            == "s3://b/out/"
        )


def test_bedrock_throttling_then_success(definition: str) -> None:
    stubber = stubbed_client("bedrock")
    stubber.add_client_error("get_model_invocation_job", "ThrottlingException", "slow", 429)
    stubber.add_response("get_model_invocation_job", _bedrock("Completed"))
    with interpreter({"bedrock": stubber}) as run:
        result = run(
            definition, {"kind": "BEDROCK_BATCH_INFERENCE_JOB", "arn": BEDROCK_ARN, "poll": FAST}
        )
    assert result.status == "SUCCEEDED"
    assert len(result.backoffs) == 1


# ---- WaitCondition signal ---------------------------------------------------------------------


@pytest.fixture
def presigned_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server standing in for the WaitConditionHandle's presigned S3 URL."""
    received: list[dict[str, Any]] = []

    class Handle(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(
                {
                    "body": json.loads(self.rfile.read(length)),
                    "content_type": self.headers.get("Content-Type"),
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Handle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/signal?X-Amz-Signature=abc", received
    server.shutdown()


def test_success_signals_the_wait_condition(
    definition: str, presigned_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = presigned_url
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response("get_audience_model", _model("ACTIVE"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST, "signalUrl": url}
        )
    assert result.status == "SUCCEEDED"
    [signal] = received
    assert signal["body"]["Status"] == "SUCCESS"
    assert signal["body"]["UniqueId"] == MODEL_ARN
    assert result.transitions == transitions_for(1, default_polling=False, signal=True)
    assert signal["content_type"] == ""


def test_failure_signals_failure_with_the_services_message(
    definition: str, presigned_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = presigned_url
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response("get_audience_model", _model("CREATE_FAILED", "Not enough users"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": FAST, "signalUrl": url}
        )
    assert result.status == "FAILED"
    [signal] = received
    assert signal["body"]["Status"] == "FAILURE"
    assert signal["body"]["Reason"] == "Not enough users"


# ---- schedule ---------------------------------------------------------------------------------


def test_default_schedule_keeps_a_day_under_300_calls_and_detects_within_5_minutes() -> None:
    schedule = poll_schedule(30, 2.0, 300)
    assert schedule == [30, 60, 120, 240, 300]
    assert max(schedule) <= 300
    day_polls = max_polls(schedule, 24 * 3600) + 1
    assert day_polls < 300


def test_schedule_reaches_the_cap_with_rate_one() -> None:
    assert poll_schedule(10, 1.0, 13) == [10, 11, 12, 13]


def test_definition_embeds_the_configured_schedule(tmp_path: Path) -> None:
    def build(stack: cdk.Stack) -> None:
        JobStatusTracker(
            stack,
            "JobStatusTracker",
            initial_interval=cdk.Duration.seconds(60),
            backoff_rate=3,
            max_interval=cdk.Duration.minutes(10),
            timeout=cdk.Duration.hours(2),
        )
        AudienceModel(stack, "Model", training_dataset=DATASET_ARN)

    definition = json.loads(definition_of(synth_stack(tmp_path, build).raw))
    assert definition["States"]["DefaultPolling"]["Result"] == {
        "schedule": [60, 180, 540, 600],
        "maxPolls": max_polls([60, 180, 540, 600], 7200),
        "continueAt": CONTINUE_AT_EVENTS,
    }


# ---- audience export job (no Get call: found by name in the generation job's list) -------------


def _export(name: str, status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "createTime": NOW,
        "updateTime": NOW,
        "name": name,
        "audienceGenerationJobArn": JOB_ARN,
        "audienceSize": {"type": "ABSOLUTE", "value": 10000},
        "status": status,
        "outputLocation": "s3://out/exports/10000/",
    }
    if message:
        answer["statusDetails"] = {"message": message}
    return answer


EXPORT_INPUT = {
    "kind": "AUDIENCE_EXPORT_JOB",
    "arn": JOB_ARN,
    "exportName": "export-10k",
    "poll": FAST,
}


def test_export_job_is_found_by_name_and_polled_until_active(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    expected = {"audienceGenerationJobArn": JOB_ARN, "maxResults": 100}
    stubber.add_response("list_audience_export_jobs", {"audienceExportJobs": []}, expected)
    stubber.add_response(
        "list_audience_export_jobs",
        {
            "audienceExportJobs": [
                _export("other", "ACTIVE"),
                _export("export-10k", "CREATE_IN_PROGRESS"),
            ]
        },
        expected,
    )
    stubber.add_response(
        "list_audience_export_jobs",
        {"audienceExportJobs": [_export("other", "ACTIVE"), _export("export-10k", "ACTIVE")]},
        expected,
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, EXPORT_INPUT)
    assert result.status == "SUCCEEDED"
    assert result.calls == ["ListAudienceExportJobs"] * 3
    assert result.output["result"]["Name"] == "export-10k"
    assert result.output["result"]["OutputLocation"] == "s3://out/exports/10000/"
    assert result.events[0]["detail"]["result"]["Status"] == "ACTIVE"


def test_export_job_failure_carries_the_services_message(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_response(
        "list_audience_export_jobs",
        {
            "audienceExportJobs": [
                _export("export-10k", "CREATE_FAILED", "Output bucket is not writable")
            ]
        },
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, EXPORT_INPUT)
    assert result.status == "FAILED"
    assert result.cause == "Output bucket is not writable"


def test_export_job_never_listed_times_out(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response(
            "list_audience_export_jobs", {"audienceExportJobs": [_export("other", "ACTIVE")]}
        )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition,
            {**EXPORT_INPUT, "poll": {"schedule": [0], "maxPolls": 2, "continueAt": 24000}},
        )
    assert result.error == "TIMED_OUT"
    assert result.cause == "not listed after 2 polls; the job is no longer tracked"


def test_export_listing_throttling_is_retried(definition: str) -> None:
    stubber = stubbed_client("cleanroomsml")
    stubber.add_client_error("list_audience_export_jobs", "ThrottlingException", "slow", 400)
    stubber.add_response(
        "list_audience_export_jobs", {"audienceExportJobs": [_export("export-10k", "ACTIVE")]}
    )
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, EXPORT_INPUT)
    assert result.status == "SUCCEEDED"
    assert len(result.backoffs) == 1


# ---- every kind: unknown status and poll budget -------------------------------------------------

KIND_CASES = [
    (
        "AUDIENCE_MODEL",
        MODEL_ARN,
        "cleanroomsml",
        "get_audience_model",
        lambda status: _model(status),
        "CREATE_IN_PROGRESS",
    ),
    (
        "AUDIENCE_GENERATION_JOB",
        JOB_ARN,
        "cleanroomsml",
        "get_audience_generation_job",
        lambda status: _job(status),
        "CREATE_PENDING",
    ),
    (
        "BEDROCK_BATCH_INFERENCE_JOB",
        BEDROCK_ARN,
        "bedrock",
        "get_model_invocation_job",
        lambda status: _bedrock(status),
        "InProgress",
    ),
    (
        "AUDIENCE_EXPORT_JOB",
        JOB_ARN,
        "cleanroomsml",
        "list_audience_export_jobs",
        lambda status: {"audienceExportJobs": [_export("export-10k", status)]},
        "CREATE_PENDING",
    ),
]


@pytest.mark.parametrize(("kind", "arn", "service", "method", "answer", "running"), KIND_CASES)
def test_every_kind_fails_on_an_unknown_status(
    definition: str, kind: str, arn: str, service: str, method: str, answer: Any, running: str
) -> None:
    stubber = stubbed_client(service)
    stubber.add_response(method, answer("PAUSED"))
    with interpreter({service: stubber}) as run:
        result = run(
            definition, {"kind": kind, "arn": arn, "exportName": "export-10k", "poll": FAST}
        )
    assert result.error == "UNKNOWN_STATUS"
    assert "PAUSED is not a known status" in (result.cause or "")


@pytest.mark.parametrize(("kind", "arn", "service", "method", "answer", "running"), KIND_CASES)
def test_every_kind_ends_when_the_poll_budget_is_spent(
    definition: str, kind: str, arn: str, service: str, method: str, answer: Any, running: str
) -> None:
    stubber = stubbed_client(service)
    for _ in range(3):
        stubber.add_response(method, answer(running))
    with interpreter({service: stubber}) as run:
        result = run(
            definition,
            {
                "kind": kind,
                "arn": arn,
                "exportName": "export-10k",
                "poll": {"schedule": [0], "maxPolls": 2, "continueAt": 24000},
            },
        )
    stubber.assert_no_pending_responses()
    assert result.error == "TIMED_OUT"
    assert result.cause == f"still {running} after 2 polls; the job is no longer tracked"
    assert _statuses(result.events) == ["TIMED_OUT"]


def test_default_polling_tracks_the_whole_timeout_across_executions(stack: cdk.Stack) -> None:
    # GIVEN the defaults (8 days at a 5-minute cap is 2,304 polls)
    tracker = JobStatusTracker(stack, "JobStatusTracker")
    # THEN the poll budget covers the whole timeout (no per-execution cap): one execution holds
    # POLLS_PER_EXECUTION polls and then continues as new
    assert tracker.max_polls == max_polls(tracker.schedule, 8 * 86400)
    assert tracker.max_polls > POLLS_PER_EXECUTION
    assert tracker.bedrock_max_polls == max_polls([35 * 60], 8 * 86400)
    # AND a continuing execution still has room for one poll over a full page of exports, the
    # end states and the continuation
    worst_poll = EVENTS_PER_EXPORT_POLL + 99 * EVENTS_PER_SKIPPED_EXPORT
    assert CONTINUE_AT_EVENTS + EVENTS_CHARGED_PER_POLL + worst_poll + 50 < HISTORY_EVENT_LIMIT


# ---- continue as new ---------------------------------------------------------------------------


def _executions(run: Any) -> list[dict[str, Any]]:
    from boto3 import client

    sfn = client("stepfunctions", region_name="us-east-1")
    [arn] = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    executions: list[dict[str, Any]] = sfn.list_executions(stateMachineArn=arn)["executions"]
    return executions


def test_a_job_outliving_several_executions_is_tracked_to_its_end(
    definition: str, presigned_url: tuple[str, list[dict[str, Any]]]
) -> None:
    # GIVEN an execution whose history room is spent every 3 polls (continueAt 60 events:
    # 20 for the start, 35 charged per further poll), and a model training for 8 polls
    url, received = presigned_url
    stubber = stubbed_client("cleanroomsml")
    for _ in range(7):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    stubber.add_response("get_audience_model", _model("ACTIVE"))
    poll = {"schedule": [0], "maxPolls": 10, "continueAt": 60}
    with interpreter({"cleanroomsml": stubber}) as run:
        # WHEN the job is tracked with a WaitCondition to signal
        result = run(
            definition,
            {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll, "signalUrl": url},
            "first",
            TRACKER_NAME,
        )
        executions = _executions(run)
    stubber.assert_no_pending_responses()
    # THEN it continued as new three times (after polls 3, 5 and 7): four executions, each a
    # nested one of the one before
    assert sorted(e["name"][:10] for e in executions) == ["continued-"] * 3 + ["first"]
    assert {e["status"] for e in executions} == {"SUCCEEDED"}
    # AND the first execution ends with the last one's output: the job's final answer
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["result"]["Status"] == "ACTIVE"
    assert result.output["end"]["outcome"] == "SUCCEEDED"
    # AND the poll budget was carried across executions (8 polls: the first, then 7 counted)
    assert result.output["count"]["attempt"] == 7
    # AND one outcome event and one WaitCondition signal, from the last execution
    assert _statuses(result.events) == ["SUCCEEDED"]
    [signal] = received
    assert signal["body"]["Status"] == "SUCCESS"


def test_the_poll_budget_spans_continued_executions(definition: str) -> None:
    # GIVEN a budget of 5 polls and an execution that continues every 3 polls
    stubber = stubbed_client("cleanroomsml")
    for _ in range(6):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    poll = {"schedule": [0], "maxPolls": 5, "continueAt": 60}
    with interpreter({"cleanroomsml": stubber}) as run:
        # WHEN the job never ends
        result = run(
            definition,
            {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll},
            "b",
            TRACKER_NAME,
        )
    stubber.assert_no_pending_responses()
    # THEN the continuation times out once the whole budget is spent, and the first execution
    # fails with its outcome and cause (published once, by the continuation)
    assert result.status == "FAILED"
    assert result.error == "TIMED_OUT"
    assert result.cause == "still CREATE_IN_PROGRESS after 5 polls; the job is no longer tracked"
    assert _statuses(result.events) == ["TIMED_OUT"]


def test_fails_if_the_continuation_cannot_start(definition: str) -> None:
    # GIVEN a tracker whose continuation target does not exist (a definition run under another
    # name), and a job still training when the history room is spent
    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    poll = {"schedule": [0], "maxPolls": 10, "continueAt": 60}
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll})
    # THEN the tracking ends as CALL_FAILED with the start call's error, and says so in its event
    assert result.error == "CALL_FAILED"
    assert "does not exist" in str(result.cause).lower() or "StateMachine" in str(result.cause)
    assert _statuses(result.events) == ["CALL_FAILED"]


def test_no_state_carries_a_no_op_output_path(definition: str) -> None:
    # GIVEN the synthesized definition; cfn-lint's state-machine rules reject `OutputPath: "$"`
    # on a Succeed state (E3601) once the definition is linted after token resolution
    states = json.loads(definition)["States"]
    # THEN no state spells out the default
    assert [name for name, state in states.items() if state.get("OutputPath") == "$"] == []


@pytest.mark.parametrize(("kind", "arn", "service", "method", "answer", "running"), KIND_CASES)
def test_every_kind_writes_no_more_events_per_poll_than_it_is_charged(
    definition: str, kind: str, arn: str, service: str, method: str, answer: Any, running: str
) -> None:
    # GIVEN executions of each kind that poll 2 and 3 times
    def history(polls: int) -> int:
        stubber = stubbed_client(service)
        for _ in range(polls - 1):
            stubber.add_response(method, answer(running))
        stubber.add_response(method, answer(running))  # the budget ends the last
        with interpreter({service: stubber}) as run:
            result = run(
                definition,
                {
                    "kind": kind,
                    "arn": arn,
                    "exportName": "export-10k",
                    "poll": {"schedule": [0], "maxPolls": polls - 1, "continueAt": 24000},
                },
            )
        assert result.error == "TIMED_OUT"
        return len(result.history)

    # THEN a further poll writes the measured figure for its kind, within what it is charged
    further = history(3) - history(2)
    expected = EVENTS_PER_EXPORT_POLL if kind == "AUDIENCE_EXPORT_JOB" else EVENTS_PER_POLL
    assert further == expected
    assert further <= EVENTS_CHARGED_PER_POLL


def test_a_poll_given_without_continue_at_continues_at_the_default(definition: str) -> None:
    # GIVEN an execution bringing its own poll settings in the form documented before
    # continue-as-new (no `continueAt`)
    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(
            definition,
            {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": {"schedule": [0], "maxPolls": 2}},
        )
    # THEN it polls and ends with its outcome event (the default history room applies)
    assert result.error == "TIMED_OUT"
    assert _statuses(result.events) == ["TIMED_OUT"]


@pytest.mark.parametrize("bedrock_events", [True, False])
def test_the_poll_budget_ends_before_the_state_machines_own_timeout(
    tmp_path: Path, bedrock_events: bool
) -> None:
    # GIVEN the default tracker (8 days, 30 s doubling to 5 min; Bedrock every 35 min)
    def build(stack: cdk.Stack) -> None:
        JobStatusTracker(stack, "JobStatusTracker", bedrock_events=bedrock_events)

    synthesized = synth_stack(tmp_path, build)
    [machine] = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    definition = json.loads(definition_of(synthesized.raw))
    backstop = definition["TimeoutSeconds"]
    # THEN the waits of the whole poll budget (the first execution of a continued chain stays
    # open until its last ends) fit, with an hour to spare for calls and retries, inside the
    # state machine's own timeout, which stays within Step Functions' 1-year limit
    for name in ("DefaultPolling", "BedrockPolling"):
        polling = definition["States"][name]["Result"]
        schedule, polls = polling["schedule"], polling["maxPolls"]
        waits = sum(schedule[min(i, len(schedule) - 1)] for i in range(polls))
        assert waits >= 8 * 86400  # the budget covers the whole timeout
        assert waits + 3600 <= backstop, name
    assert backstop <= 365 * 86400
    assert machine["Type"] == "AWS::StepFunctions::StateMachine"


# ---- every outcome of every kind (the path-coverage gate's list) ------------------------------


@pytest.mark.parametrize(("kind", "arn", "service", "method", "answer", "running"), KIND_CASES)
def test_every_kind_fails_as_call_failed_when_its_status_call_is_refused(
    definition: str, kind: str, arn: str, service: str, method: str, answer: Any, running: str
) -> None:
    # GIVEN a status call the service refuses (not retried: access denied)
    stubber = stubbed_client(service)
    stubber.add_client_error(method, "AccessDeniedException", "not allowed to read", 403)
    with interpreter({service: stubber}) as run:
        result = run(
            definition, {"kind": kind, "arn": arn, "exportName": "export-10k", "poll": FAST}
        )
    # THEN the tracking ends as CALL_FAILED with the service's message, and says so
    assert result.error == "CALL_FAILED"
    assert "not allowed to read" in str(result.cause)
    assert _statuses(result.events) == ["CALL_FAILED"]


@pytest.mark.parametrize(
    ("kind", "arn", "service", "method", "failed"),
    [
        ("AUDIENCE_GENERATION_JOB", JOB_ARN, "cleanroomsml", "get_audience_generation_job",
         lambda: _job("CREATE_FAILED")),
        ("BEDROCK_BATCH_INFERENCE_JOB", BEDROCK_ARN, "bedrock", "get_model_invocation_job",
         lambda: _bedrock("Expired")),
        ("AUDIENCE_EXPORT_JOB", JOB_ARN, "cleanroomsml", "list_audience_export_jobs",
         lambda: {"audienceExportJobs": [_export("export-10k", "CREATE_FAILED")]}),
    ],
)  # fmt: skip
def test_every_kind_names_the_status_when_a_failure_has_no_message(
    definition: str, kind: str, arn: str, service: str, method: str, failed: Any
) -> None:
    # GIVEN a job that failed without a message from the service
    stubber = stubbed_client(service)
    stubber.add_response(method, failed())
    with interpreter({service: stubber}) as run:
        result = run(
            definition, {"kind": kind, "arn": arn, "exportName": "export-10k", "poll": FAST}
        )
    # THEN the cause names the status
    assert result.error == "FAILED"
    assert str(result.cause).startswith("status ")


def test_the_interval_ramps_up_before_it_reaches_the_cap(definition: str) -> None:
    # GIVEN a schedule of two intervals (so the first further poll waits the first one)
    stubber = stubbed_client("cleanroomsml")
    for status in ("CREATE_PENDING", "CREATE_IN_PROGRESS", "ACTIVE"):
        stubber.add_response("get_audience_model", _model(status))
    poll = {"schedule": [0, 1], "maxPolls": 5, "continueAt": 24000}
    with interpreter({"cleanroomsml": stubber}) as run:
        result = run(definition, {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll})
    # THEN the first loop ramps (0 s), the second takes the cap (1 s)
    assert result.entered.count("RampInterval") == 1
    assert result.entered.count("MaxInterval") == 1
    assert result.status == "SUCCEEDED"


@pytest.mark.parametrize("casing", ["sfn", "api"])
def test_a_failed_continuation_fails_its_predecessor_with_its_outcome(
    definition: str, casing: str
) -> None:
    # GIVEN a job that fails after its tracking continued as new, and a nested description
    # rendered in Step Functions' casing or the API's (read_nested_failure reads both)
    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    stubber.add_response("get_audience_model", _model("CREATE_FAILED", "no users in common"))
    poll = {"schedule": [0], "maxPolls": 10, "continueAt": 60}
    with interpreter({"cleanroomsml": stubber}, description_casing=casing) as run:
        result = run(
            definition,
            {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll},
            f"fails-{casing}",
            TRACKER_NAME,
        )
    # THEN the first execution fails with the continuation's outcome and cause
    assert result.error == "FAILED"
    assert result.cause == "no users in common"
    assert _statuses(result.events) == ["FAILED"]


def test_a_stopped_continuation_ends_its_predecessor_as_aborted(definition: str) -> None:
    # GIVEN a job still training after its tracking continued as new
    import time

    from boto3 import client

    stubber = stubbed_client("cleanroomsml")
    for _ in range(3):
        stubber.add_response("get_audience_model", _model("CREATE_IN_PROGRESS"))
    poll = {"schedule": [0, 3600], "maxPolls": 10, "continueAt": 55}
    with interpreter({"cleanroomsml": stubber}) as run:
        first = run.start(
            definition,
            {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN, "poll": poll},
            "s",
            TRACKER_NAME,
        )
        sfn = client("stepfunctions", region_name="us-east-1")
        deadline = time.monotonic() + 30
        continued: list[str] = []
        while not continued and time.monotonic() < deadline:
            continued = [
                e["executionArn"]
                for e in run.list_executions(TRACKER_NAME)
                if e["name"].startswith("continued-") and run.is_waiting(e["executionArn"])
            ]
            time.sleep(0.05)
        # WHEN someone stops the continuation
        sfn.stop_execution(executionArn=continued[0], cause="stopped by an operator")
        result = run.wait_for(first)
    # THEN the first execution ends as ABORTED with the description as its cause
    assert result.error == "ABORTED"
    assert '"Status": "ABORTED"' in str(result.cause)
