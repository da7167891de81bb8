"""The composed pipeline construct: template, bring-your-own parts, monitoring, determinism."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from constructs_lib import (
    AudienceExportSize,
    AudienceSizeType,
    BatchInferenceSettings,
    ColumnType,
    ConstructValidationError,
    GlueTrainingTable,
    LookalikeAudiencePipeline,
    PipelineMonitoring,
    TrainingData,
    TrainingDataColumn,
)
from constructs_lib.composition.monitoring import FAILURE_QUERY
from tests.conftest import Synthesized, assert_cfn_lint_clean, synth_stack

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def _training(stack: cdk.Stack) -> TrainingData:
    return TrainingData(
        GlueTrainingTable(
            database_name="audience_db",
            table_name="interactions",
            data_bucket=s3.Bucket.from_bucket_name(stack, "Training", "training-data"),
        ),
        [
            TrainingDataColumn("user_id", ColumnType.USER_ID),
            TrainingDataColumn("item_id", ColumnType.ITEM_ID),
            TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
        ],
    )


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN the whole pipeline with exports, a Bedrock step and its own alarm topic
    def build(stack: cdk.Stack) -> None:
        LookalikeAudiencePipeline(
            stack,
            "Lookalikes",
            training_data=_training(stack),
            audience_size_bins=[10000, 50000],
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)],
            batch_inference=BatchInferenceSettings(
                model_id="anthropic.claude-3-haiku-20240307-v1:0"
            ),
            create_alarm_topic=True,
        )

    return synth_stack(tmp_path_factory.mktemp("pipeline"), build)


@pytest.fixture(scope="module")
def existing(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a pipeline over an existing configured model and an existing bucket and topic
    def build(stack: cdk.Stack) -> None:
        LookalikeAudiencePipeline(
            stack,
            "Lookalikes",
            configured_audience_model=CAM_ARN,
            seed_bucket=s3.Bucket.from_bucket_name(stack, "Seeds", "team-seeds"),
            alarm_topic=sns.Topic.from_topic_arn(
                stack, "Pager", "arn:aws:sns:us-east-1:123456789012:pager"
            ),
        )

    return synth_stack(tmp_path_factory.mktemp("pipeline-existing"), build)


def test_pipeline_creates_every_part(full: Synthesized) -> None:
    counts = Counter(r["Type"] for r in full.raw["Resources"].values())
    assert counts["AWS::CleanRoomsML::TrainingDataset"] == 1
    assert counts["Custom::CleanRoomsMLAudienceModel"] == 1
    assert counts["Custom::CleanRoomsMLConfiguredAudienceModel"] == 1
    # the tracker, the workflow and the Bedrock step's batch inference workflow
    assert counts["AWS::StepFunctions::StateMachine"] == 3
    assert counts["AWS::CloudFormation::WaitCondition"] == 1  # the model's readiness gate
    assert counts["AWS::CloudWatch::Dashboard"] == 1
    assert counts["AWS::CloudWatch::Alarm"] == 4  # each state machine's failures, the handler's
    assert counts["AWS::SNS::Topic"] == 1
    assert counts["AWS::Lambda::Function"] == 2
    assert counts["AWS::IAM::Role"] >= 5  # handler, tracker, workflow, Clean Rooms ML, Bedrock


def test_every_pack_ran_and_nothing_is_left_unacknowledged(full: Synthesized) -> None:
    reports = full.report["pluginReports"]
    assert [r["pluginName"] for r in reports] == list(PACKS)
    for report in reports:
        assert report.get("violations", []) == [], report["pluginName"]


def test_configured_model_waits_for_training_and_feeds_the_workflow(full: Synthesized) -> None:
    resources = full.raw["Resources"]
    [(cam_id, cam)] = [
        (k, r)
        for k, r in resources.items()
        if r["Type"] == "Custom::CleanRoomsMLConfiguredAudienceModel"
    ]
    [wait] = [k for k, r in resources.items() if r["Type"] == "AWS::CloudFormation::WaitCondition"]
    assert wait in cam["DependsOn"]
    [workflow] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and "startAudienceGenerationJob" in json.dumps(r)
    ]
    parts = workflow["Properties"]["DefinitionString"]["Fn::Join"][1]
    assert {"Fn::GetAtt": [cam_id, "ConfiguredAudienceModelArn"]} in parts
    # AND each run ends with a run of the batch inference workflow
    assert "startExecution.sync:2" in json.dumps(parts)
    assert "RunBatchInference" in json.dumps(parts)


def test_alarm_topic_is_encrypted_tls_only_and_every_alarm_uses_it(full: Synthesized) -> None:
    resources = full.raw["Resources"]
    [(topic_id, topic)] = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    key = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    statements = resources[key]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    [policy] = [r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    assert '"aws:SecureTransport": "false"' in json.dumps(policy)
    for alarm in (r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"):
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_dashboard_shows_runs_jobs_durations_and_failure_causes(full: Synthesized) -> None:
    [dashboard] = [
        r for r in full.raw["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"):
        assert metric in body
    assert "ExecutionsTimedOut" in body
    assert "ExecutionTime" in body
    assert "Last failure causes" in body
    assert "ExecutionFailed" in body
    assert FAILURE_QUERY[0] in body


def test_handler_logs_are_json(full: Synthesized) -> None:
    [handler] = [
        r
        for r in full.raw["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == "handler.on_event"
    ]
    assert handler["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"


def test_pipeline_templates_pass_cfn_lint(full: Synthesized, existing: Synthesized) -> None:
    assert_cfn_lint_clean(full.outdir)
    assert_cfn_lint_clean(existing.outdir)


def test_existing_parts_replace_the_created_ones(existing: Synthesized) -> None:
    counts = Counter(r["Type"] for r in existing.raw["Resources"].values())
    # no model chain, no bucket, no topic: only the workflow side is created
    assert counts["AWS::CleanRoomsML::TrainingDataset"] == 0
    assert counts["Custom::CleanRoomsMLAudienceModel"] == 0
    assert counts["Custom::CleanRoomsMLConfiguredAudienceModel"] == 0
    assert counts["AWS::S3::Bucket"] == 0
    assert counts["AWS::SNS::Topic"] == 0
    text = json.dumps(existing.raw)
    assert CAM_ARN in text
    assert "arn:aws:sns:us-east-1:123456789012:pager" in text
    assert "team-seeds" in text


# ---- bad input ------------------------------------------------------------------------------


def test_fails_if_training_data_and_an_existing_model_are_both_given(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/P.*training_data.*not both"):
        LookalikeAudiencePipeline(
            stack, "P", training_data=_training(stack), configured_audience_model=CAM_ARN
        )


def test_fails_if_no_training_data_nor_existing_model_is_given(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/P.*training_data.*is required"):
        LookalikeAudiencePipeline(stack, "P")


def test_fails_if_a_key_and_a_key_alias_are_both_given(stack: cdk.Stack) -> None:
    from aws_cdk import aws_kms as kms

    key = kms.Key.from_key_arn(stack, "K", "arn:aws:kms:us-east-1:123456789012:key/k")
    with pytest.raises(ValueError, match=r"Scratch/P.*encryption_key.*or key_alias, not both"):
        LookalikeAudiencePipeline(
            stack, "P", configured_audience_model=CAM_ARN, encryption_key=key, key_alias="alias/x"
        )


def test_fails_if_an_alarm_topic_is_given_and_one_is_to_be_created(stack: cdk.Stack) -> None:
    topic = sns.Topic.from_topic_arn(stack, "T", "arn:aws:sns:us-east-1:123456789012:t")
    with pytest.raises(ValueError, match=r"Scratch/M.*alarm_topic.*not both"):
        PipelineMonitoring(stack, "M", alarm_topic=topic, create_alarm_topic=True)


# ---- determinism ----------------------------------------------------------------------------


def _synth_example(outdir: Path) -> dict[str, str]:
    import app as example
    from tests.conftest import cdk_json_context

    example.build_app(cdk.App(outdir=str(outdir), context=cdk_json_context())).synth()
    return {p.name: p.read_text() for p in sorted(outdir.glob("*.json"))}


def test_synth_is_deterministic(tmp_path: Path) -> None:
    # GIVEN the same inputs, WHEN the example app is synthesized twice
    first = _synth_example(tmp_path / "one")
    second = _synth_example(tmp_path / "two")
    # THEN the templates, asset manifests and the nag report are byte-for-byte the same
    assert first.keys() == second.keys()
    assert any(name.endswith(".template.json") for name in first)
    for name in first:
        assert first[name] == second[name], name


def test_readme_quick_start_synthesizes_in_at_most_15_lines(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys

    from tests.conftest import ROOT

    # GIVEN the first Python block of the README's "Quick start in your own project"
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start in your own project", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    lines = [line for line in code.group(1).splitlines() if line.strip()]
    assert len(lines) <= 15
    # WHEN it runs as a program
    script = tmp_path / "quick_start.py"
    script.write_text(code.group(1))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path / "out"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN it synthesizes through the nag gate
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "out" / "Audiences.template.json").read_text())
    assert "Custom::CleanRoomsMLConfiguredAudienceModel" in {
        r["Type"] for r in template["Resources"].values()
    }


def test_fails_if_an_existing_model_and_an_existing_dataset_are_both_given(
    stack: cdk.Stack,
) -> None:
    model = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-model/m-1"
    dataset = "arn:aws:cleanrooms-ml:us-east-1:123456789012:training-dataset/d-1"
    with pytest.raises(ValueError, match=r"Scratch/P.*audience_model.*or training_dataset"):
        LookalikeAudiencePipeline(stack, "P", audience_model=model, training_dataset=dataset)


def test_fails_if_a_topic_key_is_given_without_creating_a_topic(stack: cdk.Stack) -> None:
    from aws_cdk import aws_kms as kms

    key = kms.Key.from_key_arn(stack, "K", "arn:aws:kms:us-east-1:123456789012:key/k")
    with pytest.raises(ValueError, match=r"Scratch/M.*topic_encryption_key.*create_alarm_topic"):
        PipelineMonitoring(stack, "M", topic_encryption_key=key)


def test_fails_if_the_period_is_not_whole_minutes(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"Scratch/M.*period \(seconds\).*90.*whole minutes"):
        PipelineMonitoring(stack, "M", period=cdk.Duration.seconds(90))


# ---- guardrails: the pipeline's own properties are named (issue 14) ------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"seed_prefix": "seeds"},
            r"Scratch/P: invalid seed_prefix='seeds': must end with '/' \(e.g. 'seeds/'\)",
        ),
        ({"seed_prefix": "seeds/*.jsonl"}, r"seed_prefix=.*without '\*' or '\?'"),
        ({"output_prefix": "/audiences/"}, r"output_prefix=.*must not start with '/'"),
        ({"seed_prefix": ""}, r"seed_prefix='': must be a folder"),
        (
            {"output_prefix": "seeds/out/"},
            r"seed_prefix='seeds/': overlaps output_prefix='seeds/out/' in the same bucket",
        ),
        (
            {"batch_inference": BatchInferenceSettings(MODEL, input_prefix="audiences/")},
            r"output_prefix='audiences/': overlaps batch_inference.input_prefix='audiences/'",
        ),
    ],
)
def test_fails_if_a_prefix_is_not_a_folder_of_its_own(
    stack: cdk.Stack, props: dict[str, Any], message: str
) -> None:
    # GIVEN a pipeline prefix that widens a grant, never matches, or overlaps another
    # WHEN the pipeline is built THEN the error names the pipeline's own property
    with pytest.raises(ConstructValidationError, match=message):
        LookalikeAudiencePipeline(stack, "P", configured_audience_model=CAM_ARN, **props)


@pytest.mark.parametrize(
    ("export", "shown"),
    [
        (AudienceExportSize(AudienceSizeType.ABSOLUTE, 7000), "ABSOLUTE 7000"),
        (AudienceExportSize(AudienceSizeType.PERCENTAGE, 10), "PERCENTAGE 10"),
    ],
)
def test_fails_if_an_export_size_is_not_one_of_the_model_sizes(
    stack: cdk.Stack, export: AudienceExportSize, shown: str
) -> None:
    # GIVEN ABSOLUTE bins of 10k/50k/100k and an export of another size or type
    # THEN synth refuses it with the model's sizes (AWS: "Must match one of the sizes in the
    # configured audience model")
    with pytest.raises(
        ConstructValidationError,
        match=rf"Scratch/P: invalid export_sizes\[0\]='{shown}': must be one of the configured "
        r"audience model's sizes \(ABSOLUTE \[10000, 50000, 100000\]\)",
    ):
        LookalikeAudiencePipeline(stack, "P", training_data=_training(stack), export_sizes=[export])
