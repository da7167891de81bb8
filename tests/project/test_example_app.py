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


def test_app_declares_the_whole_pipeline(template: dict[str, Any]) -> None:
    counts = Counter(r["Type"] for r in template["Resources"].values())
    assert counts["AWS::KMS::Key"] == 2  # audience data, custom-resource logs
    assert counts["AWS::S3::Bucket"] == 2  # seeds, access logs
    assert counts["AWS::CleanRoomsML::TrainingDataset"] == 1
    assert counts["Custom::CleanRoomsMLAudienceModel"] == 1
    assert counts["Custom::CleanRoomsMLConfiguredAudienceModel"] == 1
    # runs start from the workflow, not at deploy time
    assert counts["Custom::CleanRoomsMLAudienceGenerationJob"] == 0
    assert counts["AWS::StepFunctions::StateMachine"] == 2  # workflow, job-status tracker
    assert counts["AWS::Lambda::Function"] == 2  # one handler + the provider framework
    assert counts["AWS::CloudWatch::Dashboard"] == 1
    assert counts["AWS::SNS::Topic"] == 1  # prod: alarm topic encrypted with the pipeline key


def test_chain_is_wired_in_order(template: dict[str, Any]) -> None:
    resources = template["Resources"]

    def logical_id(resource_type: str) -> str:
        return next(k for k, r in resources.items() if r["Type"] == resource_type)

    dataset = logical_id("AWS::CleanRoomsML::TrainingDataset")
    model = logical_id("Custom::CleanRoomsMLAudienceModel")
    configured = logical_id("Custom::CleanRoomsMLConfiguredAudienceModel")
    assert resources[model]["Properties"]["Request"]["trainingDatasetArn"] == {
        "Fn::GetAtt": [dataset, "TrainingDatasetArn"]
    }
    assert resources[configured]["Properties"]["Request"]["audienceModelArn"] == {
        "Fn::GetAtt": [model, "AudienceModelArn"]
    }
    workflow = next(
        r
        for r in resources.values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and "startAudienceGenerationJob" in json.dumps(r)
    )
    assert {"Fn::GetAtt": [configured, "ConfiguredAudienceModelArn"]} in workflow["Properties"][
        "DefinitionString"
    ]["Fn::Join"][1]


def test_alarms_notify_the_encrypted_topic(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    [topic_id] = [k for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    assert "KmsMasterKeyId" in resources[topic_id]["Properties"]
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == 3  # workflow runs, tracked jobs, handler
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_dev_environment_deletes_stateful_resources_and_adds_bedrock(tmp_path: Path) -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import assert_cfn_lint_clean, cdk_json_context

    # WHEN the app is synthesized with -c environment=dev and a Bedrock step switched on
    context = {
        **cdk_json_context(),
        "environment": "dev",
        "batchInference": json.dumps(
            {"enabled": True, "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}
        ),
        "seedPrefix": "incoming/",
    }
    assembly = example.build_app(cdk.App(outdir=str(tmp_path), context=context)).synth()
    template = assembly.get_stack_by_name("AudiencePipeline-dev").template
    # THEN the pipeline's key and seed bucket go with the stack (the log key and the access-log
    # bucket keep the library's retained default)
    policies = Counter(
        (r["Type"], r.get("DeletionPolicy"))
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")
    )
    assert policies[("AWS::KMS::Key", "Delete")] == 1
    assert policies[("AWS::S3::Bucket", "Delete")] >= 1
    # AND the workflow gets its Bedrock step, the -c prefix and no alarm topic
    text = json.dumps(template)
    assert "createModelInvocationJob" in text
    assert "incoming/*.jsonl" in text
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Topic"]
    assert_cfn_lint_clean(tmp_path)


def test_fails_if_the_environment_is_unknown() -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import cdk_json_context

    with pytest.raises(ValueError, match=r"environment='staging' is not one of \['dev', 'prod'\]"):
        example.build_app(cdk.App(context={**cdk_json_context(), "environment": "staging"}))


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


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"exportSizes": "5000"},
            r"context exportSizes=5000: must be a JSON list of whole numbers",
        ),
        ({"exportSizes": "[5000"}, r"context exportSizes='\[5000': must be a JSON list"),
        (
            {"batchInference": '{"enabled": true, "modelId": 7}'},
            r"context batchInference=.*must be an object with enabled .* and, when enabled, "
            r"modelId",
        ),
        ({"deployBatchInferenceJob": "true"}, r"deployBatchInferenceJob='true' is not a setting"),
        ({"removalPolicy": "keep"}, r"context removalPolicy='keep': must be 'retain' or 'destroy'"),
    ],
)
def test_fails_if_a_context_override_is_wrong(override: dict[str, str], message: str) -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import cdk_json_context

    # GIVEN a `-c key=value` override (a string, as the CLI passes it) that is wrong or unknown
    # WHEN the app reads its settings THEN it says which setting and what it must be
    with pytest.raises(ValueError, match=message):
        example.build_app(cdk.App(context={**cdk_json_context(), **override}))


def test_an_override_wins_over_the_environment_settings() -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import cdk_json_context

    # GIVEN prod (cdk.json: removalPolicy retain) and -c removalPolicy=destroy
    app = cdk.App(context={**cdk_json_context(), "removalPolicy": "destroy"})
    # THEN the override is what the app uses
    assert example.settings_of(app)["removalPolicy"] == "destroy"


def test_an_object_override_is_merged_over_cdk_json() -> None:
    import aws_cdk as cdk

    import app as example
    from tests.conftest import cdk_json_context

    # GIVEN -c batchInference='{"enabled": true}' (no modelId: cdk.json has one)
    app = cdk.App(context={**cdk_json_context(), "batchInference": '{"enabled": true}'})
    # WHEN the settings are read THEN the model id of cdk.json is kept
    settings = example.settings_of(app)
    assert settings["batchInference"]["enabled"] is True
    assert settings["batchInference"]["modelId"] == "anthropic.claude-3-haiku-20240307-v1:0"
