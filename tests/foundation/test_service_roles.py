"""Clean Rooms ML and Bedrock service roles: trust conditions and least privilege."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    AudienceEncryptionKey,
    BedrockBatchInferenceRole,
    CleanRoomsMlServiceRole,
    ConstructValidationError,
    GlueTrainingTable,
    SeedAudienceBucket,
)
from tests.conftest import Synthesized, synth_stack


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN both roles wired to a seed bucket, an imported training bucket and a key
    def build(stack: cdk.Stack) -> None:
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        training = s3.Bucket.from_bucket_name(stack, "Training", "training-data")
        CleanRoomsMlServiceRole(
            stack,
            "CleanRoomsMl",
            training_tables=[
                GlueTrainingTable(
                    database_name="ads",
                    table_name="events",
                    data_bucket=training,
                    data_prefix="events/",
                )
            ],
            seed_bucket=seeds.bucket,
            seed_prefix="seeds/",
            output_bucket=seeds.bucket,
            output_prefix="audiences/",
            encryption_key=key,
            role_name="cleanrooms-ml-audiences",
        )
        BedrockBatchInferenceRole(
            stack,
            "Bedrock",
            input_bucket=seeds.bucket,
            input_prefix="batch-input/",
            output_bucket=seeds.bucket,
            output_prefix="batch-output/",
            encryption_key=key,
        )

    # WHEN synthesized through the cdk-nag gate
    return synth_stack(tmp_path_factory.mktemp("roles"), build)


def _role(synthesized: Synthesized, prefix: str) -> tuple[str, dict[str, Any]]:
    roles = synthesized.resources("AWS::IAM::Role")
    [logical_id] = [k for k in roles if k.startswith(prefix)]
    return logical_id, roles[logical_id]


def _flat(arn: dict[str, Any]) -> str:
    """An Fn::Join ARN as text, tokens shown as {}."""
    return "".join(p if isinstance(p, str) else "{}" for p in arn["Fn::Join"][1])


def _policy(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    policies = synthesized.resources("AWS::IAM::ManagedPolicy").values()
    [policy] = [p for p in policies if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize(
    ("prefix", "principal", "arn_service", "patterns", "operators"),
    [
        # "Set up service roles for AWS Clean Rooms ML"
        # (https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-roles.html): the three
        # lookalike roles trust training-dataset/*, configured-audience-model/* and
        # audience-generation-job/* with StringEqualsIfExists / ArnLikeIfExists.
        (
            "CleanRoomsMl",
            "cleanrooms-ml.amazonaws.com",
            "cleanrooms-ml",
            [
                "training-dataset/*",
                "configured-audience-model/*",
                "audience-generation-job/*",
            ],
            ("StringEqualsIfExists", "ArnLikeIfExists"),
        ),
        # "Create a custom service role for batch inference"
        # (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-iam-sr.html): StringEquals
        # aws:SourceAccount, ArnEquals aws:SourceArn model-invocation-job/*.
        (
            "Bedrock",
            "bedrock.amazonaws.com",
            "bedrock",
            ["model-invocation-job/*"],
            ("StringEquals", "ArnEquals"),
        ),
    ],
)
def test_trust_policy_prevents_confused_deputy(
    synthesized: Synthesized,
    prefix: str,
    principal: str,
    arn_service: str,
    patterns: list[str],
    operators: tuple[str, str],
) -> None:
    # THEN each role's trust policy has the documented confused-deputy conditions, nothing else
    _, role = _role(synthesized, prefix)
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": principal}
    assert statement["Action"] == "sts:AssumeRole"
    account_operator, arn_operator = operators
    assert set(statement["Condition"]) == {account_operator, arn_operator}
    assert statement["Condition"][account_operator] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    source_arns = statement["Condition"][arn_operator]["aws:SourceArn"]
    if isinstance(source_arns, dict):
        source_arns = [source_arns]
    assert len(source_arns) == len(patterns)
    for arn, pattern in zip(source_arns, patterns, strict=True):
        parts = arn["Fn::Join"][1]
        assert f":{arn_service}:" in parts[2]
        assert parts[-1] == f":{pattern}"


@pytest.mark.parametrize("prefix", ["CleanRoomsMl", "Bedrock"])
def test_roles_use_one_managed_policy_with_explicit_actions(
    synthesized: Synthesized, prefix: str
) -> None:
    role_id, role = _role(synthesized, prefix)
    assert "Policies" not in role["Properties"]  # no inline policies
    assert synthesized.resources("AWS::IAM::Policy") == {}
    for statement in _policy(synthesized, role_id):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions), actions
        assert statement["Resource"] != "*"


def test_clean_rooms_ml_role_reads_exactly_the_glue_table_given(synthesized: Synthesized) -> None:
    role_id, _ = _role(synthesized, "CleanRoomsMl")
    [glue] = [s for s in _policy(synthesized, role_id) if "glue:GetTable" in s["Action"]]
    flat = [_flat(resource) for resource in glue["Resource"]]
    assert any(f.endswith(":table/ads/events") for f in flat)
    assert any(f.endswith(":database/ads") for f in flat)
    assert any(f.endswith(":catalog") for f in flat)
    assert "glue:CreateDatabase" not in glue["Action"]


def test_clean_rooms_ml_role_may_create_only_the_default_database(
    synthesized: Synthesized,
) -> None:
    # THEN, as AWS's "Create a service role to read training data" grants
    # (https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-roles.html), the role may
    # create the catalog's `default` database (with the catalog, a resource type of
    # glue:CreateDatabase in https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsglue.html)
    # and no other
    role_id, _ = _role(synthesized, "CleanRoomsMl")
    [create] = [s for s in _policy(synthesized, role_id) if "glue:CreateDatabase" in s["Action"]]
    assert create["Action"] == "glue:CreateDatabase"
    assert sorted(_flat(r).rsplit(":", 1)[1] for r in create["Resource"]) == [
        "catalog",
        "database/default",
    ]


def test_clean_rooms_ml_role_prefixes(synthesized: Synthesized) -> None:
    role_id, role = _role(synthesized, "CleanRoomsMl")
    assert role["Properties"]["RoleName"] == "cleanrooms-ml-audiences"
    statements = _policy(synthesized, role_id)
    reads = [s for s in statements if s["Action"] == "s3:GetObject"]
    writes = [s for s in statements if s["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]]
    read_text = str([r["Resource"] for r in reads])
    assert "/seeds/*" in read_text
    assert "training-data/events/*" in read_text
    assert "/audiences/*" in str(writes[0]["Resource"])
    assert "/audiences/*" not in read_text


def test_bedrock_role_prefixes(synthesized: Synthesized) -> None:
    role_id, _ = _role(synthesized, "Bedrock")
    statements = _policy(synthesized, role_id)
    reads = str([s["Resource"] for s in statements if s["Action"] == "s3:GetObject"])
    writes = str([s["Resource"] for s in statements if "s3:PutObject" in s["Action"]])
    assert "/batch-input/*" in reads
    assert "/batch-output/*" in writes
    kms = [s for s in statements if "kms:GenerateDataKey" in s["Action"]]
    assert kms


def test_only_object_prefix_and_glue_function_wildcards_are_acknowledged(
    synthesized: Synthesized,
) -> None:
    [aws_solutions] = [
        r for r in synthesized.report["pluginReports"] if r["pluginName"] == "AwsSolutions"
    ]
    waived = aws_solutions["suppressedViolations"]
    assert waived
    for finding in waived:
        assert finding["ruleName"].startswith("AwsSolutions-IAM5[Resource::")
        assert finding["ruleName"].endswith("/*]")
        if ":userDefinedFunction/" in finding["ruleName"]:
            # GetUserDefinedFunctions requires that resource type (SAR, AWS Glue)
            assert finding["ruleName"].endswith(":userDefinedFunction/ads/*]")
            assert "user-defined functions" in finding["reason"]
        else:
            assert "Object-key prefix" in finding["reason"]


def test_fails_if_role_name_is_invalid(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError) as error:
        CleanRoomsMlServiceRole(stack, "Role", role_name="has space")
    assert str(error.value).startswith("Scratch/Role: invalid role_name='has space': must match")


def test_fails_if_role_name_is_too_long(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="at most 64 characters"):
        BedrockBatchInferenceRole(stack, "Role", role_name="r" * 65)


def test_fails_if_glue_table_name_breaks_the_api_pattern(stack: cdk.Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "B", "data")
    with pytest.raises(ConstructValidationError) as error:
        CleanRoomsMlServiceRole(
            stack,
            "Role",
            training_tables=[
                GlueTrainingTable(database_name="ads", table_name="bad table!", data_bucket=bucket)
            ],
        )
    assert "table_name='bad table!'" in str(error.value)


def test_fails_if_catalog_id_is_not_an_account_id(stack: cdk.Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "B", "data")
    with pytest.raises(ConstructValidationError, match="catalog_id='catalog'"):
        CleanRoomsMlServiceRole(
            stack,
            "Role",
            training_tables=[
                GlueTrainingTable(
                    database_name="ads",
                    table_name="events",
                    data_bucket=bucket,
                    catalog_id="catalog",
                )
            ],
        )


@pytest.mark.parametrize("prop", ["input_prefix", "output_prefix"])
def test_fails_if_prefix_starts_with_slash(stack: cdk.Stack, prop: str) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "B", "data")
    with pytest.raises(ConstructValidationError, match=f"{prop}='/x/'"):
        BedrockBatchInferenceRole(
            stack,
            "Role",
            input_bucket=bucket,
            output_bucket=bucket,
            **{prop: "/x/"},  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("prefix", "rule"),
    [
        ("seeds", r"must end with '/' \(e.g. 'seeds/'\)"),
        ("seeds/*.jsonl", r"without '\*' or '\?'"),
        ("/seeds/", "must not start with '/'"),
    ],
)
def test_fails_if_a_role_prefix_is_not_a_plain_folder(
    stack: cdk.Stack, prefix: str, rule: str
) -> None:
    # GIVEN a seed prefix that would widen the grant (seeds*) or match nothing
    bucket = s3.Bucket.from_bucket_name(stack, "Seeds", "seed-bucket")
    # WHEN the role is built THEN the role's own property is named with the rule
    with pytest.raises(ValueError, match=rf"Scratch/Role: invalid seed_prefix=.*{rule}"):
        CleanRoomsMlServiceRole(stack, "Role", seed_bucket=bucket, seed_prefix=prefix)


def test_fails_if_the_sql_seed_membership_is_not_a_membership_id(stack: cdk.Stack) -> None:
    # GIVEN a collaboration name where the membership id belongs
    with pytest.raises(ConstructValidationError) as refused:
        CleanRoomsMlServiceRole(stack, "Role", sql_seed_membership="partner-collab")
    # THEN the rule says what the id looks like
    assert refused.value.prop == "sql_seed_membership"
    assert "membership id of this account in the collaboration" in refused.value.rule
