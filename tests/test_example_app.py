"""The example app wires every building block together, configured from cdk.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def template(example_app: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (example_app / "AudiencePipeline.template.json").read_text()
    )
    return loaded


def _types(template: dict[str, Any]) -> list[str]:
    return sorted(r["Type"] for r in template["Resources"].values())


def test_app_declares_the_whole_chain(template: dict[str, Any]) -> None:
    counts = Counter(r["Type"] for r in template["Resources"].values())
    assert counts["AWS::KMS::Key"] == 2  # audience data, custom-resource logs
    assert counts["AWS::S3::Bucket"] == 2  # seeds, access logs
    assert counts["AWS::CleanRoomsML::TrainingDataset"] == 1
    assert counts["Custom::CleanRoomsMLAudienceModel"] == 1
    assert counts["Custom::CleanRoomsMLConfiguredAudienceModel"] == 1
    assert counts["Custom::CleanRoomsMLAudienceGenerationJob"] == 1
    assert counts["AWS::Lambda::Function"] == 2  # one handler + the provider framework


def test_chain_is_wired_in_order(template: dict[str, Any]) -> None:
    resources = template["Resources"]

    def logical_id(resource_type: str) -> str:
        return next(k for k, r in resources.items() if r["Type"] == resource_type)

    dataset = logical_id("AWS::CleanRoomsML::TrainingDataset")
    model = logical_id("Custom::CleanRoomsMLAudienceModel")
    configured = logical_id("Custom::CleanRoomsMLConfiguredAudienceModel")
    job = logical_id("Custom::CleanRoomsMLAudienceGenerationJob")
    assert resources[model]["Properties"]["Request"]["trainingDatasetArn"] == {
        "Fn::GetAtt": [dataset, "TrainingDatasetArn"]
    }
    assert resources[configured]["Properties"]["Request"]["audienceModelArn"] == {
        "Fn::GetAtt": [model, "AudienceModelArn"]
    }
    assert resources[job]["Properties"]["Request"]["configuredAudienceModelArn"] == {
        "Fn::GetAtt": [configured, "ConfiguredAudienceModelArn"]
    }
    seed_uri = json.dumps(resources[job]["Properties"]["Request"]["seedAudience"])
    assert "/seeds/seed.jsonl" in seed_uri


def test_bedrock_tracking_is_on_and_the_job_is_behind_a_flag(template: dict[str, Any]) -> None:
    counts = Counter(r["Type"] for r in template["Resources"].values())
    # the Bedrock role, the tracker's Bedrock branch and the event rule are always there
    assert counts["AWS::Events::Rule"] == 1
    definition = json.dumps(
        next(
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        )
    )
    assert "getModelInvocationJob" in definition
    # the job itself only with -c deployBatchInferenceJob=true
    assert counts["Custom::BedrockBatchInferenceJob"] == 0


def test_app_declares_the_batch_job_when_asked(tmp_path: Path) -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import assert_cfn_lint_clean, cdk_json_context

    context = {**cdk_json_context(), "deployBatchInferenceJob": "true"}
    assembly = example.build_app(cdk.App(outdir=str(tmp_path), context=context)).synth()
    template = assembly.get_stack_by_name("AudiencePipeline").template
    [job] = [
        r for r in template["Resources"].values() if r["Type"] == "Custom::BedrockBatchInferenceJob"
    ]
    request = job["Properties"]["Request"]
    assert request["timeoutDurationInHours"] == 24
    assert "/batch-input/" in json.dumps(request["inputDataConfig"])
    assert_cfn_lint_clean(tmp_path)


def test_app_reads_its_settings_from_cdk_json(template: dict[str, Any]) -> None:
    [alias] = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Alias"]
    assert alias["Properties"]["AliasName"] == "alias/audience-pipeline"
    text = json.dumps(template)
    assert "example-training-data/interactions/*" in text
    assert "/seeds/*" in text


def test_app_is_account_agnostic(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert '"Ref": "AWS::AccountId"' in text
    assert '"Ref": "AWS::Region"' in text


def test_stateful_resources_are_retained(template: dict[str, Any]) -> None:
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key"):
            assert resource["DeletionPolicy"] == "Retain"
            assert resource["UpdateReplacePolicy"] == "Retain"
