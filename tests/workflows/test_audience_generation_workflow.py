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
from types import SimpleNamespace
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from botocore.stub import Stubber
from botocore.utils import ArgumentGenerator

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    AudienceSizeType,
    CleanRoomsMlServiceRole,
    SeedAudienceBucket,
)
from constructs_lib._internal.state_machines import (
    QUOTA_ERROR,
    TRANSIENT_ERRORS,
    quota_retry_attempts,
    transient_errors,
)
from tests.bedrock_fake import FakeBedrock
from tests.conftest import Synthesized, assert_cfn_lint_clean, synth_stack
from tests.handler_support import new_client
from tests.sfn_configurations import bedrock_step, fast_tracker, scratch_batch_workflow
from tests.sfn_support import (
    ACCOUNT,
    REGION,
    Run,
    definition_of,
    interpreter,
    machine_name_of,
    s3_json,
)

CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
JOB_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-generation-job/j-1"
SEED_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SeedRole"
NOW = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)


@dataclass
class Machines:
    workflow: str
    workflow_name: str
    tracker: str
    tracker_name: str
    synthesized: Synthesized
    batch: str | None = None
    batch_name: str | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """What the definition hands the input check (resolved test values of the stack's
        bucket and role)."""
        states = json.loads(self.workflow)["States"]
        settings: dict[str, Any] = states["CheckInput"]["Parameters"]["Payload"]["Settings"]
        return settings


def _job_name(prefix: str, execution: str) -> str:
    return f"{prefix}-{hashlib.sha256(execution.encode()).hexdigest()[:16]}"


def _machines(synthesized: Synthesized, batch: bool = False) -> Machines:
    return Machines(
        workflow=definition_of(synthesized.raw, "Workflow"),
        workflow_name=machine_name_of(synthesized.raw, "Workflow"),
        tracker=definition_of(synthesized.raw, "-job-status"),
        tracker_name=machine_name_of(synthesized.raw, "-job-status"),
        synthesized=synthesized,
        batch=definition_of(synthesized.raw, "Batch") if batch else None,
        batch_name=machine_name_of(synthesized.raw, "Batch") if batch else None,
    )


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Machines:
    """GIVEN a workflow with an S3 trigger, one export size and a Bedrock step: a batch
    inference workflow (10 to 100 records a job) each run starts."""

    def build(stack: cdk.Stack) -> None:
        fast_tracker(stack)
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        role = CleanRoomsMlServiceRole(
            stack, "SeedRole", seed_bucket=seeds.bucket, seed_prefix="seeds/", encryption_key=key
        )
        batch = bedrock_step(stack, seeds, key, timeout_duration_in_hours=24)
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
            batch_inference=batch,
        )

    return _machines(synth_stack(tmp_path_factory.mktemp("workflow-full"), build), batch=True)


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


def _stubbers() -> dict[str, Any]:
    stubbers: dict[str, Any] = {"cleanroomsml": Stubber(new_client("cleanroomsml"))}
    stubbers["cleanroomsml"].activate()
    return stubbers


@contextmanager
def _running(
    machines: Machines, stubbers: dict[str, Any], bedrock: FakeBedrock | None = None
) -> Iterator[Any]:
    """The interpreter with the stack's tracker (and batch workflow), Clean Rooms ML answered by
    ``stubbers`` and Bedrock by ``bedrock`` (a stateful fake), the seed bucket in moto's S3."""
    services = dict(stubbers)
    if bedrock is not None:
        services["bedrock"] = SimpleNamespace(client=bedrock.client)
    with interpreter(services) as run:
        run.machine(machines.tracker, machines.tracker_name)
        if machines.batch is not None and machines.batch_name is not None:
            run.machine(machines.batch, machines.batch_name)
            boto3.client("s3", region_name=REGION).create_bucket(
                Bucket=machines.settings["seedBucket"]
            )
        yield run


def _records(count: int) -> bytes:
    """``count`` model inputs in Bedrock's record format (no record ids: the split adds them)."""
    lines = [
        json.dumps({"modelInput": {"messages": [{"role": "user", "content": f"customer {i}"}]}})
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def _put_input(machines: Machines, key: str, count: int) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=machines.settings["seedBucket"], Key=key, Body=_records(count)
    )


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
    # GIVEN services that accept every start and report each job done at its first poll, and
    # 250 model inputs in the seed file's folder under the batch workflow's input
    stubbers = _stubbers()
    cleanrooms = stubbers["cleanroomsml"]
    bedrock = FakeBedrock()
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
    with _running(full, stubbers, bedrock) as run:
        _put_input(full, "batch-input/new/part-1.jsonl", 250)
        # WHEN S3 reports the new seed file, and EventBridge delivers it again during the run
        # and after it
        first = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-1")
        again = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-2")
        handed = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{full.workflow_name}:{execution}"
        result = run.wait_for(handed)
        late = _run(run, full, _s3_event(bucket, "seeds/new.jsonl"), "delivery-3")
        batch_runs = run.list_executions(full.batch_name)
        manifest = s3_json(result.output["plan"]["batch"]["ManifestS3Uri"])
    # THEN every delivery leads to the one run named after the object,
    assert first.output["handedOver"]["executionArn"] == handed
    assert again.output["handedOver"]["executionArn"] == handed  # StartExecution is idempotent
    assert late.status == "SUCCEEDED"
    assert late.entered[-1] == "AlreadyHandedOver"
    # AND that run started each Clean Rooms ML job once and tracked each to its end
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [c for c in result.calls if c.startswith("Start")] == [
        "StartAudienceGenerationJob",
        "StartAudienceExportJob",
    ]
    cleanrooms.assert_no_pending_responses()
    # AND one run of the batch workflow read the seed file's folder: 250 records, 3 jobs of at
    # most 100 (the model's limit in this stack)
    plan = result.output["plan"]["batch"]
    assert plan["InputS3Uri"] == f"s3://{bucket}/batch-input/new/"
    [batch_run] = batch_runs
    assert batch_run["executionArn"] == plan["ExecutionArn"]
    assert batch_run["name"] == plan["ExecutionName"]
    assert len(bedrock.jobs) == 3
    assert [shard["records"] for shard in manifest["shards"]] == [84, 83, 83]
    assert manifest["inputs"] == [f"s3://{bucket}/batch-input/new/part-1.jsonl"]
    # AND the run ended with one completion event saying what ran, the batch run's counts and
    # manifest included
    [event] = _workflow_events(result)
    assert event["detail-type"] == "Audience Generation Workflow Finished"
    detail = event["detail"]
    assert detail["outcome"] == "SUCCEEDED"
    assert detail["generation"]["arn"] == JOB_ARN
    assert detail["generation"]["tracking"]["status"] == "ACTIVE"
    assert detail["exports"] == [{"name": export_name, "status": "ACTIVE"}]
    assert detail["batch"]["executionArn"] == plan["ExecutionArn"]
    assert detail["batch"]["outcome"] == "SUCCEEDED"
    assert detail["batch"]["result"]["shards"] == 3
    assert detail["batch"]["result"]["manifestUri"] == plan["ManifestS3Uri"]
    assert detail["plan"]["source"] == "s3"


def _manual_run_to_bedrock(machines: Machines, batch_input: str) -> tuple[dict[str, Any], Any]:
    """A manual run naming ``batch_input`` (a key under the bucket) as its Bedrock input, and
    Clean Rooms ML finishing its generation job and its export at once."""
    stubbers = _stubbers()
    cleanrooms = stubbers["cleanroomsml"]
    given = _cli_input()
    del given["configuredAudienceModelArn"], given["seedAudience"]["roleArn"]
    given["batchInputS3Uri"] = f"s3://{machines.settings['seedBucket']}/{batch_input}"
    cleanrooms.add_response("start_audience_generation_job", {"audienceGenerationJobArn": JOB_ARN})
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    cleanrooms.add_response("start_audience_export_job", {})
    cleanrooms.add_response(
        "list_audience_export_jobs",
        {"audienceExportJobs": [_export("weekly-lookalikes-absolute-10000", "ACTIVE")]},
    )
    return stubbers, given


def test_a_batch_run_with_partial_results_ends_the_run_succeeded_with_warnings(
    full: Machines,
) -> None:
    # GIVEN a manual run naming its Bedrock input, whose second shard's job expires on every
    # attempt
    bedrock = FakeBedrock(scripts={2: ["Expired"] * 3})
    stubbers, given = _manual_run_to_bedrock(full, "batch-input/weekly.jsonl")
    with _running(full, stubbers, bedrock) as run:
        _put_input(full, "batch-input/weekly.jsonl", 150)
        # WHEN it runs
        result = _run(run, full, given, "partial")
    # THEN the execution succeeds, its outcome saying there were warnings, with the batch run's
    # counts
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "BatchInferenceWithWarnings" in result.entered
    [event] = _workflow_events(result)
    detail = event["detail"]
    assert (detail["outcome"], detail["step"]) == ("SUCCEEDED_WITH_WARNINGS", "batch")
    assert detail["batch"]["outcome"] == "SUCCEEDED_WITH_WARNINGS"
    assert detail["batch"]["result"]["byStatus"] == {"Completed": 1, "Expired": 1}
    assert "manifest" in detail["cause"]


def test_fails_if_the_runs_bedrock_input_is_too_small_for_one_job(full: Machines) -> None:
    # GIVEN a manual run whose Bedrock input holds 3 records (the model's minimum is 10)
    stubbers, given = _manual_run_to_bedrock(full, "batch-input/tiny/")
    bedrock = FakeBedrock()
    with _running(full, stubbers, bedrock) as run:
        _put_input(full, "batch-input/tiny/a.jsonl", 3)
        result = _run(run, full, given, "tiny")
    # THEN no Bedrock job starts and the run ends with the batch run's outcome and cause
    assert bedrock.jobs == {}
    assert result.status == "FAILED"
    assert result.error == "TOO_FEW_RECORDS"
    assert "3 records in all, fewer than the 10 one job needs" in str(result.cause)
    assert "RunBatchInferenceOutcome" in result.entered
    [event] = _workflow_events(result)
    assert (event["detail"]["outcome"], event["detail"]["step"]) == ("TOO_FEW_RECORDS", "batch")


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
    assert "RunBatchInference" not in result.entered
    [event] = _workflow_events(result)
    assert event["detail"]["step"] == "export"


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
    # (the Bedrock role is passed by the batch workflow, whose runs this workflow starts)
    assert {s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passes} == {
        "cleanrooms-ml.amazonaws.com",
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


def test_fails_if_the_batch_workflow_also_starts_on_upload(stack: cdk.Stack) -> None:
    # GIVEN a batch inference workflow that starts a run for every new input file
    batch = scratch_batch_workflow(stack)
    # WHEN an audience workflow would start it too THEN synth fails: each input would run twice
    with pytest.raises(
        ValueError,
        match=r"Scratch/W: invalid batch_inference='Scratch/Batch': must be a "
        r"BatchInferenceWorkflow created with trigger_on_upload=False: every audience run's "
        r"Bedrock input lands under its input location .*so a workflow that also starts on "
        r"upload would run each input twice",
    ):
        AudienceGenerationWorkflow(
            stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
            batch_inference=batch,
        )  # fmt: skip


def test_a_bedrock_step_lengthens_the_default_run_timeout(stack: cdk.Stack) -> None:
    # GIVEN batch runs limited to 20 days
    batch = scratch_batch_workflow(stack, trigger_on_upload=False, timeout=cdk.Duration.days(20))
    # WHEN an audience workflow starts them
    AudienceGenerationWorkflow(
        stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
        batch_inference=batch,
    )  # fmt: skip
    template = cdk.assertions.Template.from_stack(stack).to_json()
    definition = json.loads(definition_of(template, "-W-"))
    # THEN its runs may last the batch run's limit plus 10 days (generation and exports)
    assert definition["TimeoutSeconds"] == 30 * 86400


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
    seed = {"seedObject": {"bucket": full.settings["seedBucket"], "key": "seeds/c.jsonl"}}
    with _running(full, stubbers, FakeBedrock()) as run:
        _put_input(full, "batch-input/c/a.jsonl", 20)
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


def test_workflow_may_start_and_stop_only_its_batch_workflows_runs(full: Machines) -> None:
    # GIVEN the workflow's policy ("IAM policies for Step Functions' optimized integrations":
    # startExecution.sync:2 needs StartExecution on the state machine, DescribeExecution and
    # StopExecution on its executions)
    statements = _statements_of(full.synthesized, "WorkflowPolicy")
    # THEN it creates no Bedrock job itself
    assert not [s for s in statements if "bedrock:" in json.dumps(s["Action"])]
    # AND it starts the batch workflow and reads or stops only the runs it names audience-...
    starts = [
        json.dumps(s["Resource"]) for s in statements if s["Action"] == "states:StartExecution"
    ]
    assert any("Batch" in r for r in starts), starts
    [runs] = [
        json.dumps(s["Resource"])
        for s in statements
        if "states:StopExecution" in s["Action"] and "audience-*" in json.dumps(s["Resource"])
    ]
    assert f":execution:{full.batch_name}:audience-*" in runs


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
    # the tracker, the workflow and the batch workflow; the seed rule and the tracker's
    # Bedrock event rule (the batch workflow starts on no upload here)
    assert len(trusted["states.amazonaws.com"]) == 3
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


def test_with_the_batch_workflows_default_limit_a_run_may_last_a_year(stack: cdk.Stack) -> None:
    # GIVEN batch runs with their default limit (a year, Step Functions' longest)
    batch = scratch_batch_workflow(stack, trigger_on_upload=False)
    AudienceGenerationWorkflow(
        stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
        batch_inference=batch,
    )  # fmt: skip
    # THEN the audience run's default limit is capped at a year too
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert json.loads(definition_of(template, "-W-"))["TimeoutSeconds"] == 365 * 86400


def test_a_batch_workflow_of_another_stack_is_started_and_tracked_there(
    tmp_path: Path,
) -> None:
    # GIVEN the batch workflow in a stack of its own (same account and Region)
    app = cdk.App(outdir=str(tmp_path))
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    batch_stack = cdk.Stack(app, "BatchStack", env=env)
    batch = scratch_batch_workflow(batch_stack, trigger_on_upload=False)
    audience_stack = cdk.Stack(app, "AudienceStack", env=env)
    AudienceGenerationWorkflow(
        audience_stack, "W", configured_audience_model=CAM_ARN, seed_role=SEED_ROLE_ARN,
        batch_inference=batch,
    )  # fmt: skip
    # WHEN synthesized
    template = cdk.assertions.Template.from_stack(audience_stack).to_json()
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    # THEN the audience workflow starts it by its ARN and describes and stops its runs there
    starts = [
        json.dumps(s["Resource"]) for s in statements if s["Action"] == "states:StartExecution"
    ]
    assert any("Fn::ImportValue" in r for r in starts), starts
    [runs] = [
        s["Resource"]
        for s in statements
        if "states:StopExecution" in s["Action"] and "audience-*" in json.dumps(s["Resource"])
    ]
    assert ":111122223333:execution:" in json.dumps(runs)
    assert f":execution:{batch.state_machine_name}:audience-*" in json.dumps(runs)
