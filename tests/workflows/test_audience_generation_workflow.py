"""The synthesized audience-generation workflow, executed by moto's Step Functions interpreter
together with the stack's job-status state machine (its nested executions)."""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from botocore.stub import ANY, Stubber
from botocore.utils import ArgumentGenerator

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    AudienceSizeType,
    BatchInferenceStep,
    CleanRoomsMlServiceRole,
    SeedAudienceBucket,
)
from constructs_lib._internal.state_machines import (
    QUOTA_ERROR,
    TRANSIENT_ERRORS,
    quota_retry_attempts,
    transient_errors,
)
from tests.conftest import Synthesized, assert_cfn_lint_clean, bedrock_role, synth_stack
from tests.handler_support import new_client
from tests.sfn_configurations import fast_tracker
from tests.sfn_support import ACCOUNT, REGION, Run, definition_of, interpreter, machine_name_of

CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
JOB_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-generation-job/j-1"
BEDROCK_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"
SEED_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SeedRole"
NOW = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)


@dataclass
class Machines:
    workflow: str
    workflow_name: str
    tracker: str
    tracker_name: str
    synthesized: Synthesized

    @property
    def settings(self) -> dict[str, Any]:
        """What the definition hands the input check (resolved test values of the stack's
        bucket and role)."""
        states = json.loads(self.workflow)["States"]
        settings: dict[str, Any] = states["CheckInput"]["Parameters"]["Payload"]["Settings"]
        return settings


def _job_name(prefix: str, execution: str) -> str:
    return f"{prefix}-{hashlib.sha256(execution.encode()).hexdigest()[:16]}"


def _machines(synthesized: Synthesized) -> Machines:
    return Machines(
        workflow=definition_of(synthesized.raw, "Workflow"),
        workflow_name=machine_name_of(synthesized.raw, "Workflow"),
        tracker=definition_of(synthesized.raw, "-job-status"),
        tracker_name=machine_name_of(synthesized.raw, "-job-status"),
        synthesized=synthesized,
    )


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Machines:
    """GIVEN a workflow with an S3 trigger, one export size and a Bedrock step."""

    def build(stack: cdk.Stack) -> None:
        fast_tracker(stack)
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        role = CleanRoomsMlServiceRole(
            stack, "SeedRole", seed_bucket=seeds.bucket, seed_prefix="seeds/", encryption_key=key
        )
        batch_role = bedrock_role(stack, seeds, key, construct_id="BedrockRole")
        AudienceGenerationWorkflow(
            stack,
            "Workflow",
            configured_audience_model=CAM_ARN,
            seed_role=role,
            seed_bucket=seeds,
            seed_prefix="seeds/",
            job_name_prefix="lookalike",
            tags={"team": "ads"},
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)],
            batch_inference=BatchInferenceStep(
                model_id="anthropic.claude-3-haiku-20240307-v1:0",
                role=batch_role,
                input_s3_uri=seeds.s3_uri("batch-input/"),
                output_s3_uri=seeds.s3_uri("batch-output/"),
                output_encryption_key=key,
                timeout_duration_in_hours=24,
            ),
        )

    return _machines(synth_stack(tmp_path_factory.mktemp("workflow-full"), build))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Machines:
    """GIVEN a manual-only workflow: no S3 trigger, no export, no Bedrock step."""

    def build(stack: cdk.Stack) -> None:
        fast_tracker(stack)
        AudienceGenerationWorkflow(
            stack, "Workflow", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN
        )

    return _machines(synth_stack(tmp_path_factory.mktemp("workflow-plain"), build))


# ---- scripted service answers ------------------------------------------------------------------


def _job(status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "createTime": NOW,
        "updateTime": NOW,
        "audienceGenerationJobArn": JOB_ARN,
        "name": "j",
        "status": status,
        "configuredAudienceModelArn": CAM_ARN,
    }
    if message:
        answer["statusDetails"] = {"message": message}
    return answer


def _export(name: str, status: str, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "createTime": NOW,
        "updateTime": NOW,
        "name": name,
        "audienceGenerationJobArn": JOB_ARN,
        "audienceSize": {"type": "ABSOLUTE", "value": 10000},
        "status": status,
    }
    if message:
        answer["statusDetails"] = {"message": message}
    return answer


def _bedrock(status: str) -> dict[str, Any]:
    return {
        "jobArn": BEDROCK_ARN,
        "jobName": "batch",
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BedrockRole",
        "status": status,
        "submitTime": NOW,
        "lastModifiedTime": NOW,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
    }


def _stubbers() -> dict[str, Stubber]:
    stubbers = {service: Stubber(new_client(service)) for service in ("cleanroomsml", "bedrock")}
    for stubber in stubbers.values():
        stubber.activate()
    return stubbers


@contextmanager
def _running(machines: Machines, stubbers: dict[str, Stubber]) -> Iterator[Any]:
    with interpreter(stubbers) as run:
        run.machine(machines.tracker, machines.tracker_name)
        yield run


def _run(run: Any, machines: Machines, execution_input: dict[str, Any], name: str) -> Run:
    result: Run = run(machines.workflow, execution_input, name, machines.workflow_name)
    return result


def _workflow_events(result: Run) -> list[dict[str, Any]]:
    return [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]


def _s3_event(bucket: str, key: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 42, "etag": "abc", "sequencer": "0062E99A88DC407460"},
            "request-id": "r-1",
            "requester": ACCOUNT,
            "reason": "PutObject",
        },
    }


def _skeleton() -> dict[str, Any]:
    """What ``aws cleanroomsml start-audience-generation-job --generate-cli-skeleton`` prints."""
    shape = new_client("cleanroomsml").meta.service_model.operation_model(
        "StartAudienceGenerationJob"
    )
    skeleton: dict[str, Any] = ArgumentGenerator().generate_skeleton(shape.input_shape)
    return skeleton


def _cli_input() -> dict[str, Any]:
    """A team's filled-in ``--cli-input-json`` file (an S3 seed in a collaboration)."""
    given = _skeleton()
    given["name"] = "weekly-lookalikes"
    given["configuredAudienceModelArn"] = CAM_ARN
    given["seedAudience"] = {
        "dataSource": {"s3Uri": "s3://team-seeds/seeds/weekly.jsonl"},
        "roleArn": SEED_ROLE_ARN,
    }
    given["includeSeedInOutput"] = True
    given["collaborationId"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
    given["description"] = "weekly run"
    given["tags"] = {"cost-center": "42"}
    return given


# ---- S3-triggered run ----------------------------------------------------------------------------


def test_new_seed_file_runs_generation_export_and_batch_inference(full: Machines) -> None:
    # GIVEN services that accept every start and report each job done at its first poll
    stubbers = _stubbers()
    cleanrooms, bedrock = stubbers["cleanroomsml"], stubbers["bedrock"]
    bucket = full.settings["seedBucket"]
    uri = f"s3://{bucket}/seeds/new.jsonl"
    digest = hashlib.sha256(f"{bucket}/seeds/new.jsonl/0062E99A88DC407460".encode()).hexdigest()
    execution = f"s3-{digest}"
    job_name = _job_name("lookalike", execution)
    cleanrooms.add_response(
        "start_audience_generation_job",
        {"audienceGenerationJobArn": JOB_ARN},
        {
            "name": job_name,
            "configuredAudienceModelArn": CAM_ARN,
            "seedAudience": {
                "dataSource": {"s3Uri": uri},
                "roleArn": full.settings["roleArn"],
            },
            "includeSeedInOutput": False,
            "description": f"Lookalike audience for the seed {uri}",
            "tags": {"team": "ads", "cleanrooms-ml-cdk:execution": execution},
        },
    )
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    export_name = f"{job_name}-absolute-10000"
    cleanrooms.add_response(
        "start_audience_export_job",
        {},
        {
            "name": export_name,
            "audienceGenerationJobArn": JOB_ARN,
            "audienceSize": {"type": "ABSOLUTE", "value": 10000},
            "description": f"absolute 10000 of {job_name}",
        },
    )
    cleanrooms.add_response(
        "list_audience_export_jobs", {"audienceExportJobs": [_export(export_name, "ACTIVE")]}
    )
    bedrock.add_response(
        "create_model_invocation_job",
        {"jobArn": BEDROCK_ARN},
        {
            "jobName": f"{job_name}-batch",
            "clientRequestToken": ANY,
            "roleArn": ANY,
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "inputDataConfig": {
                "s3InputDataConfig": {
                    # the seed file's folder under the step's input (seeds/new.jsonl)
                    "s3Uri": f"s3://{bucket}/batch-input/new/",
                    "s3InputFormat": "JSONL",
                }
            },
            "outputDataConfig": {
                "s3OutputDataConfig": {
                    "s3Uri": f"s3://{bucket}/batch-output/{job_name}/",
                    "s3EncryptionKeyId": ANY,
                }
            },
            "timeoutDurationInHours": 24,
        },
    )
    bedrock.add_response("get_model_invocation_job", _bedrock("Completed"))
    with _running(full, stubbers) as run:
        # WHEN S3 reports the new seed file, and EventBridge delivers it again during the run
        # and after it
        first = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-1")
        again = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-2")
        handed = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{full.workflow_name}:{execution}"
        result = run.wait_for(handed)
        late = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-3")
    # THEN every delivery leads to the one run named after the object,
    assert first.output["handedOver"]["executionArn"] == handed
    assert again.output["handedOver"]["executionArn"] == handed  # StartExecution is idempotent
    assert late.status == "SUCCEEDED"
    assert late.entered[-1] == "AlreadyHandedOver"
    # AND that run started each job once and tracked each to its end
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [c for c in result.calls if c.startswith(("Start", "Create"))] == [
        "StartAudienceGenerationJob",
        "StartAudienceExportJob",
        "CreateModelInvocationJob",
    ]
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
    # AND ended with one completion event saying what ran
    [event] = _workflow_events(result)
    assert event["detail-type"] == "Audience Generation Workflow Finished"
    detail = event["detail"]
    assert detail["outcome"] == "SUCCEEDED"
    assert detail["generation"]["arn"] == JOB_ARN
    assert detail["generation"]["tracking"]["status"] == "ACTIVE"
    assert detail["exports"] == [{"name": export_name, "status": "ACTIVE"}]
    assert detail["batch"]["arn"] == BEDROCK_ARN
    assert detail["batch"]["tracking"]["status"] == "Completed"
    assert detail["plan"]["source"] == "s3"


def test_fails_if_the_notified_object_is_not_a_seed_file(full: Machines) -> None:
    # GIVEN a notification for a file outside the seed prefix (the rule filters these, a
    # hand-made input does not)
    stubbers = _stubbers()
    with _running(full, stubbers) as run:
        result = _run(
            run,
            full,
            {"seedObject": {"bucket": full.settings["seedBucket"], "key": "other/x.csv"}},
            "odd",
        )
    # THEN nothing is started and the run says why
    assert result.error == "INVALID_INPUT"
    assert "is not a seed file of this workflow" in str(result.cause)
    assert result.calls == []


# ---- manual run ---------------------------------------------------------------------------------


def test_manual_run_takes_the_cli_skeleton_json(plain: Machines) -> None:
    # GIVEN a filled-in --cli-input-json file of start-audience-generation-job
    given = _cli_input()
    stubbers = _stubbers()
    expected = copy.deepcopy(given)
    expected["tags"] = {"cost-center": "42", "cleanrooms-ml-cdk:execution": "weekly-1"}
    stubbers["cleanroomsml"].add_response(
        "start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN}, expected
    )
    stubbers["cleanroomsml"].add_response("get_audience_generation_job", _job("CREATE_PENDING"))
    stubbers["cleanroomsml"].add_response("get_audience_generation_job", _job("ACTIVE"))
    with _running(plain, stubbers) as run:
        # WHEN it is the input of an execution
        result = _run(run, plain, given, "weekly-1")
    # THEN the job is started with exactly those fields (collaboration included) and tracked
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.calls == ["StartAudienceGenerationJob"] + ["GetAudienceGenerationJob"] * 2
    stubbers["cleanroomsml"].assert_no_pending_responses()
    [event] = _workflow_events(result)
    assert event["detail"]["plan"]["source"] == "manual"
    assert event["detail"]["exports"] == []
    assert event["detail"]["batch"] == {}


def test_fails_if_the_manual_input_breaks_the_api_rules(plain: Machines) -> None:
    # GIVEN the skeleton as generated: placeholders, not values
    stubbers = _stubbers()
    with _running(plain, stubbers) as run:
        result = _run(run, plain, _skeleton(), "unfilled")
    # THEN the run ends before any Clean Rooms ML call, naming every problem
    assert result.calls == []
    assert result.status == "FAILED"
    assert result.error == "INVALID_INPUT"
    cause = str(result.cause)
    for problem in (
        "configuredAudienceModelArn '' is not this workflow's configured audience model",
        "seedAudience.roleArn '' is not the role this workflow may pass",
    ):
        assert problem in cause
    [event] = _workflow_events(result)
    assert event["detail"]["outcome"] == "INVALID_INPUT"
    assert event["detail"]["step"] == "input"


def test_fails_if_a_field_breaks_the_service_model(plain: Machines) -> None:
    given = _cli_input()
    del given["configuredAudienceModelArn"], given["seedAudience"]["roleArn"]
    given["collaborationId"] = "not-a-uuid"
    given["seedAudience"]["sqlComputeConfiguration"] = {"worker": {"type": "CR.9X", "number": 1}}
    stubbers = _stubbers()
    with _running(plain, stubbers) as run:
        result = _run(run, plain, given, "bad-fields")
    assert result.calls == []
    assert result.error == "INVALID_INPUT"
    cause = str(result.cause)
    assert "collaborationId 'not-a-uuid' must be a UUID" in cause
    assert "seedAudience.sqlComputeConfiguration.worker.type is 'CR.9X', must be one of" in cause
    assert "seedAudience.sqlComputeConfiguration.worker.number is 1, must be >= 2" in cause


# ---- failures -----------------------------------------------------------------------------------


def test_failed_generation_job_ends_the_run_with_the_services_message(full: Machines) -> None:
    stubbers = _stubbers()
    stubbers["cleanroomsml"].add_response(
        "start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN}
    )
    stubbers["cleanroomsml"].add_response(
        "get_audience_generation_job", _job("CREATE_FAILED", "Seed has too few matching users")
    )
    with _running(full, stubbers) as run:
        result = _run(
            run,
            full,
            {"seedObject": {"bucket": full.settings["seedBucket"], "key": "seeds/a.jsonl"}},
            "f1",
        )
    # THEN no export or Bedrock job starts; the run fails with the tracker's outcome and cause
    assert result.error == "FAILED"
    assert result.cause == "Seed has too few matching users"
    assert result.calls == ["StartAudienceGenerationJob", "GetAudienceGenerationJob"]
    [event] = _workflow_events(result)
    assert (event["detail"]["outcome"], event["detail"]["step"]) == ("FAILED", "generation")


def test_failed_export_ends_the_run_before_batch_inference(full: Machines) -> None:
    stubbers = _stubbers()
    cleanrooms = stubbers["cleanroomsml"]
    cleanrooms.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    cleanrooms.add_response("start_audience_export_job", {})
    cleanrooms.add_response(
        "list_audience_export_jobs",
        {
            "audienceExportJobs": [
                _export(
                    f"{_job_name('lookalike', 'f2')}-absolute-10000",
                    "CREATE_FAILED",
                    "Output bucket is not writable",
                )
            ]
        },
    )
    with _running(full, stubbers) as run:
        result = _run(
            run,
            full,
            {"seedObject": {"bucket": full.settings["seedBucket"], "key": "seeds/b.jsonl"}},
            "f2",
        )
    assert result.error == "FAILED"
    assert result.cause == "Output bucket is not writable"
    assert "CreateModelInvocationJob" not in result.calls
    [event] = _workflow_events(result)
    assert event["detail"]["step"] == "export"


def test_bedrock_end_event_before_the_fallback_poll_ends_the_run_with_the_confirmed_outcome(
    full: Machines,
) -> None:
    # GIVEN a run whose generation and export are done and whose Bedrock job is still running
    # at the poller's first poll (the poller then waits out its sparse 35-minute interval)
    stubbers = _stubbers()
    cleanrooms, bedrock = stubbers["cleanroomsml"], stubbers["bedrock"]
    given = _cli_input()
    del given["configuredAudienceModelArn"], given["seedAudience"]["roleArn"]
    cleanrooms.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    cleanrooms.add_response("start_audience_export_job", {})
    export_name = "weekly-lookalikes-absolute-10000"
    cleanrooms.add_response(
        "list_audience_export_jobs", {"audienceExportJobs": [_export(export_name, "ACTIVE")]}
    )
    bedrock.add_response("create_model_invocation_job", {"jobArn": BEDROCK_ARN})
    bedrock.add_response("get_model_invocation_job", _bedrock("InProgress"))  # the poller's
    bedrock.add_response("get_model_invocation_job", _bedrock("Completed"))  # after the event
    bedrock.add_response("get_model_invocation_job", _bedrock("Completed"))  # the confirmation
    poller = (
        f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{full.tracker_name}:"
        f"bedrock-{hashlib.sha256(BEDROCK_ARN.encode()).hexdigest()}"
    )
    with _running(full, stubbers) as run:
        workflow = run.start(full.workflow, given, "bedrock-event-first", full.workflow_name)
        run.wait_until_waiting(poller)
        # WHEN Bedrock's "Batch Inference Job State Change" event arrives first
        ended = run(
            full.tracker,
            {
                "kind": "BEDROCK_BATCH_INFERENCE_JOB",
                "arn": BEDROCK_ARN,
                "via": "event",
                "eventStatus": "Completed",
            },
            None,
            full.tracker_name,
        )
        stopped = run.wait_for(poller)
        result = run.wait_for(workflow)
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
    # THEN the event concluded the job and stopped its poller
    assert ended.status == "SUCCEEDED"
    assert stopped.status == "ABORTED"
    # AND the run confirmed the Bedrock outcome and ended like any other run, with one event
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ConfirmBatchInference" in result.entered
    [event] = _workflow_events(result)
    assert event["detail"]["outcome"] == "SUCCEEDED"
    assert event["detail"]["batch"]["arn"] == BEDROCK_ARN
    assert event["detail"]["batch"]["tracking"]["status"] == "Completed"


def test_start_refused_for_quota_waits_with_jittered_minutes_then_runs(plain: Machines) -> None:
    # GIVEN a start throttled once, then refused twice because 10 generation jobs are in flight
    # (Clean Rooms ML's ServiceQuotaExceededException), then accepted
    stubbers = _stubbers()
    cleanrooms = stubbers["cleanroomsml"]
    cleanrooms.add_client_error("start_audience_generation_job", "ThrottlingException", "slow", 429)
    for _ in range(2):
        cleanrooms.add_client_error(
            "start_audience_generation_job", "ServiceQuotaExceededException", "10 jobs", 402
        )
    cleanrooms.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    given = _cli_input()
    del given["configuredAudienceModelArn"], given["seedAudience"]["roleArn"]
    with _running(plain, stubbers) as run:
        # WHEN a run starts
        result = _run(run, plain, given, "quota")
    # THEN the run waits for room and succeeds, with one job started
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.calls == ["StartAudienceGenerationJob"] * 4 + ["GetAudienceGenerationJob"]
    # AND the throttled call waited at most 2 s, the refused ones up to 1 and 2 minutes (full
    # jitter: a random part of the nominal delay)
    assert len(result.backoffs) == 3
    assert result.backoffs[0] <= 2
    assert result.backoffs[1] <= 60
    assert result.backoffs[2] <= 120


def test_quota_retries_last_the_configured_wait(plain: Machines) -> None:
    # GIVEN the default quota_wait of 12 hours
    states = json.loads(plain.workflow)["States"]
    # THEN every start call retries a quota refusal with 1 minute doubling to 15, full jitter,
    # and as many attempts as an expected 12 hours of waiting take
    for state in ("StartGenerationJob", "StartGenerationJobInCollaboration"):
        [quota] = [
            r
            for r in states[state]["Retry"]
            if r["ErrorEquals"] == ["CleanRoomsMl.ServiceQuotaExceededException"]
        ]
        assert quota == {
            "ErrorEquals": ["CleanRoomsMl.ServiceQuotaExceededException"],
            "IntervalSeconds": 60,
            "BackoffRate": 2,
            "MaxDelaySeconds": 900,
            "JitterStrategy": "FULL",
            "MaxAttempts": quota_retry_attempts(12 * 3600),
        }
    expected = sum(min(900, 60 * 2**i) / 2 for i in range(quota_retry_attempts(12 * 3600)))
    assert 12 * 3600 <= expected < 12 * 3600 + 450


def test_fails_if_the_start_is_rejected(plain: Machines) -> None:
    # GIVEN a start the service rejects for a reason retrying cannot fix
    stubbers = _stubbers()
    stubbers["cleanroomsml"].add_client_error(
        "start_audience_generation_job", "AccessDeniedException", "not allowed", 403
    )
    given = _cli_input()
    del given["configuredAudienceModelArn"], given["seedAudience"]["roleArn"]
    with _running(plain, stubbers) as run:
        result = _run(run, plain, given, "denied")
    # THEN the run ends at once as CALL_FAILED with the service's message
    assert result.calls == ["StartAudienceGenerationJob"]
    assert result.backoffs == []
    assert result.error == "CALL_FAILED"
    assert "not allowed" in str(result.cause)


# ---- template -----------------------------------------------------------------------------------


def test_seed_rule_matches_jsonl_files_under_the_prefix(full: Machines) -> None:
    [rule] = [
        r
        for r in full.synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.s3"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "seeds/*.jsonl"}]
    assert rule["Properties"]["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 20


def test_workflow_templates_pass_cfn_lint(full: Machines, plain: Machines) -> None:
    assert_cfn_lint_clean(full.synthesized.outdir)
    assert_cfn_lint_clean(plain.synthesized.outdir)


def test_workflow_role_may_pass_only_the_seed_role(full: Machines) -> None:
    policies = full.synthesized.resources("AWS::IAM::ManagedPolicy")
    statements = [
        s
        for logical_id, p in policies.items()
        if logical_id.startswith("WorkflowPolicy")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert {s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passes} == {
        "cleanrooms-ml.amazonaws.com",
        "bedrock.amazonaws.com",
    }
    assert all("*" not in str(s["Resource"]) for s in passes)


def test_fails_if_the_job_name_prefix_is_too_long(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/W.*job_name_prefix.*1-40 characters"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            job_name_prefix="x" * 41,
        )  # fmt: skip


def test_fails_if_an_export_percentage_is_over_100(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"export_sizes\[0\]\.value.*101.*1-100"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            export_sizes=[AudienceExportSize(AudienceSizeType.PERCENTAGE, 101)],
        )  # fmt: skip


def test_fails_if_the_batch_timeout_is_out_of_range(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"batch_inference.timeout_duration_in_hours.*200"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            batch_inference=BatchInferenceStep(
                model_id="m", role=SEED_ROLE_ARN, input_s3_uri="s3://bucket-b/in/",
                output_s3_uri="s3://bucket-b/out/", timeout_duration_in_hours=200,
            ),
        )  # fmt: skip


def test_export_already_started_by_a_retried_run_is_tracked_not_restarted(full: Machines) -> None:
    # GIVEN an export of that name already exists (the service answers Conflict)
    stubbers = _stubbers()
    cleanrooms = stubbers["cleanroomsml"]
    export_name = f"{_job_name('lookalike', 'retry')}-absolute-10000"
    cleanrooms.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    cleanrooms.add_client_error("start_audience_export_job", "ConflictException", "exists", 409)
    cleanrooms.add_response(
        "list_audience_export_jobs", {"audienceExportJobs": [_export(export_name, "ACTIVE")]}
    )
    stubbers["bedrock"].add_response("create_model_invocation_job", {"jobArn": BEDROCK_ARN})
    stubbers["bedrock"].add_response("get_model_invocation_job", _bedrock("Completed"))
    seed = {"seedObject": {"bucket": full.settings["seedBucket"], "key": "seeds/c.jsonl"}}
    with _running(full, stubbers) as run:
        result = _run(run, full, seed, "retry")
    # THEN the run follows the existing export to its end and carries on
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.calls.count("StartAudienceExportJob") == 1
    [event] = _workflow_events(result)
    assert event["detail"]["exports"] == [{"name": export_name, "status": "ACTIVE"}]


def test_fails_if_the_seed_prefix_starts_with_a_slash(stack: cdk.Stack) -> None:
    with pytest.raises(
        ValueError, match=r"Scratch/W.*seed_prefix.*'/seeds/'.*must not start with '/'"
    ):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            seed_prefix="/seeds/",
        )  # fmt: skip


def test_fails_if_export_concurrency_is_over_the_export_job_quota(stack: cdk.Stack) -> None:
    # AWS Clean Rooms ML quotas: 20 pending or in-progress export jobs per account
    # (https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html)
    with pytest.raises(
        ValueError, match=r"Scratch/W.*max_concurrent_exports.*21.*1-20.*clean-rooms-ml-quotas"
    ):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            max_concurrent_exports=21,
        )  # fmt: skip


def test_fails_if_there_are_more_export_sizes_than_active_exports_allowed(
    stack: cdk.Stack,
) -> None:
    # AWS Clean Rooms ML quotas: 25 active exports per audience generation job
    sizes = [AudienceExportSize(AudienceSizeType.ABSOLUTE, 1000 * (i + 1)) for i in range(26)]
    with pytest.raises(ValueError, match=r"Scratch/W.*export_sizes.*26 sizes.*at most 25"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            export_sizes=sizes,
        )  # fmt: skip


def test_fails_if_the_quota_wait_outlasts_the_run(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/W.*quota_wait.*"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            timeout=cdk.Duration.hours(2), quota_wait=cdk.Duration.hours(3),
        )  # fmt: skip


def test_retried_error_names_are_defined_by_the_service_models() -> None:
    # GIVEN the error names the state machines retry, and the bundled botocore models
    for service, names in TRANSIENT_ERRORS.items():
        model = new_client(service).meta.service_model
        # THEN every retried shape, and the quota error, is one the service model defines
        for name in (*names, QUOTA_ERROR):
            assert name in model.shape_names, (service, name)
            assert model.shape_for(name).metadata.get("exception"), (service, name)
    assert transient_errors("cleanroomsml") == [
        "CleanRoomsMl.ThrottlingException",
        "CleanRoomsMl.CleanRoomsMlException",
    ]


def _statements_of(synthesized: Synthesized, prefix: str) -> list[dict[str, Any]]:
    return [
        s
        for logical_id, p in synthesized.resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith(prefix)
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_workflow_may_create_bedrock_jobs_of_its_model_only(full: Machines) -> None:
    # Service Authorization Reference (list_amazonbedrock.html): CreateModelInvocationJob needs
    # the model (foundation-model) besides model-invocation-job
    creates = [
        json.dumps(s["Resource"])
        for s in _statements_of(full.synthesized, "WorkflowPolicy")
        if "bedrock:CreateModelInvocationJob" in s["Action"]
    ]
    assert any("::foundation-model/anthropic.claude-3-haiku-20240307-v1:0" in r for r in creates), (
        creates
    )
    assert any("model-invocation-job/*" in r for r in creates)


def test_tracker_lists_exports_of_generation_jobs_only(full: Machines) -> None:
    # ListAudienceExportJobs takes the audience-generation-job resource type (SAR)
    [listing] = [
        s
        for s in _statements_of(full.synthesized, "JobStatusTracker")
        if s["Action"] == "cleanrooms-ml:ListAudienceExportJobs"
    ]
    assert ":audience-generation-job/*" in json.dumps(listing["Resource"])


def test_state_machine_and_rule_roles_trust_only_their_own_resource(full: Machines) -> None:
    # Step Functions and EventBridge confused-deputy prevention: aws:SourceAccount and
    # aws:SourceArn (the state machine's, the rule's ARN)
    raw = full.synthesized.raw["Resources"]
    names = {
        "states.amazonaws.com": [
            r["Properties"]["StateMachineName"]
            for r in raw.values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        ],
        "events.amazonaws.com": [
            r["Properties"]["Name"] for r in raw.values() if r["Type"] == "AWS::Events::Rule"
        ],
    }
    trusted: dict[str, list[str]] = {"states.amazonaws.com": [], "events.amazonaws.com": []}
    for resource in raw.values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        [statement] = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        service = statement["Principal"]["Service"]
        if service not in trusted:
            continue
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        trusted[service].append(json.dumps(condition["ArnLike"]["aws:SourceArn"]))
    assert len(trusted["states.amazonaws.com"]) == 2
    assert len(trusted["events.amazonaws.com"]) == 2
    for service, arns in trusted.items():
        separator = ":stateMachine:" if service.startswith("states") else ":rule/"
        assert sorted(a for a in arns) == sorted(
            next(a for a in arns if f"{separator}{name}" in a) for name in names[service]
        )


def test_fails_if_the_timeout_is_under_an_hour(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/W.*timeout \(seconds\).*1800"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            timeout=cdk.Duration.minutes(30),
        )  # fmt: skip


def test_fails_if_the_collaboration_id_is_not_a_uuid(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/W.*collaboration_id='team-a-.*must be a UUID"):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            collaboration_id="team-a-0-0000-0000-0000-000000000000",
        )  # fmt: skip


# ---- guardrails (issue 14) -------------------------------------------------------------------


def test_fails_if_the_job_name_prefix_breaks_the_bedrock_output_path(stack: cdk.Stack) -> None:
    # GIVEN a prefix with a space: a valid Clean Rooms ML name, but each run's Bedrock output
    # goes to <output_s3_uri>/<job name>/, where Bedrock allows no spaces
    step = BatchInferenceStep(
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        role="arn:aws:iam::123456789012:role/Bedrock",
        input_s3_uri="s3://seeds/batch-input/",
        output_s3_uri="s3://seeds/batch-output/",
    )
    # WHEN the workflow is built THEN synth fails before any run, naming what the prefix builds
    with pytest.raises(
        ValueError,
        match=r"Scratch/W: invalid job_name_prefix='acme lookalike': a run builds the Bedrock "
        r"output location 's3://seeds/batch-output/acme lookalike-0+/' from it, which must be an "
        r"S3 URI",
    ):
        AudienceGenerationWorkflow(
            stack,
            "W",
            configured_audience_model=CAM_ARN,
            seed_role=SEED_ROLE_ARN,
            job_name_prefix="acme lookalike",
            batch_inference=step,
        )


def test_fails_if_an_export_size_is_not_a_bin_of_the_configured_model(stack: cdk.Stack) -> None:
    from constructs_lib import AudienceOutputConfig, AudienceSizeConfig, ConfiguredAudienceModel

    # GIVEN a configured model of this app with bins 10k/50k/100k
    configured = ConfiguredAudienceModel(
        stack,
        "C",
        audience_model="arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-model/m-1",
        output_config=AudienceOutputConfig("s3://out/audiences/", SEED_ROLE_ARN),
        audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10000, 50000, 100000]),
    )
    # WHEN a workflow exports 7000 THEN synth names the size and the bins
    with pytest.raises(
        ValueError,
        match=r"Scratch/W: invalid export_sizes\[0\]='ABSOLUTE 7000': must be one of the "
        r"configured audience model's sizes \(ABSOLUTE \[10000, 50000, 100000\]\)",
    ):
        AudienceGenerationWorkflow(
            stack,
            "W",
            configured_audience_model=configured,
            seed_role=SEED_ROLE_ARN,
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 7000)],
        )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"configured_audience_model": "arn:aws:s3:::my-bucket"},
            r"configured_audience_model='arn:aws:s3:::my-bucket': must be the ARN of a Clean "
            r"Rooms ML configured audience model",
        ),
        (
            {"seed_role": "SeedRole"},
            r"seed_role='SeedRole': must be an IAM role ARN .*, got a name\?",
        ),
        ({"seed_prefix": "seeds"}, r"seed_prefix='seeds': must end with '/'"),
    ],
)
def test_fails_if_a_reference_is_of_the_wrong_kind(
    stack: cdk.Stack, props: dict[str, Any], message: str
) -> None:
    base: dict[str, Any] = {"configured_audience_model": CAM_ARN, "seed_role": SEED_ROLE_ARN}
    with pytest.raises(ValueError, match=rf"Scratch/W: invalid {message}"):
        AudienceGenerationWorkflow(stack, "W", **{**base, **props})


def test_fails_if_the_seed_role_is_a_bedrock_role(stack: cdk.Stack) -> None:
    # GIVEN a role of this app that only Bedrock may assume, given as the seed role
    role = cdk.aws_iam.Role(
        stack, "Bedrock", assumed_by=cdk.aws_iam.ServicePrincipal("bedrock.amazonaws.com")
    )
    with pytest.raises(
        ValueError,
        match=r"Scratch/W: invalid seed_role='Scratch/Bedrock': the role trusts "
        r"bedrock.amazonaws.com, but cleanrooms-ml.amazonaws.com must assume it",
    ):
        AudienceGenerationWorkflow(stack, "W", configured_audience_model=CAM_ARN, seed_role=role)


def test_grant_start_execution_passes_the_compliance_gate(tmp_path: Path) -> None:
    # GIVEN a scheduler role granted to start runs with the documented method
    def build(stack: cdk.Stack) -> None:
        workflow = AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN
        )
        scheduler = cdk.aws_iam.Role(
            stack,
            "Scheduler",
            assumed_by=cdk.aws_iam.ServicePrincipal("scheduler.amazonaws.com"),
        )
        assert workflow.grant_start_execution(scheduler).success

    # WHEN the stack is synthesized through the four packs THEN it passes (no inline policy)
    template = synth_stack(tmp_path, build).template
    # AND a managed policy attached to the role allows StartExecution on the workflow only
    [policy] = [
        p
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if "states:StartExecution" in json.dumps(p)
        and "Scheduler" in json.dumps(p["Properties"].get("Roles", []))
    ]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "states:StartExecution"
    inline = template.find_resources("AWS::IAM::Policy").values()
    assert not [p for p in inline if "Scheduler" in json.dumps(p["Properties"].get("Roles", []))]
