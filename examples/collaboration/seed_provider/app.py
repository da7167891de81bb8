#!/usr/bin/env python3
"""Two-party example, seed provider (seed data provider) account: join the collaboration as the
member who can query, and generate lookalike audiences from the model owner's configured model,
with seeds from S3 (files under ``seeds/``) or from SQL (a protected query in the collaboration).

Context settings (``cdk.json`` holds placeholders, so ``cdk synth`` works with no account):

- ``collaborationId``: the collaboration the creator made; the stack joins it with an
  ``AWS::CleanRooms::Membership``.
- ``configuredAudienceModelArn``: the model owner's configured audience model (its stack output
  ``ModelOwnerConfiguredAudienceModelArn``). Empty or unset: the stack holds only the membership,
  the key, the seed bucket and the seed role, and no workflow; deploy it again with the ARN once
  the model owner has it (the workflow's role and its input check need the model's ARN).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cleanrooms as cleanrooms
from constructs import Construct

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceGenerationWorkflow,
    CleanRoomsMlServiceRole,
    SeedAudienceBucket,
    add_compliance_checks,
)

#: The context keys this app reads (examples/collaboration/README.md lists the same).
CONTEXT_KEYS = ("collaborationId", "configuredAudienceModelArn")
#: Where seed files go; a new ``.jsonl`` file there starts a run.
SEED_PREFIX = "seeds/"

_Membership = cleanrooms.CfnMembership


def _context(scope: Construct, key: str) -> str:
    value = scope.node.try_get_context(key)
    return "" if value is None else str(value).strip()


class LookalikeSeedProvider(cdk.Stack):
    """Membership, key, seed bucket, seed role and (with the model's ARN) the workflow."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        collaboration_id = _context(self, "collaborationId")
        if not collaboration_id:
            raise ValueError("give -c collaborationId=<id> (the collaboration to join)")
        self.membership = _Membership(
            self,
            "Membership",
            collaboration_identifier=collaboration_id,
            query_log_status="ENABLED",
            payment_configuration=_Membership.MembershipPaymentConfigurationProperty(
                # This member can query, and "If the collaboration creator has not specified
                # anyone to pay for query compute costs, then the member who can query is the
                # default payer" (aws-properties-cleanrooms-membership-
                # membershipquerycomputepaymentconfig.html). TRUE holds when the creator kept
                # that default; it must match the collaboration's payment configuration ("An
                # error message is returned [...] If you set the value to FALSE but you are
                # responsible").
                query_compute=_Membership.MembershipQueryComputePaymentConfigProperty(
                    is_responsible=True
                ),
                machine_learning=_Membership.MembershipMLPaymentConfigProperty(
                    # "If the collaboration creator has not specified anyone to pay for model
                    # inference costs, then the member who can query is the default payer"
                    # (aws-properties-cleanrooms-membership-membershipmodelinferencepaymentconfig
                    # .html). Same caveat: true only if the creator kept the default payer. Who
                    # pays for lookalike generation is not documented (research notes, Q3).
                    model_inference=_Membership.MembershipModelInferencePaymentConfigProperty(
                        is_responsible=True
                    ),
                ),
            ),
        )
        membership_id = self.membership.attr_membership_identifier
        self.key = AudienceEncryptionKey(self, "Key")
        self.seeds = SeedAudienceBucket(self, "Seeds", encryption_key=self.key)
        self.seed_role = CleanRoomsMlServiceRole(
            self,
            "SeedRole",
            seed_bucket=self.seeds.bucket,
            seed_prefix=SEED_PREFIX,
            encryption_key=self.key,
            # SQL seeds: the role runs the seed's protected query as this membership, "The
            # Membership ID of the member who can query" (ml-roles.html, read seed data).
            sql_seed_membership=membership_id,
        )
        self.workflow: AudienceGenerationWorkflow | None = None
        model_arn = _context(self, "configuredAudienceModelArn")
        if model_arn:
            self.workflow = AudienceGenerationWorkflow(
                self,
                "Lookalikes",
                configured_audience_model=model_arn,
                seed_role=self.seed_role,
                seed_bucket=self.seeds,
                seed_prefix=SEED_PREFIX,
                collaboration_id=collaboration_id,
                tags={"example": "collaboration-seed-provider"},
            )
        cdk.CfnOutput(self, "MembershipId", value=membership_id)
        cdk.CfnOutput(self, "SeedBucketName", value=self.seeds.bucket.bucket_name)


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the seed provider's stack and the compliance gate to ``app`` (a new one by default)."""
    app = app or cdk.App()
    LookalikeSeedProvider(
        app,
        "LookalikeSeedProvider",
        description="Lookalike audiences of the seed data provider, from another account's "
        "configured model in an AWS Clean Rooms collaboration",
    )
    add_compliance_checks(app)
    return app


if __name__ == "__main__":
    build_app().synth()
