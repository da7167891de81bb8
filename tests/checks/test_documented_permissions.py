"""Permissions pinned against AWS's own documentation (issue 11: defects that break a real
deploy or run). Every test names the AWS page it relies on; the synthesized stacks go through
the cdk-nag gate (``synth_stack``).
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import (
    AudienceEncryptionKey,
    BatchInferenceJob,
    BatchInferenceSettings,
    ColumnType,
    GlueTrainingTable,
    LookalikeAudiencePipeline,
    PipelineMonitoring,
    SeedAudienceBucket,
    TrainingData,
    TrainingDataColumn,
)
from constructs_lib._internal.bedrock_models import (
    GEOGRAPHY_PREFIXES,
    invoke_model_statements,
    model_resource_arns,
)
from constructs_lib._internal.service_role import trusted_service_principal
from constructs_lib.bedrock.batch_inference_job import ROLE_INVOKE_MODEL_WARNING
from constructs_lib.composition.monitoring import IMPORTED_TOPIC_WARNING
from constructs_lib.foundation._key_policy import IMPORTED_KEY_WARNING, render
from tests.conftest import Synthesized, bedrock_role, synth_stack

FM = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE = f"us.{FM}"
ROLE_ARN = "arn:aws:iam::111122223333:role/bedrock-batch"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:pager"
PARTITION_REGION = "arn:${AWS::Partition}:bedrock:${AWS::Region}"
ACCOUNT = "${AWS::AccountId}"


def _training(stack: cdk.Stack) -> TrainingData:
    return TrainingData(
        GlueTrainingTable(
            "audience_db",
            "interactions",
            s3.Bucket.from_bucket_name(stack, "Training", "training-data"),
        ),
        [
            TrainingDataColumn("user_id", ColumnType.USER_ID),
            TrainingDataColumn("item_id", ColumnType.ITEM_ID),
            TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
        ],
    )


def _statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [
        s
        for p in synthesized.resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _flat(value: Any) -> Any:
    """Fn::Join ARNs as text with ``${...}`` placeholders (as the warnings show them)."""
    if isinstance(value, list):
        return [_flat(v) for v in value]
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return str(delimiter).join(_flat(i) for i in items)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return f"${{{value['Ref']}}}"
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        resource, attribute = value["Fn::GetAtt"]
        return f"${{{resource}.{attribute}}}"
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _warnings(stack: cdk.Stack, warning_id: str) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*"))
    return [str(w.entry.data) for w in found if f"[ack: {warning_id}]" in str(w.entry.data)]


def _listed_statements(message: str) -> list[dict[str, Any]]:
    """The JSON array a warning ends with (before CDK's ``[ack: ...]`` suffix)."""
    start = message.index(": [{") + 2
    listed, _ = json.JSONDecoder().raw_decode(message[start:])
    assert isinstance(listed, list)
    return listed


# ---- task 1: model ARNs (Service Authorization Reference; Bedrock batch inference pages) ----


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        # "Required permissions for batch inference"
        # (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-permissions.html):
        # arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0
        (FM, [f"{PARTITION_REGION}::foundation-model/{FM}"]),
        # Inference-profile ARNs carry the account (Service Authorization Reference,
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html);
        # the foundation model behind it is allowed in any Region ("Prerequisites for inference
        # profiles", https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html).
        (
            PROFILE,
            [
                f"{PARTITION_REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
                f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}",
            ],
        ),
        (
            f"arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.{FM}",
            [
                f"arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.{FM}",
                f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}",
            ],
        ),
        *(
            (arn, [arn])
            for arn in (
                f"arn:aws:bedrock:us-east-1::foundation-model/{FM}",
                "arn:aws:bedrock:us-east-1:111122223333:custom-model/m/abc",
                "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/p1",
                "arn:aws:bedrock:us-east-1:111122223333:imported-model/i1",
            )
        ),
    ],
)
def test_create_job_is_allowed_on_the_models_arns(
    stack: cdk.Stack, model_id: str, expected: list[str]
) -> None:
    # WHEN the ARNs for a model id are derived
    arns = [render(stack, arn) for arn in model_resource_arns(stack, model_id)]
    # THEN they are exactly the documented forms
    assert arns == expected


@pytest.mark.parametrize("geography", GEOGRAPHY_PREFIXES)
def test_every_documented_geography_prefix_is_a_profile(stack: cdk.Stack, geography: str) -> None:
    # GIVEN a system-defined profile id of each geography AWS documents (CDK
    # "CrossRegionInferenceProfileRegion", https://docs.aws.amazon.com/cdk/api/v2/docs/@aws-cdk_aws-bedrock-alpha.CrossRegionInferenceProfileRegion.html)
    arns = [render(stack, a) for a in model_resource_arns(stack, f"{geography}.{FM}")]
    # THEN it is scoped as a profile of this account, plus its foundation model
    assert arns[0] == f"{PARTITION_REGION}:{ACCOUNT}:inference-profile/{geography}.{FM}"
    assert arns[1].endswith(f":bedrock:*::foundation-model/{FM}")


def test_an_unresolved_model_id_gets_the_documented_fallback(stack: cdk.Stack) -> None:
    # GIVEN a model id known only at deploy time
    model_id = cdk.CfnParameter(stack, "ModelId").value_as_string
    arns = [render(stack, a) for a in model_resource_arns(stack, model_id)]
    # THEN every kind a modelId can name, in this account and Region (foundation models in any)
    assert arns == [
        "arn:${AWS::Partition}:bedrock:*::foundation-model/*",
        *(
            f"{PARTITION_REGION}:{ACCOUNT}:{kind}/*"
            for kind in (
                "inference-profile",
                "application-inference-profile",
                "custom-model",
                "provisioned-model",
                "imported-model",
            )
        ),
    ]


def _invoke(stack: cdk.Stack, model_id: str) -> list[dict[str, Any]]:
    resolved = [
        stack.resolve(s.to_statement_json()) for s in invoke_model_statements(stack, model_id)
    ]
    flat: list[dict[str, Any]] = _flat(resolved)
    return flat


@pytest.mark.parametrize(
    "model_id",
    [FM, "arn:aws:bedrock:us-east-1:111122223333:custom-model/m/abc"],
)
def test_service_role_needs_no_invoke_model_for_a_plain_model(
    stack: cdk.Stack, model_id: str
) -> None:
    # "Create a custom service role for batch inference"
    # (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-iam-sr.html) lists InvokeModel
    # only "to run batch inference with an inference profile"
    assert _invoke(stack, model_id) == []


def test_service_role_invokes_a_profile_and_its_model_in_every_region(stack: cdk.Stack) -> None:
    # "a service role must have permissions to invoke the inference profile in an AWS Region, in
    # addition to the model in each Region in the inference profile" (batch-iam-sr.html)
    [statement] = _invoke(stack, PROFILE)
    assert statement["Action"] == "bedrock:InvokeModel"
    assert statement["Resource"] == [
        f"{PARTITION_REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
        f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}",
    ]


def test_an_application_profiles_jobs_may_name_any_foundation_model_it_routes_to(
    stack: cdk.Stack,
) -> None:
    # The Service Authorization Reference lists the model (foundation-model), not a profile
    # type, as a required resource of CreateModelInvocationJob; an application profile's model
    # is not known at synth
    app_profile = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3"
    assert [render(stack, arn) for arn in model_resource_arns(stack, app_profile)] == [
        app_profile,
        "arn:${AWS::Partition}:bedrock:*::foundation-model/*",
    ]


def test_an_application_profile_invokes_models_only_through_itself(stack: cdk.Stack) -> None:
    # "use the [bedrock:]InferenceProfileArn condition key ... in a statement that scopes to the
    # foundation-model resources" (inference-profiles-prereq.html)
    app_profile = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3"
    profile, models = _invoke(stack, app_profile)
    assert profile["Resource"] == app_profile
    assert models["Resource"] == "arn:${AWS::Partition}:bedrock:*::foundation-model/*"
    assert models["Condition"] == {"ArnLike": {"bedrock:InferenceProfileArn": [app_profile]}}


# ---- tasks 1-2, 4-6 in synthesized stacks (through the cdk-nag gate) ------------------------


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a batch job on a cross-Region inference profile with the library's role, and
    # monitoring that notifies a topic of this app
    def build(stack: cdk.Stack) -> None:
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        role = bedrock_role(stack, seeds, key, input_prefix="in/", output_prefix="out/")
        BatchInferenceJob(
            stack,
            "Batch",
            model_id=PROFILE,
            role=role,
            input_s3_uri="s3://seeds-bucket/in/",
            output_s3_uri="s3://seeds-bucket/out/",
        )
        pager = sns.Topic(stack, "Pager", master_key=key.key, enforce_ssl=True)
        PipelineMonitoring(stack, "Monitoring", alarm_topic=pager)

    return synth_stack(tmp_path_factory.mktemp("documented-job"), build)


def test_handler_may_create_jobs_of_the_profile_and_its_model(job: Synthesized) -> None:
    # THEN the handler's CreateModelInvocationJob covers the model, not only job ARNs
    [model] = [s for s in _statements(job) if s["Action"] == "bedrock:CreateModelInvocationJob"]
    assert _flat(model["Resource"]) == [
        f"{PARTITION_REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
        f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}",
    ]


def test_library_role_may_invoke_the_profile_and_its_model(job: Synthesized) -> None:
    # THEN the Bedrock service role holds the documented InvokeModel statement (batch-iam-sr.html)
    [invoke] = [s for s in _statements(job) if s["Action"] == "bedrock:InvokeModel"]
    assert _flat(invoke["Resource"]) == [
        f"{PARTITION_REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
        f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}",
    ]


def test_model_wildcards_are_acknowledged_with_their_reason(job: Synthesized) -> None:
    [aws_solutions] = [r for r in job.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    waived = [
        f for f in aws_solutions["suppressedViolations"] if "foundation-model/" in f["ruleName"]
    ]
    assert waived
    assert all("modelId" in f["reason"] for f in waived)
    assert aws_solutions.get("violations", []) == []


def test_a_topic_of_this_app_lets_this_accounts_alarms_publish(job: Synthesized) -> None:
    # "Preventing confused deputy security issues" in "Notifying users on alarm changes"
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html):
    # cloudwatch.amazonaws.com, SNS:Publish, ArnLike aws:SourceArn ...:alarm:*, aws:SourceAccount
    [policy] = job.resources("AWS::SNS::TopicPolicy").values()
    [allow] = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert _flat(allow["Condition"]) == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {
            "aws:SourceArn": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
            "${AWS::AccountId}:alarm:*"
        },
    }


@pytest.fixture(scope="module")
def pipeline_with_own_key(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a pipeline given a kms.Key of the stack, a Bedrock step and an alarm topic
    def build(stack: cdk.Stack) -> None:
        LookalikeAudiencePipeline(
            stack,
            "Lookalikes",
            training_data=_training(stack),
            encryption_key=kms.Key(stack, "OwnKey", enable_key_rotation=True),
            batch_inference=BatchInferenceSettings(model_id=PROFILE),
            create_alarm_topic=True,
        )

    return synth_stack(tmp_path_factory.mktemp("documented-pipeline"), build)


def test_a_key_of_this_app_gains_every_service_statement(
    pipeline_with_own_key: Synthesized,
) -> None:
    # THEN its key policy lets Clean Rooms ML, Bedrock and CloudWatch use it, once each
    [key] = [
        r
        for k, r in pipeline_with_own_key.resources("AWS::KMS::Key").items()
        if k.startswith("OwnKey")
    ]
    sids = [s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    for sid in ("AllowCleanRoomsML", "AllowBedrock", "AllowCloudWatchAlarms"):
        assert sids.count(sid) == 1, sids
    # and the created alarm topic lets CloudWatch publish (not only the TLS Deny)
    [policy] = pipeline_with_own_key.resources("AWS::SNS::TopicPolicy").values()
    effects = sorted(s["Effect"] for s in policy["Properties"]["PolicyDocument"]["Statement"])
    assert effects == ["Allow", "Deny"]


def test_pipeline_bedrock_role_may_invoke_its_profile(pipeline_with_own_key: Synthesized) -> None:
    [invoke] = [
        s for s in _statements(pipeline_with_own_key) if s["Action"] == "bedrock:InvokeModel"
    ]
    assert f"inference-profile/{PROFILE}" in json.dumps(invoke["Resource"])


def test_pipeline_with_own_key_is_nag_clean(pipeline_with_own_key: Synthesized) -> None:
    for report in pipeline_with_own_key.report["pluginReports"]:
        assert report.get("violations", []) == [], report["pluginName"]


# ---- warnings: what the app cannot change itself --------------------------------------------


def test_an_imported_key_gets_a_warning_listing_the_statements() -> None:
    # GIVEN a pipeline given an imported key, with a Bedrock step and an alarm topic
    stack = cdk.Stack(cdk.App(), "Imported")
    LookalikeAudiencePipeline(
        stack,
        "Lookalikes",
        training_data=_training(stack),
        encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        batch_inference=BatchInferenceSettings(model_id=FM),
        create_alarm_topic=True,
    )
    # WHEN synthesized THEN one warning names the prop and the key and lists the statements
    [message] = _warnings(stack, IMPORTED_KEY_WARNING)
    assert message.startswith("Imported/Lookalikes: encryption_key (" + KEY_ARN + ")")
    listed = {s["Sid"]: s for s in _listed_statements(message)}
    assert set(listed) == {"AllowCleanRoomsML", "AllowBedrock", "AllowCloudWatchAlarms"}
    assert listed["AllowCleanRoomsML"]["Principal"] == {"Service": "cleanrooms-ml.amazonaws.com"}
    assert listed["AllowBedrock"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert listed["AllowCloudWatchAlarms"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_an_imported_topic_key_of_monitoring_gets_a_warning() -> None:
    stack = cdk.Stack(cdk.App(), "TopicKey")
    PipelineMonitoring(
        stack,
        "Monitoring",
        create_alarm_topic=True,
        topic_encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
    )
    [message] = _warnings(stack, IMPORTED_KEY_WARNING)
    assert "topic_encryption_key" in message
    [statement] = _listed_statements(message)
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_an_imported_topic_gets_a_warning_with_the_publish_statement() -> None:
    stack = cdk.Stack(cdk.App(), "Topic")
    PipelineMonitoring(
        stack, "Monitoring", alarm_topic=sns.Topic.from_topic_arn(stack, "Pager", TOPIC_ARN)
    )
    [message] = _warnings(stack, IMPORTED_TOPIC_WARNING)
    [statement] = _listed_statements(message)
    assert statement["Resource"] == TOPIC_ARN
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":alarm:*")


def test_an_imported_role_on_a_profile_gets_a_warning_with_invoke_model() -> None:
    # GIVEN a job on an inference profile whose role is only an ARN
    stack = cdk.Stack(cdk.App(), "Role")
    BatchInferenceJob(
        stack,
        "Batch",
        model_id=PROFILE,
        role=ROLE_ARN,
        input_s3_uri="s3://bucket-in/in/",
        output_s3_uri="s3://bucket-out/out/",
    )
    [message] = _warnings(stack, ROLE_INVOKE_MODEL_WARNING)
    [statement] = _listed_statements(message)
    assert statement["Action"] == "bedrock:InvokeModel"
    assert f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{FM}" in statement["Resource"]


def test_an_imported_role_on_a_foundation_model_gets_no_warning() -> None:
    stack = cdk.Stack(cdk.App(), "Plain")
    BatchInferenceJob(
        stack,
        "Batch",
        model_id=FM,
        role=ROLE_ARN,
        input_s3_uri="s3://bucket-in/in/",
        output_s3_uri="s3://bucket-out/out/",
    )
    assert _warnings(stack, ROLE_INVOKE_MODEL_WARNING) == []


# ---- task 4: confused-deputy trust for roles Step Functions and EventBridge assume ------------


@pytest.mark.parametrize(
    ("service", "source"),
    [
        # "Prevent cross-service confused deputy issue"
        # (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html)
        ("states.amazonaws.com", "stateMachine:*"),
        # "For EventBridge event bus rule targets, the value of aws:SourceArn must be the rule
        # ARN" (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html)
        ("events.amazonaws.com", "rule/*"),
    ],
)
def test_trusted_service_principal_carries_both_confused_deputy_keys(
    service: str, source: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Trust")
    arn = f"arn:aws:{service.split('.')[0]}:us-east-1:111122223333:{source}"
    iam.Role(stack, "Role", assumed_by=trusted_service_principal(stack, service, [arn]))
    [role] = Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": service}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": [arn]},
    }


def test_fails_if_trusted_service_principal_has_no_source_arns(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="needs source ARNs"):
        trusted_service_principal(stack, "states.amazonaws.com", [])
