"""The compliance gate: cdk-nag rule packs run as CDK validation plugins at synth time."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks


def add_compliance_checks(scope: Stage, *, verbose: bool = True) -> None:
    """Run the AwsSolutions, NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 packs.

    Synthesis of ``scope`` (an ``App`` or ``Stage``) then fails on any finding that was not
    acknowledged with a reason, and ``cdk.out/validation-report.json`` lists every
    acknowledged finding with its reason.

    :param scope: the app or stage whose stacks are checked.
    :param verbose: include each rule's explanation in the report. Default: True.
    """
    Validations.of(scope).add_plugins(
        AwsSolutionsChecks(scope, verbose=verbose),
        NIST80053R5Checks(scope, verbose=verbose),
        HIPAASecurityChecks(scope, verbose=verbose),
        PCIDSS321Checks(scope, verbose=verbose),
    )
