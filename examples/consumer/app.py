#!/usr/bin/env python3
"""A team's own CDK app that reuses the library: one stack with a lookalike-audience pipeline
over the team's existing training table, plus the team's own resources around it.

Copy this folder to start a project (README.md has the commands). Context settings:

- ``audienceModelArn`` (or the environment variable ``AUDIENCE_MODEL_ARN``, which CI sets from
  a repository variable): an audience model trained elsewhere (another stack, another team, by
  hand). Given, the stack uses it instead of training one, so no deploy waits for training (up
  to 12 hours). Empty or unset: the stack trains its own model; its first deploy then waits for
  training, later deploys do not (the readiness gate waits only when the model is created or
  replaced). Do not switch a stack that trained its model to an ARN: its model (removal policy
  DESTROY, derived data) would be deleted.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import (
    AudienceExportSize,
    AudienceSizeType,
    ColumnType,
    GlueTrainingTable,
    LookalikeAudiencePipeline,
    TrainingData,
    TrainingDataColumn,
    add_compliance_checks,
)


class MarketingAudiences(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        interactions = s3.Bucket.from_bucket_name(self, "Interactions", "acme-interactions")
        trained = (
            self.node.try_get_context("audienceModelArn")
            or os.environ.get("AUDIENCE_MODEL_ARN")
            or None
        )
        pipeline = LookalikeAudiencePipeline(
            self,
            "Lookalikes",
            audience_model=trained,
            training_data=None
            if trained
            else TrainingData(
                GlueTrainingTable("acme_db", "interactions", data_bucket=interactions),
                [
                    TrainingDataColumn("user_id", ColumnType.USER_ID),
                    TrainingDataColumn("item_id", ColumnType.ITEM_ID),
                    TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
                ],
            ),
            audience_size_bins=[5000, 20000],
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 5000)],
            job_name_prefix="acme",
            create_alarm_topic=True,
        )
        # The team's scheduler may start manual runs (a managed policy, as the NIST/HIPAA/PCI
        # packs want no inline policies).
        scheduler = iam.Role(
            self,
            "Scheduler",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="Starts weekly audience generation runs",
        )
        iam.ManagedPolicy(
            self,
            "StartRuns",
            roles=[scheduler],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[pipeline.state_machine_arn]
                )
            ],
        )
        # The names docs/runbook.md reads (aws cloudformation describe-stacks ... Outputs).
        cdk.CfnOutput(self, "WorkflowArn", value=pipeline.state_machine_arn)
        cdk.CfnOutput(self, "SeedBucketName", value=pipeline.seed_bucket.bucket.bucket_name)


app = cdk.App()
MarketingAudiences(app, "MarketingAudiences")
add_compliance_checks(app)
app.synth()
