"""The compliance gate: cdk-nag rule packs run as CDK validation plugins at synth time."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

from .._internal.nag import PACK_PREFIXES as PACKS
from .._internal.nag import acknowledge
from .._internal.validation import ConstructValidationError


def add_compliance_checks(scope: Stage, *, verbose: bool = True) -> None:
    """Run the AwsSolutions, NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 packs.

    Synthesis of ``scope`` (an ``App`` or ``Stage``) then fails on any finding that was not
    acknowledged with a reason, and ``cdk.out/validation-report.json`` lists every
    acknowledged finding with its reason.

    :param scope: the app or stage whose stacks are checked.
    :param verbose:
        include each rule's explanation in the report. Default: True.
    """
    Validations.of(scope).add_plugins(
        AwsSolutionsChecks(scope, verbose=verbose),
        NIST80053R5Checks(scope, verbose=verbose),
        HIPAASecurityChecks(scope, verbose=verbose),
        PCIDSS321Checks(scope, verbose=verbose),
    )


def acknowledge_finding(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` and everything below it, with a reason.

    The finding then no longer fails synthesis; it is listed with the reason under
    ``suppressedViolations`` in ``cdk.out/validation-report.json``, so reviewers see every
    waiver in one place. Put the acknowledgment beside the resource it is about, as narrow as
    the finding allows.

    Example::

        acknowledge_finding(scheduler_role, "NIST.800.53.R5-IAMNoInlinePolicy",
                            "CDK grant in the role's default policy; reviewed with the team")

    :param scope: the construct the finding is reported on (or one of its parents).
    :param rule_id: the rule as cdk-nag names it, e.g. ``AwsSolutions-IAM5`` or
        ``HIPAA.Security-IAMNoInlinePolicy``; one of the four packs the gate runs.
    :param reason: why the finding is acceptable here; must not be blank.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ConstructValidationError(
            scope.node.path, "reason", reason, "an acknowledgment needs a reason (not blank)"
        )
    if not isinstance(rule_id, str) or not rule_id.startswith(tuple(p + "-" for p in PACKS)):
        raise ConstructValidationError(
            scope.node.path,
            "rule_id",
            rule_id,
            "must be a rule of the packs the gate runs, starting with "
            + ", ".join(f"'{p}-'" for p in PACKS),
        )
    acknowledge(scope, reason, rule_id)
