"""Acknowledging cdk-nag findings next to the resource, always with a reason.

cdk-nag 3.x reports findings through CDK's policy-validation plugins. An acknowledgment is
recorded as ``<pack>::<rule id>`` so that CDK core (not cdk-nag) matches it: the finding then
lands under ``suppressedViolations`` in ``cdk.out/validation-report.json`` together with its
reason, which gives reviewers one auditable list of everything that was waived and why.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

#: Rule-id prefixes of the packs we run, mapped to the plugin (pack) name cdk-nag registers.
PACK_PREFIXES: tuple[str, ...] = (
    "AwsSolutions",
    "NIST.800.53.R5",
    "HIPAA.Security",
    "PCI.DSS.321",
)


def _namespaced(rule_id: str) -> str:
    for pack in PACK_PREFIXES:
        if rule_id.startswith(pack + "-"):
            return f"{pack}::{rule_id}"
    raise ValueError(
        f"rule id {rule_id!r} does not start with a known cdk-nag pack prefix "
        f"({', '.join(PACK_PREFIXES)})"
    )


def acknowledge(scope: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge each of ``rule_ids`` on ``scope`` (and its children) with ``reason``."""
    if not reason.strip():
        raise ValueError("a cdk-nag acknowledgment needs a reason")
    Validations.of(scope).acknowledge(
        *(Acknowledgment(id=_namespaced(rule), reason=reason) for rule in rule_ids)
    )


def skip_checkov(resource: IConstruct, *checks: tuple[str, str]) -> None:
    """Record checkov skips ``(check id, reason)`` in the CloudFormation resource's metadata."""
    from aws_cdk import CfnResource

    if not isinstance(resource, CfnResource):
        raise TypeError(f"{resource.node.path} is not a CloudFormation resource")
    existing = resource.get_metadata("checkov") or {}
    skips = list(existing.get("skip", []))
    skips.extend({"id": check, "comment": reason} for check, reason in checks)
    resource.add_metadata("checkov", {"skip": skips})
