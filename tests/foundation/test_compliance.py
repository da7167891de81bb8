"""The compliance gate and the public way to acknowledge a finding with a reason."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib import ConstructValidationError, acknowledge_finding
from tests.conftest import synth_stack

INLINE_POLICY_RULES = (
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "HIPAA.Security-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)


def _role_with_inline_policy(stack: cdk.Stack) -> iam.Role:
    role = iam.Role(stack, "Scheduler", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["states:StartExecution"],
            resources=[f"arn:aws:states:us-east-1:{stack.account}:stateMachine:x"],
        )
    )
    return role


def test_fails_if_an_inline_policy_is_not_acknowledged(tmp_path: Path) -> None:
    # GIVEN a role with an inline policy (what a CDK grant makes) and no acknowledgment
    # WHEN the gate runs THEN synthesis fails on the inline-policy rules
    with pytest.raises(Exception, match="IAMNoInlinePolicy"):
        synth_stack(tmp_path, _role_with_inline_policy)


def test_an_acknowledged_finding_passes_with_its_reason_in_the_report(tmp_path: Path) -> None:
    # GIVEN the same role, each inline-policy finding acknowledged with a reason
    def build(stack: cdk.Stack) -> None:
        role = _role_with_inline_policy(stack)
        for rule in INLINE_POLICY_RULES:
            acknowledge_finding(role, rule, "The scheduler role's grant, reviewed")

    # WHEN the gate runs THEN synthesis passes and the report keeps each reason
    synthesized = synth_stack(tmp_path, build)
    text = str(synthesized.report)
    assert all(rule in text for rule in INLINE_POLICY_RULES)
    assert "The scheduler role's grant, reviewed" in text


@pytest.mark.parametrize(
    ("rule_id", "reason", "message"),
    [
        ("IAM5", "ok", r"Scratch/R: invalid rule_id='IAM5': must be a rule of the packs"),
        ("AwsSolutions-IAM5", " ", r"Scratch/R: invalid reason=' ': an acknowledgment needs"),
    ],
)
def test_fails_if_an_acknowledgment_has_no_known_rule_or_no_reason(
    stack: cdk.Stack, rule_id: str, reason: str, message: str
) -> None:
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
    with pytest.raises(ConstructValidationError, match=message):
        acknowledge_finding(role, rule_id, reason)
