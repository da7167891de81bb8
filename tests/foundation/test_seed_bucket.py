"""SeedAudienceBucket: secure defaults, helpers, existing buckets, and bad input."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import AudienceEncryptionKey, ConstructValidationError, SeedAudienceBucket
from constructs_lib._internal.nag import acknowledge
from constructs_lib._internal.permissions import nag_resource_name
from tests.conftest import Synthesized, synth_stack


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a seed bucket with defaults whose read access is granted to a role under a prefix
    def build(stack: cdk.Stack) -> None:
        seeds = SeedAudienceBucket(stack, "Seeds")
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        seeds.grant_read(reader, "seeds/")
        writer = iam.Role(stack, "Writer", assumed_by=iam.AccountRootPrincipal())
        seeds.grant_write(writer, "out/")
        # The grants go into each role's inline DefaultPolicy (the users' own roles): waive what
        # a test role cannot avoid, with reasons, exactly as a user's stack would.
        for role, prefix in ((reader, "seeds/*"), (writer, "out/*")):
            arn = nag_resource_name(stack.resolve(seeds.bucket.arn_for_objects(prefix)))
            acknowledge(
                role, "Test role: object-prefix grant.", f"AwsSolutions-IAM5[Resource::{arn}]"
            )
            acknowledge(
                role,
                "Test role: CDK grants write the grantee's inline default policy.",
                "NIST.800.53.R5-IAMNoInlinePolicy",
                "HIPAA.Security-IAMNoInlinePolicy",
                "PCI.DSS.321-IAMNoInlinePolicy",
            )
        cdk.CfnOutput(stack, "SeedUri", value=seeds.s3_uri("seeds/"))

    # WHEN it is synthesized through the cdk-nag gate
    return synth_stack(tmp_path_factory.mktemp("seed-bucket"), build)


def _buckets(synthesized: Synthesized) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    buckets = synthesized.resources("AWS::S3::Bucket")
    [log_id] = [k for k in buckets if "AccessLogs" in k]
    [seed_id] = [k for k in buckets if k != log_id]
    return buckets[seed_id], buckets[log_id], seed_id, log_id


def _policy_for(synthesized: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    for policy in synthesized.resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}:
            statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
            return statements
    raise AssertionError(f"no bucket policy for {bucket_id}")


def test_seed_bucket_is_kms_encrypted_with_a_new_rotating_key(synthesized: Synthesized) -> None:
    seed, _, _, _ = _buckets(synthesized)
    [rule] = seed["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "Fn::GetAtt" in rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert rule["BucketKeyEnabled"] is True
    synthesized.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_seed_bucket_blocks_public_access_and_enforces_ownership(synthesized: Synthesized) -> None:
    seed, _, _, _ = _buckets(synthesized)
    assert seed["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert seed["Properties"]["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert "AccessControl" not in seed["Properties"]


def test_seed_bucket_requires_tls_12(synthesized: Synthesized) -> None:
    _, _, seed_id, _ = _buckets(synthesized)
    denies = [s for s in _policy_for(synthesized, seed_id) if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_seed_bucket_is_versioned_with_noncurrent_expiry(synthesized: Synthesized) -> None:
    seed, _, _, _ = _buckets(synthesized)
    assert seed["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = seed["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["Status"] == "Enabled"


def test_seed_bucket_sends_events_to_eventbridge_without_a_custom_resource(
    synthesized: Synthesized,
) -> None:
    seed, _, _, _ = _buckets(synthesized)
    assert seed["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert synthesized.resources("Custom::S3BucketNotifications") == {}
    assert synthesized.resources("AWS::Lambda::Function") == {}


def test_stateful_resources_are_retained(synthesized: Synthesized) -> None:
    seed, log, _, _ = _buckets(synthesized)
    for resource in (seed, log, *synthesized.resources("AWS::KMS::Key").values()):
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"


def test_access_logs_go_to_a_separate_locked_down_bucket(synthesized: Synthesized) -> None:
    seed, log, _, log_id = _buckets(synthesized)
    assert seed["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": log_id},
        "LogFilePrefix": "seed-bucket/",
    }
    [rule] = log["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert log["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert log["Properties"]["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    # log delivery is authorized by bucket policy, not by an ACL
    assert "AccessControl" not in log["Properties"]
    principals = [s.get("Principal") for s in _policy_for(synthesized, log_id)]
    assert {"Service": "logging.s3.amazonaws.com"} in principals


def test_log_bucket_waivers_are_recorded_with_reasons(synthesized: Synthesized) -> None:
    _, log, _, _ = _buckets(synthesized)
    skips = log["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_18"]
    assert all(s["comment"] for s in skips)
    acknowledged = {
        (s["ruleName"], s["acknowledgedAt"])
        for r in synthesized.report["pluginReports"]
        for s in r.get("suppressedViolations", [])
    }
    assert ("NIST.800.53.R5-S3DefaultEncryptionKMS", "TestStack/Seeds/AccessLogs") in acknowledged


def _role_statements(synthesized: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    [policy] = [
        p
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_grant_read_names_each_action_and_is_limited_to_the_prefix(
    synthesized: Synthesized,
) -> None:
    _, _, seed_id, _ = _buckets(synthesized)
    by_action = {str(s["Action"]): s["Resource"] for s in _role_statements(synthesized, "Reader")}
    assert by_action["s3:GetObject"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [seed_id, "Arn"]}, "/seeds/*"]]
    }
    assert by_action[str(["s3:ListBucket", "s3:GetBucketLocation"])] == {
        "Fn::GetAtt": [seed_id, "Arn"]
    }
    assert str(["kms:Decrypt", "kms:DescribeKey"]) in by_action
    assert not [a for a in by_action if "*" in a]


def test_grant_write_can_encrypt_under_the_prefix_only(synthesized: Synthesized) -> None:
    by_action = {str(s["Action"]): s["Resource"] for s in _role_statements(synthesized, "Writer")}
    assert "/out/*" in str(by_action[str(["s3:PutObject", "s3:AbortMultipartUpload"])])
    assert (
        str(["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]) in by_action
    )
    assert "s3:GetObject" not in by_action


def test_s3_uri_names_the_bucket_and_key(synthesized: Synthesized) -> None:
    _, _, seed_id, _ = _buckets(synthesized)
    output = synthesized.raw["Outputs"]["SeedUri"]["Value"]
    assert output == {"Fn::Join": ["", ["s3://", {"Ref": seed_id}, "/seeds/"]]}


def test_existing_bucket_is_used_as_is(stack: cdk.Stack) -> None:
    # GIVEN an existing bucket and its key
    key = kms.Key(stack, "ExistingKey", enable_key_rotation=True)
    existing = s3.Bucket.from_bucket_attributes(
        stack, "Existing", bucket_name="my-seeds", encryption_key=key
    )
    # WHEN it is wrapped
    seeds = SeedAudienceBucket(stack, "Seeds", existing_bucket=existing)
    # THEN no bucket or key is created and the helpers use the existing bucket
    assert seeds.bucket is existing
    assert seeds.encryption_key is key
    assert seeds.access_logs_bucket is None
    assert stack.resolve(seeds.s3_uri("a/b.jsonl")) == "s3://my-seeds/a/b.jsonl"
    assert not [c for c in seeds.node.children]


def test_existing_bucket_accepts_the_key_it_is_encrypted_with(stack: cdk.Stack) -> None:
    key = AudienceEncryptionKey(stack, "Key")
    existing = s3.Bucket.from_bucket_name(stack, "Existing", "my-seeds")
    seeds = SeedAudienceBucket(stack, "Seeds", existing_bucket=existing, encryption_key=key)
    assert seeds.encryption_key is key.key


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bucket_name", "my-seeds"),
        ("noncurrent_version_expiration_days", 30),
        ("access_logs_prefix", "logs/"),
        ("removal_policy", cdk.RemovalPolicy.DESTROY),
    ],
)
def test_fails_if_existing_bucket_and_new_bucket_props_are_both_given(
    stack: cdk.Stack, prop: str, value: object
) -> None:
    existing = s3.Bucket.from_bucket_name(stack, "Existing", "my-seeds")
    with pytest.raises(ConstructValidationError) as error:
        SeedAudienceBucket(stack, "Seeds", existing_bucket=existing, **{prop: value})  # type: ignore[arg-type]
    message = str(error.value)
    assert "Scratch/Seeds" in message
    assert "existing_bucket" in message
    assert prop in message
    assert "never" in message or "one or the other" in message


@pytest.mark.parametrize(
    "prop", ["noncurrent_version_expiration_days", "access_log_expiration_days"]
)
@pytest.mark.parametrize("days", [0, -5])
def test_fails_if_lifecycle_days_are_below_one(stack: cdk.Stack, prop: str, days: int) -> None:
    with pytest.raises(ConstructValidationError) as error:
        SeedAudienceBucket(stack, "Seeds", **{prop: days})  # type: ignore[arg-type]
    assert str(error.value) == f"Scratch/Seeds: invalid {prop}={days}: must be >= 1"


@pytest.mark.parametrize("name", ["AB", "Upper-Case-Bucket", "x" * 64, "-starts-with-dash"])
def test_fails_if_bucket_name_is_invalid(stack: cdk.Stack, name: str) -> None:
    with pytest.raises(ConstructValidationError, match=r"Scratch/Seeds: invalid bucket_name="):
        SeedAudienceBucket(stack, "Seeds", bucket_name=name)


def test_fails_if_uri_key_starts_with_slash(stack: cdk.Stack) -> None:
    seeds = SeedAudienceBucket(stack, "Seeds")
    with pytest.raises(ConstructValidationError, match="must not start with '/'"):
        seeds.s3_uri("/seeds/")


def test_fails_if_grant_prefix_starts_with_slash(stack: cdk.Stack) -> None:
    seeds = SeedAudienceBucket(stack, "Seeds")
    role = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ConstructValidationError, match="prefix='/seeds/'"):
        seeds.grant_read(role, "/seeds/")
