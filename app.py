#!/usr/bin/env python3
"""Example app: the building blocks of a lookalike-audience pipeline in one stack.

Configured from ``cdk.json`` context (override with ``-c key=value``). Synthesizes with no AWS
account and no credentials: the stack is environment-agnostic. The four cdk-nag packs run at
synth time, so ``cdk synth`` fails on any finding that was not acknowledged with a reason.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import (
    AudienceEncryptionKey,
    BedrockBatchInferenceRole,
    CleanRoomsMlServiceRole,
    GlueTrainingTable,
    SeedAudienceBucket,
    add_compliance_checks,
)


class AudiencePipelineStack(cdk.Stack):
    """Key, seed bucket, Clean Rooms ML role and Bedrock batch-inference role."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Keys and buckets keep the library's default: retained when the stack is deleted.
        self.key = AudienceEncryptionKey(self, "AudienceKey", alias=settings.get("keyAlias"))
        self.seeds = SeedAudienceBucket(self, "SeedBucket", encryption_key=self.key)
        seed_prefix = str(settings.get("seedPrefix", "seeds/"))
        output_prefix = str(settings.get("outputPrefix", "audiences/"))
        training = settings.get("trainingTable", {})
        training_bucket = s3.Bucket.from_bucket_name(
            self, "TrainingDataBucket", str(training.get("bucketName", "training-data-bucket"))
        )
        self.cleanrooms_ml_role = CleanRoomsMlServiceRole(
            self,
            "CleanRoomsMlRole",
            training_tables=[
                GlueTrainingTable(
                    database_name=str(training.get("databaseName", "audience_db")),
                    table_name=str(training.get("tableName", "interactions")),
                    data_bucket=training_bucket,
                    data_prefix=str(training.get("dataPrefix", "")),
                )
            ],
            seed_bucket=self.seeds.bucket,
            seed_prefix=seed_prefix,
            output_bucket=self.seeds.bucket,
            output_prefix=output_prefix,
            encryption_key=self.key,
        )
        self.bedrock_role = BedrockBatchInferenceRole(
            self,
            "BedrockBatchRole",
            input_bucket=self.seeds.bucket,
            input_prefix=str(settings.get("batchInputPrefix", "batch-input/")),
            output_bucket=self.seeds.bucket,
            output_prefix=str(settings.get("batchOutputPrefix", "batch-output/")),
            encryption_key=self.key,
        )
        cdk.CfnOutput(self, "SeedBucketName", value=self.seeds.bucket_name)
        cdk.CfnOutput(self, "SeedAudienceUri", value=self.seeds.s3_uri(seed_prefix))
        cdk.CfnOutput(self, "CleanRoomsMlRoleArn", value=self.cleanrooms_ml_role.role_arn)
        cdk.CfnOutput(self, "BedrockBatchRoleArn", value=self.bedrock_role.role_arn)


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the example stack and the compliance gate to ``app`` (a new one by default)."""
    app = app or cdk.App()
    settings = app.node.try_get_context("audiencePipeline") or {}
    AudiencePipelineStack(
        app,
        str(settings.get("stackName", "AudiencePipeline")),
        settings=settings,
        description="Lookalike-audience pipeline building blocks (Clean Rooms ML, Bedrock)",
    )
    add_compliance_checks(app)
    return app


if __name__ == "__main__":
    build_app().synth()
