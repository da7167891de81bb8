#!/usr/bin/env python3
"""Two-party example, model owner (training data provider) account: train a lookalike model on
a Glue table, configure it and associate it with an AWS Clean Rooms collaboration.

Context settings (``cdk.json`` holds placeholders, so ``cdk synth`` works with no account):

- ``collaborationId``: the collaboration the creator made (this account a member of it); the
  stack joins it with an ``AWS::CleanRooms::Membership``.
- ``membershipId``: instead, an existing membership of this account in the collaboration (for
  example one joined in the console); given and not empty, it wins and no membership is
  created.
- ``trainingDatabase``, ``trainingTable``, ``trainingBucket``: the Glue table of interactions
  (``user_id``, ``item_id``, ``event_time``) and the bucket holding its data.

The stack output ``<path>ConfiguredAudienceModelArn`` (``ModelOwnerConfiguredAudienceModelArn``)
is what the seed provider needs (examples/collaboration/README.md).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cleanrooms as cleanrooms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import (
    ColumnType,
    GlueTrainingTable,
    LookalikeAudiencePipeline,
    TrainingData,
    TrainingDataColumn,
    add_compliance_checks,
)

#: The context keys this app reads (examples/collaboration/README.md lists the same).
CONTEXT_KEYS = (
    "collaborationId",
    "membershipId",
    "trainingDatabase",
    "trainingTable",
    "trainingBucket",
)


_Membership = cleanrooms.CfnMembership


def _context(scope: Construct, key: str) -> str:
    value = scope.node.try_get_context(key)
    return "" if value is None else str(value).strip()


class LookalikeModelOwner(cdk.Stack):
    """Membership (unless one is given), training, configured model and its association."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        membership_id = _context(self, "membershipId")
        self.membership: cleanrooms.CfnMembership | None = None
        if not membership_id:
            collaboration_id = _context(self, "collaborationId")
            if not collaboration_id:
                raise ValueError("give -c collaborationId=<id> or -c membershipId=<id>")
            self.membership = _Membership(
                self,
                "Membership",
                collaboration_identifier=collaboration_id,
                query_log_status="ENABLED",
                payment_configuration=_Membership.MembershipPaymentConfigurationProperty(
                    # "If the collaboration creator has not specified anyone to pay for query
                    # compute costs, then the member who can query is the default payer. An
                    # error message is returned [...] If you set the value to TRUE but you are
                    # not responsible" (AWS::CleanRooms::Membership, docs.aws.amazon.com/
                    # AWSCloudFormation/latest/UserGuide/aws-properties-cleanrooms-membership-
                    # membershipquerycomputepaymentconfig.html). This member cannot query: the
                    # seed provider is the member who can query.
                    query_compute=_Membership.MembershipQueryComputePaymentConfigProperty(
                        is_responsible=False
                    ),
                    machine_learning=_Membership.MembershipMLPaymentConfigProperty(
                        # The same rule for ML: "If the collaboration creator has not specified
                        # anyone to pay for model training costs, then the member who can query
                        # is the default payer" (aws-properties-cleanrooms-membership-
                        # membershipmodeltrainingpaymentconfig.html, likewise
                        # ...membershipmodelinferencepaymentconfig.html; clean-rooms/latest/
                        # apireference/API_ModelTrainingPaymentConfig.html). It must match the
                        # collaboration's payment configuration.
                        model_training=_Membership.MembershipModelTrainingPaymentConfigProperty(
                            is_responsible=False
                        ),
                        model_inference=_Membership.MembershipModelInferencePaymentConfigProperty(
                            is_responsible=False
                        ),
                    ),
                ),
            )
            membership_id = self.membership.attr_membership_identifier
        interactions = s3.Bucket.from_bucket_name(
            self, "TrainingBucket", _context(self, "trainingBucket")
        )
        self.pipeline = LookalikeAudiencePipeline(
            self,
            "ModelOwner",
            training_data=TrainingData(
                GlueTrainingTable(
                    _context(self, "trainingDatabase"),
                    _context(self, "trainingTable"),
                    data_bucket=interactions,
                ),
                [
                    TrainingDataColumn("user_id", ColumnType.USER_ID),
                    TrainingDataColumn("item_id", ColumnType.ITEM_ID),
                    TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
                ],
            ),
            audience_size_bins=[10000, 50000],
            collaboration=membership_id,
            tags={"example": "collaboration-model-owner"},
        )


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the model owner's stack and the compliance gate to ``app`` (a new one by default)."""
    app = app or cdk.App()
    LookalikeModelOwner(
        app,
        "LookalikeModelOwner",
        description="Lookalike model of the training data provider, associated with an "
        "AWS Clean Rooms collaboration",
    )
    add_compliance_checks(app)
    return app


if __name__ == "__main__":
    build_app().synth()
