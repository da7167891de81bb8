"""Grants that land in a customer-managed policy instead of the principal's inline default
policy: the compliance gate's NIST 800-53, HIPAA and PCI packs refuse inline policies
(``IAMNoInlinePolicy``), so a documented ``grant_*`` method must not create one."""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import aws_iam as iam


@jsii.implements(iam.IPrincipal)
class _PolicyPrincipal:
    """``principal`` as far as a grant sees it, except that statements go to ``policy``."""

    def __init__(self, policy: iam.ManagedPolicy, principal: iam.IPrincipal) -> None:
        self._policy = policy
        self._principal = principal

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self

    @property
    def assume_role_action(self) -> str:
        return self._principal.assume_role_action

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._principal.policy_fragment

    @property
    def principal_account(self) -> str | None:
        return self._principal.principal_account

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)


@jsii.implements(iam.IGrantable)
class ManagedPolicyGrantee:
    """A grantee for ``iam.Grant.add_to_principal`` whose statements go to ``policy`` (already
    attached to ``principal``): the grant reports success and its statement, as CDK's own
    grants do."""

    def __init__(self, policy: iam.ManagedPolicy, principal: Any) -> None:
        self._principal = _PolicyPrincipal(policy, principal)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self._principal
