"""AudienceEncryptionKey: rotation, retention, alias, and the service-principal key policy."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import AudienceEncryptionKey, ConstructValidationError
from tests.conftest import Synthesized, synth_stack


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a key with defaults and one with every option set
    def build(stack: cdk.Stack) -> None:
        AudienceEncryptionKey(stack, "Plain")
        AudienceEncryptionKey(
            stack,
            "Custom",
            alias="alias/audience-data",
            description="custom",
            rotation_period=cdk.Duration.days(90),
            pending_window=cdk.Duration.days(7),
            removal_policy=cdk.RemovalPolicy.DESTROY,
            allow_bedrock=False,
        )

    # WHEN the stack is synthesized (through the cdk-nag gate)
    return synth_stack(tmp_path_factory.mktemp("key"), build)


def _key(synthesized: Synthesized, prefix: str) -> dict[str, Any]:
    keys = synthesized.resources("AWS::KMS::Key")
    [logical_id] = [k for k in keys if k.startswith(prefix)]
    key: dict[str, Any] = keys[logical_id]
    return key


def _service_statement(key: dict[str, Any], sid: str) -> dict[str, Any] | None:
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        if statement.get("Sid") == sid:
            found: dict[str, Any] = statement
            return found
    return None


def test_default_key_rotates_and_is_retained(synthesized: Synthesized) -> None:
    # THEN rotation is on, yearly, and the key survives stack deletion
    key = _key(synthesized, "Plain")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["RotationPeriodInDays"] == 365
    assert key["Properties"]["PendingWindowInDays"] == 30
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"


def test_custom_key_uses_given_options(synthesized: Synthesized) -> None:
    key = _key(synthesized, "Custom")
    assert key["Properties"]["RotationPeriodInDays"] == 90
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert key["DeletionPolicy"] == "Delete"
    synthesized.template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": "alias/audience-data"}
    )


@pytest.mark.parametrize(
    ("sid", "principal", "arn_service"),
    [
        ("AllowCleanRoomsML", "cleanrooms-ml.amazonaws.com", "cleanrooms-ml"),
        ("AllowBedrock", "bedrock.amazonaws.com", "bedrock"),
    ],
)
def test_service_principals_are_limited_to_this_account(
    synthesized: Synthesized, sid: str, principal: str, arn_service: str
) -> None:
    # THEN each service may use the key only for this account and its own resources here
    statement = _service_statement(_key(synthesized, "Plain"), sid)
    assert statement is not None
    assert statement["Principal"] == {"Service": principal}
    assert "kms:Decrypt" in statement["Action"]
    assert not [action for action in statement["Action"] if "*" in action]
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    source_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    parts = source_arn["Fn::Join"][1]
    assert f":{arn_service}:" in parts
    assert {"Ref": "AWS::AccountId"} in parts


def test_service_statement_can_be_left_out(synthesized: Synthesized) -> None:
    key = _key(synthesized, "Custom")
    assert _service_statement(key, "AllowBedrock") is None
    assert _service_statement(key, "AllowCleanRoomsML") is not None


def test_key_passes_compliance_packs_without_acknowledgments(synthesized: Synthesized) -> None:
    # THEN nothing about the key needed waiving
    for report in synthesized.report["pluginReports"]:
        assert not report.get("violations")
        assert not report.get("suppressedViolations")


def test_unresolved_alias_is_not_validated(stack: cdk.Stack) -> None:
    alias = cdk.Fn.join("", ["alias/", cdk.Aws.STACK_NAME])
    AudienceEncryptionKey(stack, "Key", alias=alias)


@pytest.mark.parametrize(
    ("alias", "rule"),
    [
        ("audience-data", "must start with 'alias/'"),
        ("alias/", "must start with 'alias/'"),
        ("alias/aws/audience", "reserved"),
        ("alias/bad name!", "must match the pattern"),
        ("alias/" + "a" * 251, "at most 256 characters"),
    ],
)
def test_fails_if_alias_is_invalid(stack: cdk.Stack, alias: str, rule: str) -> None:
    with pytest.raises(ConstructValidationError) as error:
        AudienceEncryptionKey(stack, "Key", alias=alias)
    message = str(error.value)
    assert "Scratch/Key" in message
    assert "alias=" in message
    assert repr(alias) in message
    assert rule in message


@pytest.mark.parametrize("days", [89, 2561])
def test_fails_if_rotation_period_is_out_of_range(stack: cdk.Stack, days: int) -> None:
    with pytest.raises(ConstructValidationError, match=r"rotation_period.*between 90 and 2560"):
        AudienceEncryptionKey(stack, "Key", rotation_period=cdk.Duration.days(days))


@pytest.mark.parametrize("days", [6, 31])
def test_fails_if_pending_window_is_out_of_range(stack: cdk.Stack, days: int) -> None:
    with pytest.raises(ConstructValidationError, match=r"pending_window.*between 7 and 30"):
        AudienceEncryptionKey(stack, "Key", pending_window=cdk.Duration.days(days))
