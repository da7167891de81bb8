"""Shared shape of the service roles: a confused-deputy-safe trust policy and an explicit,
least-privilege customer-managed policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from .nag import acknowledge
from .permissions import (
    KMS_DECRYPT,
    KMS_ENCRYPT,
    S3_BUCKET,
    S3_READ_OBJECTS,
    S3_WRITE_OBJECTS,
    nag_resource_name,
    object_pattern,
)
from .validation import check_api_value


@dataclass(frozen=True)
class TrustConditions:
    """The condition operators of a service role's trust policy: how ``aws:SourceAccount`` and
    ``aws:SourceArn`` are compared (each service's documented form)."""

    account: str = "StringEquals"
    source_arn: str = "ArnLike"


#: Amazon Step Functions and Amazon EventBridge document this form for roles they assume:
#: "Prevent cross-service confused deputy issue" in "Creating an IAM role for your state
#: machine" (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html)
#: and "Cross-service confused deputy prevention in Amazon EventBridge"
#: (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
CONFUSED_DEPUTY = TrustConditions()


def _trusted(
    service: str, account: str, source_arns: Sequence[str], conditions: TrustConditions
) -> iam.PrincipalBase:
    return iam.ServicePrincipal(service).with_conditions(
        {
            conditions.account: {"aws:SourceAccount": account},
            conditions.source_arn: {"aws:SourceArn": list(source_arns)},
        }
    )


def trusted_service_principal(
    scope: IConstruct, service: str, source_arns: Sequence[str]
) -> iam.PrincipalBase:
    """``service`` (e.g. ``states.amazonaws.com``, ``events.amazonaws.com``) acting only for this
    account (``StringEquals aws:SourceAccount``) and only for ``source_arns`` (``ArnLike
    aws:SourceArn``), for the ``assumed_by`` of a role that service assumes.

    Step Functions, "Creating an IAM role for your state machine", section "Prevent
    cross-service confused deputy issue"
    (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html): the
    trust policy's ``aws:SourceArn`` is the state machine ARN (``...:stateMachine:*`` for any in
    the account and Region) with ``aws:SourceAccount``. EventBridge, "Cross-service confused
    deputy prevention in Amazon EventBridge"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html):
    "For EventBridge event bus rule targets, the value of aws:SourceArn must be the rule ARN."
    """
    if not source_arns:
        raise ValueError(f"{scope.node.path}: trusted_service_principal needs source ARNs")
    return _trusted(service, Stack.of(scope).account, source_arns, CONFUSED_DEPUTY)


def new_service_role(
    scope: Construct,
    *,
    principal: str,
    arn_service: str,
    resource_patterns: Sequence[str],
    role_name: str | None,
    description: str,
    trust: TrustConditions = CONFUSED_DEPUTY,
) -> iam.Role:
    """A role only ``principal`` may assume, only for this account's ``resource_patterns``.

    The trust policy carries both confused-deputy conditions: ``aws:SourceAccount`` is this
    account and ``aws:SourceArn`` matches one of the service's resource ARNs in this account and
    region (e.g. ``training-dataset/*``), compared with the operators in ``trust`` (the form the
    service documents).
    """
    if role_name is not None:
        check_api_value(
            scope, "role_name", role_name, service="iam", operation="CreateRole", member="RoleName"
        )
    stack = Stack.of(scope)
    source_arns = [
        stack.format_arn(
            service=arn_service, resource=pattern, arn_format=ArnFormat.NO_RESOURCE_NAME
        )
        for pattern in resource_patterns
    ]
    return iam.Role(
        scope,
        "Resource",
        role_name=role_name,
        description=description,
        assumed_by=_trusted(principal, stack.account, source_arns, trust),
    )


class ServiceRolePolicy:
    """A role's permissions as one customer-managed policy, every action named explicitly.

    A managed policy (not CDK's inline ``DefaultPolicy``) keeps the NIST/HIPAA/PCI
    ``IAMNoInlinePolicy`` rules satisfied. A resource with a wildcard must come with the reason it
    cannot be narrower; the reason is recorded as the cdk-nag acknowledgment of that finding.
    """

    OBJECT_PREFIX_REASON = (
        "Object-key prefix: 'bucket/prefix/*' is the narrowest resource S3 offers for the "
        "objects under a prefix."
    )

    def __init__(self, scope: Construct, role: iam.IRole) -> None:
        self._scope = scope
        self._role = role
        self._policy: iam.ManagedPolicy | None = None

    @property
    def policy(self) -> iam.ManagedPolicy | None:
        """The managed policy, once a first permission was added."""
        return self._policy

    def require_policy(self) -> iam.ManagedPolicy:
        """The managed policy, created now if no permission was added yet."""
        if self._policy is None:
            self._policy = iam.ManagedPolicy(self._scope, "Policy", roles=[self._role])
        return self._policy

    def allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        wildcard_reason: str | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        """Allow ``actions`` on ``resources``; a wildcard resource needs ``wildcard_reason``."""
        policy = self.require_policy()
        policy.add_statements(
            iam.PolicyStatement(
                actions=list(actions),
                resources=list(resources),
                conditions=dict(conditions) if conditions else None,
            )
        )
        stack = Stack.of(self._scope)
        for arn in resources:
            flat = nag_resource_name(stack.resolve(arn))
            if "*" not in flat:
                continue
            if not wildcard_reason:
                raise ValueError(f"{self._scope.node.path}: resource {flat} needs a reason")
            acknowledge(policy, wildcard_reason, f"AwsSolutions-IAM5[Resource::{flat}]")

    def read_objects(self, bucket: s3.IBucket, prefix: str, prop: str) -> None:
        """List ``bucket`` under ``prefix`` and read those objects (decrypting with its key)."""
        objects = bucket.arn_for_objects(object_pattern(self._scope, prop, prefix))
        self.allow(S3_READ_OBJECTS, [objects], wildcard_reason=self.OBJECT_PREFIX_REASON)
        self.allow(S3_BUCKET, [bucket.bucket_arn])
        if bucket.encryption_key is not None:
            self.use_key(bucket.encryption_key, encrypt=False)

    def write_objects(self, bucket: s3.IBucket, prefix: str, prop: str) -> None:
        """Write objects under ``prefix`` of ``bucket`` (encrypting with its key)."""
        objects = bucket.arn_for_objects(object_pattern(self._scope, prop, prefix))
        self.allow(S3_WRITE_OBJECTS, [objects], wildcard_reason=self.OBJECT_PREFIX_REASON)
        self.allow(S3_BUCKET, [bucket.bucket_arn])
        if bucket.encryption_key is not None:
            self.use_key(bucket.encryption_key, encrypt=True)

    def use_key(self, key: kms.IKey, *, encrypt: bool) -> None:
        """Decrypt (and, with ``encrypt``, encrypt and generate data keys) with ``key``."""
        self.allow(KMS_ENCRYPT if encrypt else KMS_DECRYPT, [key.key_arn])


class ServiceRoleConstruct(Construct):
    """Base of the library's service-role constructs: the role (``Resource``), its one managed
    policy, and the attributes users reference."""

    role: iam.Role
    _permissions: ServiceRolePolicy

    def _init_role(
        self,
        *,
        principal: str,
        arn_service: str,
        resource_patterns: Sequence[str],
        role_name: str | None,
        description: str,
        trust: TrustConditions = CONFUSED_DEPUTY,
    ) -> None:
        self.role = new_service_role(
            self,
            principal=principal,
            arn_service=arn_service,
            resource_patterns=resource_patterns,
            role_name=role_name,
            description=description,
            trust=trust,
        )
        self._permissions = ServiceRolePolicy(self, self.role)

    def _grant_locations(
        self,
        *,
        read: Sequence[tuple[s3.IBucket | None, str, str]] = (),
        write: Sequence[tuple[s3.IBucket | None, str, str]] = (),
        key: kms.IKey | None = None,
    ) -> None:
        """Read and write ``(bucket, prefix, prop)`` locations; encrypt and decrypt with ``key``."""
        for bucket, prefix, prop in read:
            if bucket is not None:
                self._permissions.read_objects(bucket, prefix, prop)
        for bucket, prefix, prop in write:
            if bucket is not None:
                self._permissions.write_objects(bucket, prefix, prop)
        if key is not None:
            self._permissions.use_key(key, encrypt=True)

    @property
    def managed_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding the role's permissions (None if it has none)."""
        return self._permissions.policy

    @property
    def role_arn(self) -> str:
        """The role's ARN."""
        return self.role.role_arn

    @property
    def role_name(self) -> str:
        """The role's name."""
        return self.role.role_name
