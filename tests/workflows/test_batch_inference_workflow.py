"""The synthesized batch inference workflow, executed by moto's Step Functions interpreter with
the stack's job-status state machine, the real handler (split and collect against moto's S3) and
a stateful Bedrock answering at the HTTP layer (``tests/bedrock_fake.py``).

The shape of the issue's run (1,000,000 records, 50,000 per job, 10 in flight: 20 shards) is kept
at a size a test can afford: 2,000 records, 100 per job, 10 in flight: 20 shards. The full size is
measured in ``bench/batch_split.py`` (the split) and ``bench/batch_run.py`` (the run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from tests.bedrock_fake import FakeBedrock
from tests.conftest import Synthesized, assert_cfn_lint_clean, synth_stack
from tests.sfn_configurations import batch_workflow, scratch_batch_workflow
from tests.sfn_support import REGION, Run, definition_of, interpreter, machine_name_of, s3_json

SOURCE = "cleanrooms-ml-cdk.batch-inference"
RECORDS = 2_000
PER_JOB = 100
IN_FLIGHT = 10


class Machines:
    def __init__(self, synthesized: Synthesized) -> None:
        raw = synthesized.raw
        self.synthesized = synthesized
        self.workflow = definition_of(raw, "Batch")
        self.workflow_name = machine_name_of(raw, "Batch")
        self.tracker = definition_of(raw, "-job-status")
        self.tracker_name = machine_name_of(raw, "-job-status")
        states = json.loads(self.workflow)["States"]
        self.settings: dict[str, Any] = states["CheckBatchInput"]["Parameters"]["Payload"][
            "Settings"
        ]

    @property
    def bucket(self) -> str:
        return str(self.settings["inputBucket"])


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Machines:
    """GIVEN a batch inference workflow: 100 records per job, 10 jobs in flight, 2 attempts
    (the path-coverage gate's configuration of it)."""
    return Machines(synth_stack(tmp_path_factory.mktemp("batch-workflow"), batch_workflow))


def _records(count: int, start: int = 0) -> bytes:
    lines = [
        json.dumps(
            {
                "modelInput": {
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": 64,
                    "messages": [{"role": "user", "content": f"Describe customer {start + i}."}],
                }
            }
        )
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


@contextmanager
def _running(machines: Machines, bedrock: FakeBedrock) -> Iterator[Any]:
    with interpreter({"bedrock": SimpleNamespace(client=bedrock.client)}) as run:
        run.machine(machines.tracker, machines.tracker_name)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=machines.bucket)
        yield run


def _put(machines: Machines, key: str, body: bytes) -> str:
    boto3.client("s3", region_name=REGION).put_object(Bucket=machines.bucket, Key=key, Body=body)
    return f"s3://{machines.bucket}/{key}"


def _events(result: Run) -> list[dict[str, Any]]:
    return [e for e in result.events if e["source"] == SOURCE]


def test_a_large_input_runs_as_shards_never_more_than_n_in_flight(machines: Machines) -> None:
    # GIVEN 2,000 records (20 jobs' worth) and a Bedrock that completes every job
    bedrock = FakeBedrock(records_per_shard={i: PER_JOB for i in range(1, 21)})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/customers.jsonl", _records(RECORDS))
        # WHEN a run is started by hand with the input's URI
        result = run(machines.workflow, {"inputUris": [uri]}, "big-1", machines.workflow_name)
        # THEN it succeeds: 20 shards, one job each, never more than 10 in flight
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        assert len(bedrock.jobs) == 20
        assert 1 < bedrock.max_in_flight <= IN_FLIGHT
        # AND one manifest lists every shard with its job and Bedrock's counts
        [event] = _events(result)
        detail = event["detail"]
        assert detail["outcome"] == "SUCCEEDED"
        manifest = s3_json(detail["result"]["manifestUri"])
        assert [s["index"] for s in manifest["shards"]] == list(range(1, 21))
        assert {s["status"] for s in manifest["shards"]} == {"Completed"}
        assert sum(s["records"] for s in manifest["shards"]) == RECORDS
        assert all(s["jobArn"].startswith("arn:aws:bedrock:") for s in manifest["shards"])
        # AND the run's output is its summary, not the shard list (a parent run receives it)
        assert set(result.output) == {"end", "plan", "result"}
        assert result.output["result"] == detail["result"]


def test_a_failed_shard_is_retried_and_an_expired_one_ends_with_warnings(
    machines: Machines,
) -> None:
    # GIVEN shard 3 fails once then completes, shard 5 expires on every attempt
    bedrock = FakeBedrock(scripts={3: ["Failed", "Completed"], 5: ["Expired", "Expired"]})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/small.jsonl", _records(500))
        result = run(machines.workflow, {"inputUris": [uri]}, "retry-1", machines.workflow_name)
    # THEN shard 3 took two jobs and completed; shard 5 gave up after two
    assert [j.final for j in bedrock.attempts_of(3)] == ["Failed", "Completed"]
    assert [j.final for j in bedrock.attempts_of(5)] == ["Expired", "Expired"]
    # AND the run succeeded with warnings, saying so with counts
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [event] = _events(result)
    assert event["detail"]["outcome"] == "SUCCEEDED_WITH_WARNINGS"
    assert event["detail"]["result"]["byStatus"] == {"Completed": 4, "Expired": 1}


def test_throttling_and_quota_refusals_on_create_wait_and_retry(machines: Machines) -> None:
    # GIVEN Bedrock refuses the first creates: throttled, then its job quota full
    bedrock = FakeBedrock(
        create_faults=[
            "ThrottlingException",
            "ServiceQuotaExceededException",
            "ThrottlingException",
        ]
    )
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/burst.jsonl", _records(200))
        result = run(machines.workflow, {"inputUris": [uri]}, "burst-1", machines.workflow_name)
    # THEN the refusals were retried, not failed
    assert bedrock.refused == [
        "ThrottlingException",
        "ServiceQuotaExceededException",
        "ThrottlingException",
    ]
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert _events(result)[0]["detail"]["outcome"] == "SUCCEEDED"


def test_a_duplicate_s3_delivery_is_one_run(machines: Machines) -> None:
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        _put(machines, "batch-input/daily.jsonl", _records(150))
        notification = {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {
                "bucket": {"name": machines.bucket},
                "object": {"key": "batch-input/daily.jsonl", "sequencer": "0062E99A88DC407460"},
            },
        }
        # WHEN EventBridge delivers the notification twice
        first = run(machines.workflow, notification, "delivery-1", machines.workflow_name)
        second = run(machines.workflow, notification, "delivery-2", machines.workflow_name)
        handed = first.output["handedOver"]["executionArn"]
        result = run.wait_for(handed)
        # AND once more after the run ended
        late = run(machines.workflow, notification, "delivery-3", machines.workflow_name)
    # THEN every delivery leads to the one run named after the object, which ran once
    assert second.output["handedOver"]["executionArn"] == handed  # StartExecution is idempotent
    assert late.status == "SUCCEEDED"
    assert late.entered[-1] == "AlreadyHandedOver"
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert len(bedrock.jobs) == 2  # 150 records: two shards of 75


def test_fails_if_there_are_too_few_records_for_one_job(machines: Machines) -> None:
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/tiny.jsonl", _records(3))
        result = run(machines.workflow, {"inputUris": [uri]}, "tiny-1", machines.workflow_name)
    # THEN no job started, and the outcome says why
    assert bedrock.creates == 0
    assert result.status == "FAILED"
    assert result.error == "TOO_FEW_RECORDS"
    [event] = _events(result)
    assert "3 records in all, fewer than the 10 one job needs" in event["detail"]["cause"]


def test_fails_if_the_input_is_not_one_the_workflow_takes(machines: Machines) -> None:
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        result = run(
            machines.workflow, {"inputUris": ["https://x/y.jsonl"]}, "bad-1", machines.workflow_name
        )
    assert result.status == "FAILED"
    assert result.error == "INVALID_INPUT"
    assert bedrock.creates == 0


def test_every_shard_failing_fails_the_run(machines: Machines) -> None:
    bedrock = FakeBedrock(scripts={1: ["Failed", "Failed"], 2: ["Failed", "Failed"]})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/doomed.jsonl", _records(150))
        result = run(machines.workflow, {"inputUris": [uri]}, "doomed-1", machines.workflow_name)
    assert result.status == "FAILED"
    assert result.error == "FAILED"
    assert _events(result)[0]["detail"]["outcome"] == "FAILED"


def test_workflow_template_passes_cfn_lint(machines: Machines, tmp_path: Path) -> None:
    assert_cfn_lint_clean(machines.synthesized.outdir)


def test_a_partially_completed_shard_is_a_warning_with_counts(machines: Machines) -> None:
    bedrock = FakeBedrock(scripts={2: ["PartiallyCompleted"]}, records_per_shard={1: 75, 2: 75})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/partial.jsonl", _records(150))
        result = run(machines.workflow, {"inputUris": [uri]}, "partial-1", machines.workflow_name)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [event] = _events(result)
    assert event["detail"]["outcome"] == "SUCCEEDED_WITH_WARNINGS"
    # Bedrock's own counts (manifest.json.out): shard 2 processed 37 of 75
    assert event["detail"]["result"]["records"]["processed"] == 75 + 37


def test_a_shard_whose_create_is_refused_is_reported_not_started(machines: Machines) -> None:
    # GIVEN Bedrock refuses the first create for a reason retrying cannot fix
    bedrock = FakeBedrock(create_faults=["ValidationException"])
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/refused.jsonl", _records(150))
        result = run(machines.workflow, {"inputUris": [uri]}, "refused-1", machines.workflow_name)
        manifest = s3_json(_events(result)[0]["detail"]["result"]["manifestUri"])
    # THEN that shard ends CALL_FAILED with Bedrock's message, the other one runs
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    statuses = sorted(s["status"] for s in manifest["shards"])
    assert statuses == ["CALL_FAILED", "Completed"]
    [refused] = [s for s in manifest["shards"] if s["status"] == "CALL_FAILED"]
    assert "scripted ValidationException" in refused["message"]


def test_a_shard_whose_status_cannot_be_read_is_unknown(machines: Machines) -> None:
    # GIVEN shard 1's job fails, and its status cannot be read afterwards
    bedrock = FakeBedrock(scripts={1: ["Failed"]}, read_faults={1: "AccessDeniedException"})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/unreadable.jsonl", _records(150))
        result = run(machines.workflow, {"inputUris": [uri]}, "unread-1", machines.workflow_name)
        manifest = s3_json(_events(result)[0]["detail"]["result"]["manifestUri"])
    assert sorted(s["status"] for s in manifest["shards"]) == ["Completed", "UNKNOWN_STATUS"]


def test_a_long_split_continues_across_invocations(
    machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a handler that is always short of time (each invocation does the least it may)
    import batch_input

    original = batch_input.split
    calls: list[int] = []

    def hurried(event: Any, context: Any = None, remaining_ms: Any = None) -> Any:
        calls.append(1)
        return original(event, context, remaining_ms=lambda: 0)

    monkeypatch.setattr(batch_input, "split", hurried)
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/slow.jsonl", _records(300))
        result = run(machines.workflow, {"inputUris": [uri]}, "slow-1", machines.workflow_name)
    # THEN the split took several invocations and still made the same three shards
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert len(calls) > 3
    assert len(bedrock.jobs) == 3


def test_fails_if_an_input_line_is_not_a_bedrock_record(machines: Machines) -> None:
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/broken.jsonl", _records(20) + b"not json\n")
        result = run(machines.workflow, {"inputUris": [uri]}, "broken-1", machines.workflow_name)
    assert result.status == "FAILED"
    assert result.error == "INVALID_INPUT"
    assert "line 21" in _events(result)[0]["detail"]["cause"]


@pytest.mark.parametrize("action", ["prepare", "split", "collect"])
def test_fails_if_the_handler_breaks_the_run_ends_call_failed(
    machines: Machines, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    # GIVEN the handler fails unexpectedly in one of its three steps
    import batch_input

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"{action} broke")

    monkeypatch.setattr(batch_input, action, broken)
    bedrock = FakeBedrock()
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/any.jsonl", _records(150))
        result = run(machines.workflow, {"inputUris": [uri]}, f"{action}-1", machines.workflow_name)
    # THEN the run ends CALL_FAILED, saying what broke
    assert result.status == "FAILED"
    assert result.error == "CALL_FAILED"
    assert f"{action} broke" in _events(result)[0]["detail"]["cause"]


def test_contract_names_match_the_handler() -> None:
    import batch_input

    from constructs_lib._internal import contract

    assert contract.PREPARE_BATCH_ACTION == batch_input.PREPARE_ACTION
    assert contract.SPLIT_BATCH_ACTION == batch_input.SPLIT_ACTION
    assert contract.COLLECT_BATCH_ACTION == batch_input.COLLECT_ACTION
    assert batch_input.BatchInputError.__name__ == contract.BATCH_INPUT_ERROR


def test_bedrock_end_event_before_the_fallback_poll_ends_the_shard(machines: Machines) -> None:
    # GIVEN a one-shard run whose job is still running at the poller's first poll (the poller
    # then waits out its sparse interval)
    import hashlib
    import time

    bedrock = FakeBedrock(polls_before_end=1)
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/one.jsonl", _records(50))
        workflow = run.start(
            machines.workflow, {"inputUris": [uri]}, "event-1", machines.workflow_name
        )
        deadline = time.monotonic() + 30
        while not bedrock.jobs and time.monotonic() < deadline:
            time.sleep(0.05)
        [job] = bedrock.jobs.values()
        poller = (
            f"arn:aws:states:{REGION}:123456789012:execution:{machines.tracker_name}:"
            f"bedrock-{hashlib.sha256(job.arn.encode()).hexdigest()}"
        )
        run.wait_until_waiting(poller)
        # WHEN Bedrock's "Batch Inference Job State Change" event arrives first
        ended = run(
            machines.tracker,
            {
                "kind": "BEDROCK_BATCH_INFERENCE_JOB",
                "arn": job.arn,
                "via": "event",
                "eventStatus": "Completed",
            },
            None,
            machines.tracker_name,
        )
        stopped = run.wait_for(poller)
        result = run.wait_for(workflow)
    # THEN the event concluded the job and stopped its poller, and the shard read its status
    assert ended.status == "SUCCEEDED"
    assert stopped.status == "ABORTED"
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ReadShardStatus" in result.entered
    # (each wait drains the event queue: the run's one event is in whichever wait saw it end)
    [event] = [e for r in (ended, stopped, result) for e in _events(r)]
    assert event["detail"]["outcome"] == "SUCCEEDED"


def test_a_shard_whose_tracking_ends_while_its_job_runs_stops_the_job(machines: Machines) -> None:
    # GIVEN a one-shard run whose tracking fails (its first status read is refused) while Bedrock
    # still reports the job running at the shard's own read (as when the tracker times out)
    bedrock = FakeBedrock(polls_before_end=5, first_read_faults={1: ["AccessDeniedException"]})
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/stuck.jsonl", _records(50))
        result = run(machines.workflow, {"inputUris": [uri]}, "stuck-1", machines.workflow_name)
    # THEN the shard stopped its job (its slot is free for real) and ended with the status read
    [job] = bedrock.jobs.values()
    assert bedrock.stopped == [job.arn]
    assert "StopShardJob" in result.entered
    assert result.status == "FAILED"  # the only shard did not complete
    assert _events(result)[0]["detail"]["result"]["byStatus"] == {"InProgress": 1}


def test_a_job_that_ended_before_its_stop_still_ends_the_shard(machines: Machines) -> None:
    # GIVEN the same, but the job ends between the read and the stop (the stop is refused)
    bedrock = FakeBedrock(
        polls_before_end=5,
        first_read_faults={1: ["AccessDeniedException"]},
        stop_fault="ValidationException",
    )
    with _running(machines, bedrock) as run:
        uri = _put(machines, "batch-input/late.jsonl", _records(50))
        result = run(machines.workflow, {"inputUris": [uri]}, "late-stop-1", machines.workflow_name)
    # THEN the refused stop is no failure of the run's own: the shard ends with what was read
    assert bedrock.stopped == []
    assert "StopShardJob" in result.entered
    assert _events(result)[0]["detail"]["result"]["byStatus"] == {"InProgress": 1}


# ---- construct props --------------------------------------------------------------------------


def test_fails_if_a_job_prop_breaks_the_service_model_naming_the_workflows_prop(
    stack: Any,
) -> None:
    # GIVEN a job timeout over Bedrock's 168 hours  WHEN built  THEN the error names this
    # construct's own prop
    with pytest.raises(ValueError, match=r"Scratch/Batch: invalid timeout_duration_in_hours=200"):
        scratch_batch_workflow(stack, timeout_duration_in_hours=200)


def test_fails_if_a_vpc_is_given_without_a_role(stack: Any) -> None:
    from constructs_lib import BatchVpcConfig

    # GIVEN a VPC for the jobs and no role of the caller's (the created role has no EC2
    # permissions, which Bedrock's service role needs for VPC jobs)
    vpc = BatchVpcConfig(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"])
    with pytest.raises(
        ValueError, match=r"Scratch/Batch: invalid vpc_config=.*needs your own role"
    ):
        scratch_batch_workflow(stack, vpc_config=vpc)


def test_a_vpc_with_the_callers_role_reaches_every_shard_job(stack: Any) -> None:
    import aws_cdk as cdk

    from constructs_lib import BatchVpcConfig

    # GIVEN a VPC and the caller's own Bedrock role
    vpc = BatchVpcConfig(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"])
    role = cdk.aws_iam.Role(
        stack, "Bedrock", assumed_by=cdk.aws_iam.ServicePrincipal("bedrock.amazonaws.com")
    )
    batch = scratch_batch_workflow(stack, vpc_config=vpc, role=role)
    # THEN each shard's CreateModelInvocationJob carries it
    template = cdk.assertions.Template.from_stack(stack).to_json()
    [machine] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and "CreateShardJob" in json.dumps(r)
    ]
    assert '\\"VpcConfig\\":{\\"SubnetIds\\":[\\"subnet-0123456789abcdef0\\"]' in json.dumps(
        machine
    )
    assert batch.job_spec.vpc_config == vpc
