"""A seed provider's workflow in a collaboration, executed by moto's Step Functions interpreter
with the stack's job-status state machine: SQL seeds run against the configured model another
account associated with the collaboration (generation, export, end event)."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    AudienceSizeType,
    CleanRoomsMlServiceRole,
    SeedAudienceBucket,
)
from tests.conftest import synth_stack
from tests.handler_support import new_client
from tests.sfn_configurations import fast_tracker
from tests.sfn_support import ACCOUNT, definition_of, interpreter, machine_name_of

#: The model owner's configured model (another account), associated with the collaboration.
OWNER_CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:444455556666:configured-audience-model/owner-1"
#: The job ARN in the caller's account (Clean Rooms ML also makes one in the model's account).
JOB_ARN = f"arn:aws:cleanrooms-ml:us-east-1:{ACCOUNT}:audience-generation-job/j-1"
COLLABORATION = "2b3c4d5e-1111-2222-3333-444455556666"
MEMBERSHIP = "5a6b7c8d-1111-2222-3333-444455556666"
NOW = datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC)
SQL = {
    "queryString": "SELECT user_id FROM buyers WHERE segment = :segment",
    "parameters": {"segment": "sports"},
}
WORKERS = {"worker": {"type": "CR.4X", "number": 16}}


class Machines:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.workflow = definition_of(raw, "Workflow")
        self.workflow_name = machine_name_of(raw, "Workflow")
        self.tracker = definition_of(raw, "-job-status")
        self.tracker_name = machine_name_of(raw, "-job-status")


@pytest.fixture(scope="module")
def seed_provider(tmp_path_factory: pytest.TempPathFactory) -> Machines:
    """GIVEN the seed provider's workflow: the owner's configured model, this account's
    membership for SQL seeds, the collaboration, one export size."""

    def build(stack: Any) -> None:
        fast_tracker(stack)
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        role = CleanRoomsMlServiceRole(
            stack,
            "SeedRole",
            seed_bucket=seeds.bucket,
            seed_prefix="seeds/",
            encryption_key=key,
            sql_seed_membership=MEMBERSHIP,
        )
        AudienceGenerationWorkflow(
            stack,
            "Workflow",
            configured_audience_model=OWNER_CAM_ARN,
            seed_role=role,
            seed_bucket=seeds,
            seed_prefix="seeds/",
            job_name_prefix="shared",
            collaboration_id=COLLABORATION,
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)],
        )

    synthesized = synth_stack(tmp_path_factory.mktemp("seed-provider"), build)
    return Machines(synthesized.raw)


def _job(status: str) -> dict[str, Any]:
    return {
        "createTime": NOW,
        "updateTime": NOW,
        "audienceGenerationJobArn": JOB_ARN,
        "name": "j",
        "status": status,
        "configuredAudienceModelArn": OWNER_CAM_ARN,
        "collaborationId": COLLABORATION,
    }


def _export(name: str, status: str) -> dict[str, Any]:
    return {
        "createTime": NOW,
        "updateTime": NOW,
        "name": name,
        "audienceGenerationJobArn": JOB_ARN,
        "audienceSize": {"type": "ABSOLUTE", "value": 10000},
        "status": status,
    }


def _stubber() -> Stubber:
    stubber = Stubber(new_client("cleanroomsml"))
    stubber.activate()
    return stubber


def _settings(machines: Machines) -> dict[str, Any]:
    states = json.loads(machines.workflow)["States"]
    settings: dict[str, Any] = states["CheckInput"]["Parameters"]["Payload"]["Settings"]
    return settings


def test_a_sql_seed_runs_in_the_collaboration_end_to_end(seed_provider: Machines) -> None:
    # GIVEN a manual input with a SQL seed and its workers, no collaborationId (the workflow's)
    cleanrooms = _stubber()
    given = {
        "name": "sports-lookalikes",
        "seedAudience": {"sqlParameters": SQL, "sqlComputeConfiguration": WORKERS},
    }
    # THEN the job is started once with the owner's model, the query and the collaboration
    cleanrooms.add_response(
        "start_audience_generation_job",
        {"audienceGenerationJobArn": JOB_ARN},
        {
            "name": "sports-lookalikes",
            "configuredAudienceModelArn": OWNER_CAM_ARN,
            "seedAudience": {
                "roleArn": _settings(seed_provider)["roleArn"],
                "sqlParameters": SQL,
                "sqlComputeConfiguration": WORKERS,
            },
            "includeSeedInOutput": False,
            "collaborationId": COLLABORATION,
            "description": "Started by the execution sql-1",
            "tags": {"cleanrooms-ml-cdk:execution": "sql-1"},
        },
    )
    # AND tracked while the query and the generation run, then exported
    cleanrooms.add_response("get_audience_generation_job", _job("CREATE_PENDING"))
    cleanrooms.add_response("get_audience_generation_job", _job("CREATE_IN_PROGRESS"))
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    export_name = "sports-lookalikes-absolute-10000"
    cleanrooms.add_response(
        "start_audience_export_job",
        {},
        {
            "name": export_name,
            "audienceGenerationJobArn": JOB_ARN,
            "audienceSize": {"type": "ABSOLUTE", "value": 10000},
            "description": "absolute 10000 of sports-lookalikes",
        },
    )
    cleanrooms.add_response(
        "list_audience_export_jobs", {"audienceExportJobs": [_export(export_name, "ACTIVE")]}
    )
    with interpreter({"cleanroomsml": cleanrooms}) as run:
        run.machine(seed_provider.tracker, seed_provider.tracker_name)
        # WHEN the execution runs
        result = run(seed_provider.workflow, given, "sql-1", seed_provider.workflow_name)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [c for c in result.calls if c.startswith("Start")] == [
        "StartAudienceGenerationJob",
        "StartAudienceExportJob",
    ]
    cleanrooms.assert_no_pending_responses()
    # AND the run ends with one event saying what ran, where
    [event] = [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]
    detail = event["detail"]
    assert detail["outcome"] == "SUCCEEDED"
    assert detail["plan"]["source"] == "manual"
    assert detail["plan"]["request"]["CollaborationId"] == COLLABORATION
    assert detail["generation"]["arn"] == JOB_ARN
    assert detail["generation"]["tracking"]["status"] == "ACTIVE"
    assert detail["exports"] == [{"name": export_name, "status": "ACTIVE"}]


def test_fails_if_a_sql_seed_names_another_collaboration(seed_provider: Machines) -> None:
    # GIVEN a SQL seed for a collaboration this workflow's role may not use
    cleanrooms = _stubber()
    given = {
        "seedAudience": {"sqlParameters": SQL},
        "collaborationId": "3c4d5e6f-1111-2222-3333-444455556666",
    }
    with interpreter({"cleanroomsml": cleanrooms}) as run:
        run.machine(seed_provider.tracker, seed_provider.tracker_name)
        # WHEN the execution runs
        result = run(seed_provider.workflow, given, "sql-2", seed_provider.workflow_name)
    # THEN nothing is started, and the run's end event says why
    assert result.calls == []
    [event] = [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]
    assert event["detail"]["outcome"] == "INVALID_INPUT"
    assert "is not this workflow's collaboration" in str(event["detail"])


def test_an_s3_seed_runs_in_the_collaboration_too(seed_provider: Machines) -> None:
    # GIVEN a new seed file (the S3 path of the same workflow)
    cleanrooms = _stubber()
    bucket = _settings(seed_provider)["seedBucket"]
    job_name = f"shared-{hashlib.sha256(b's3-w48').hexdigest()[:16]}"
    cleanrooms.add_response(
        "start_audience_generation_job",
        {"audienceGenerationJobArn": JOB_ARN},
        {
            "name": job_name,
            "configuredAudienceModelArn": OWNER_CAM_ARN,
            "seedAudience": {
                "roleArn": _settings(seed_provider)["roleArn"],
                "dataSource": {"s3Uri": f"s3://{bucket}/seeds/w48.jsonl"},
            },
            "includeSeedInOutput": False,
            "collaborationId": COLLABORATION,
            "description": f"Lookalike audience for the seed s3://{bucket}/seeds/w48.jsonl",
            "tags": {"cleanrooms-ml-cdk:execution": "s3-w48"},
        },
    )
    cleanrooms.add_response("get_audience_generation_job", _job("ACTIVE"))
    cleanrooms.add_response("start_audience_export_job", {}, None)
    cleanrooms.add_response(
        "list_audience_export_jobs",
        {"audienceExportJobs": [_export(f"{job_name}-absolute-10000", "ACTIVE")]},
    )
    with interpreter({"cleanroomsml": cleanrooms}) as run:
        run.machine(seed_provider.tracker, seed_provider.tracker_name)
        # WHEN the workflow's input is the seed object
        result = run(
            seed_provider.workflow,
            {"seedObject": {"bucket": bucket, "key": "seeds/w48.jsonl"}},
            "s3-w48",
            seed_provider.workflow_name,
        )
    # THEN the generation job names the collaboration as well, and the run succeeds
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    cleanrooms.assert_no_pending_responses()


def test_the_seed_providers_roles_allow_what_a_collaboration_run_needs(
    seed_provider: Machines,
) -> None:
    # GIVEN the synthesized stack's managed policies
    statements = [
        statement
        for resource in seed_provider.raw["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]

    def allowed(action: str) -> list[Any]:
        found = []
        for statement in statements:
            actions = statement["Action"]
            if action in (actions if isinstance(actions, list) else [actions]):
                resources = statement["Resource"]
                found += resources if isinstance(resources, list) else [resources]
        return found

    # THEN the workflow may start jobs on the owner's model and on the owner's account's jobs
    start = str(allowed("cleanrooms-ml:StartAudienceGenerationJob"))
    assert OWNER_CAM_ARN in start
    assert ":cleanrooms-ml:us-east-1:444455556666:audience-generation-job/*" in start
    # AND Clean Rooms ML may check the collaboration's members for it
    [members] = allowed("cleanrooms:ListMembers")
    assert f":*:collaboration/{COLLABORATION}" in str(members)
    # AND the seed role may run the query as this account's membership
    assert allowed("cleanrooms:StartProtectedQuery") == ["*"]
    [query] = allowed("cleanrooms:GetProtectedQuery")
    assert f":membership/{MEMBERSHIP}" in str(query)
