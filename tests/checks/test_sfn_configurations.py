"""Every configuration of the library's state machines synthesizes, and is recorded for the
path-coverage gate (``tests/sfn_coverage.py``) when the gate is on."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from tests.bedrock_fake import FakeBedrock
from tests.sfn_configurations import (
    BATCH,
    BUILDS,
    CAM_ARN,
    DATASET_ARN,
    TRACKER,
    WORKFLOW,
    Configuration,
    synthesize_all,
)
from tests.sfn_coverage import CONFIGURATIONS_FILE, ENV
from tests.sfn_support import REGION, interpreter

MODEL_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-model/m-1"


@pytest.fixture(scope="module")
def configurations(tmp_path_factory: pytest.TempPathFactory) -> list[Configuration]:
    return synthesize_all(tmp_path_factory.mktemp("configurations"))


def test_every_configuration_has_its_state_machines(configurations: list[Configuration]) -> None:
    # GIVEN every configuration the library can produce, synthesized through the cdk-nag gate
    assert [c.name for c in configurations] == list(BUILDS)
    for configuration in configurations:
        # THEN each has the tracker, and the workflow ones a workflow too
        assert TRACKER in configuration.definitions
        assert (WORKFLOW in configuration.definitions) == configuration.name.startswith("workflow")
    # AND the configurations differ where they should (the states they hold)
    workflows = {
        c.name: set(json.loads(c.definitions[WORKFLOW])["States"])
        for c in configurations
        if WORKFLOW in c.definitions
    }
    assert "ExportAudience" not in workflows["workflow, manual only"]
    assert "RunBatchInference" in workflows["workflow, S3 trigger + exports + Bedrock"]
    # AND a Bedrock step brings its batch inference workflow
    for configuration in configurations:
        bedrock = "+ Bedrock" in configuration.name or configuration.name.startswith("batch")
        assert (BATCH in configuration.definitions) == bedrock, configuration.name


def test_configurations_are_recorded_for_the_coverage_gate(
    configurations: list[Configuration],
) -> None:
    directory = os.environ.get(ENV)
    if not directory:
        pytest.skip("the path-coverage gate is off (make test turns it on)")
    (Path(directory) / CONFIGURATIONS_FILE).write_text(
        json.dumps({c.name: c.definitions for c in configurations})
    )


def _smoke_stubbers(configuration: Configuration, execution: str) -> dict[str, Any]:
    """Services that accept every start and report every job done at its first poll."""
    from botocore.stub import Stubber

    from tests.handler_support import new_client

    now = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)
    job_arn = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-generation-job/j-1"
    cleanrooms = Stubber(new_client("cleanroomsml"))
    name = f"audience-{hashlib.sha256(execution.encode()).hexdigest()[:16]}"
    states = json.loads(configuration.definitions.get(WORKFLOW, '{"States": {}}'))["States"]
    if WORKFLOW not in configuration.definitions:
        cleanrooms.add_response(
            "get_audience_model",
            {"createTime": now, "updateTime": now, "audienceModelArn": MODEL_ARN, "name": "m",
             "trainingDatasetArn": DATASET_ARN, "status": "ACTIVE"},
        )  # fmt: skip
    else:
        cleanrooms.add_response(
            "start_audience_generation_job", {"audienceGenerationJobArn": job_arn}
        )
        cleanrooms.add_response(
            "get_audience_generation_job",
            {"createTime": now, "updateTime": now, "audienceGenerationJobArn": job_arn,
             "name": name, "status": "ACTIVE", "configuredAudienceModelArn": CAM_ARN},
        )  # fmt: skip
    if "ExportAudience" in states:
        cleanrooms.add_response("start_audience_export_job", {})
        cleanrooms.add_response(
            "list_audience_export_jobs",
            {"audienceExportJobs": [
                {"createTime": now, "updateTime": now, "name": f"{name}-absolute-10000",
                 "audienceGenerationJobArn": job_arn, "status": "ACTIVE",
                 "audienceSize": {"type": "ABSOLUTE", "value": 10000}}]},
        )  # fmt: skip
    cleanrooms.activate()
    # Bedrock: a stateful fake that completes every job (the batch run's shards)
    return {"cleanroomsml": cleanrooms, "bedrock": SimpleNamespace(client=FakeBedrock().client)}


@pytest.mark.parametrize("name", list(BUILDS))
def test_every_configuration_runs_its_happy_path(
    configurations: list[Configuration], name: str
) -> None:
    # GIVEN one configuration, and services that finish every job at once
    [configuration] = [c for c in configurations if c.name == name]
    execution = "smoke"
    stubbers = _smoke_stubbers(configuration, execution)
    with interpreter(stubbers) as run:
        run.machine(configuration.definitions[TRACKER], configuration.names[TRACKER])
        if WORKFLOW in configuration.definitions and BATCH in configuration.definitions:
            # the Bedrock step's batch workflow, and 20 model inputs under its input location
            run.machine(configuration.definitions[BATCH], configuration.names[BATCH])
            settings = json.loads(configuration.definitions[BATCH])["States"]["CheckBatchInput"][
                "Parameters"
            ]["Payload"]["Settings"]
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket=settings["inputBucket"])
            s3.put_object(
                Bucket=settings["inputBucket"],
                Key=f"{settings['inputPrefix']}prompts.jsonl",
                Body=b"".join(b'{"modelInput": {"n": %d}}\n' % i for i in range(20)),
            )
        if WORKFLOW in configuration.definitions:
            # WHEN a manual run starts
            result = run(
                configuration.definitions[WORKFLOW],
                {"seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/w.jsonl"}}},
                execution,
                configuration.names[WORKFLOW],
            )
        else:
            # WHEN a model is tracked with the default polling
            result = run(
                configuration.definitions[TRACKER],
                {"kind": "AUDIENCE_MODEL", "arn": MODEL_ARN},
                execution,
                configuration.names[TRACKER],
            )
    # THEN it succeeds, every scripted call made
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    stubbers["cleanroomsml"].assert_no_pending_responses()
