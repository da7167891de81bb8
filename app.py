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
    AudienceGenerationJob,
    AudienceModel,
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    BatchInferenceJob,
    BedrockBatchInferenceRole,
    CleanRoomsMlServiceRole,
    ColumnType,
    ConfiguredAudienceModel,
    GlueTrainingTable,
    SeedAudience,
    SeedAudienceBucket,
    TrainingDataColumn,
    TrainingDataset,
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
        self._audience_chain(settings, training, seed_prefix, output_prefix)
        self._batch_inference(settings)
        cdk.CfnOutput(self, "SeedBucketName", value=self.seeds.bucket_name)
        cdk.CfnOutput(self, "SeedAudienceUri", value=self.seeds.s3_uri(seed_prefix))
        cdk.CfnOutput(self, "CleanRoomsMlRoleArn", value=self.cleanrooms_ml_role.role_arn)
        cdk.CfnOutput(self, "BedrockBatchRoleArn", value=self.bedrock_role.role_arn)

    def _batch_inference(self, settings: dict[str, Any]) -> None:
        """A Bedrock batch inference job over the batch input prefix, behind a context flag.

        Bedrock tracking (the Bedrock role, the job-status branch and the EventBridge rule on
        "Batch Inference Job State Change") is always on; the job itself starts only with
        `-c deployBatchInferenceJob=true` (it needs model access and input files).
        """
        batch = settings.get("batchInference", {})
        enabled = self.node.try_get_context("deployBatchInferenceJob")
        if not _flag(batch.get("enabled") if enabled is None else enabled):
            return
        job = BatchInferenceJob(
            self,
            "BatchInferenceJob",
            model_id=str(batch.get("modelId", "anthropic.claude-3-haiku-20240307-v1:0")),
            role=self.bedrock_role,
            input_s3_uri=self.seeds.s3_uri(str(settings.get("batchInputPrefix", "batch-input/"))),
            output_s3_uri=self.seeds.s3_uri(
                str(settings.get("batchOutputPrefix", "batch-output/"))
            ),
            output_encryption_key=self.key,
            timeout_duration_in_hours=int(batch.get("timeoutDurationInHours", 24)),
        )
        cdk.CfnOutput(self, "BatchInferenceJobArn", value=job.job_arn)

    def _audience_chain(
        self,
        settings: dict[str, Any],
        training: dict[str, Any],
        seed_prefix: str,
        output_prefix: str,
    ) -> None:
        """Training dataset -> audience model -> configured model -> generation job."""
        self.dataset = TrainingDataset(
            self,
            "TrainingDataset",
            role=self.cleanrooms_ml_role,
            database_name=str(training.get("databaseName", "audience_db")),
            table_name=str(training.get("tableName", "interactions")),
            columns=[
                TrainingDataColumn(str(c["name"]), ColumnType[str(c["type"])])
                for c in training.get("columns", _DEFAULT_COLUMNS)
            ],
        )
        model = settings.get("audienceModel", {})
        self.model = AudienceModel(
            self,
            "AudienceModel",
            training_dataset=self.dataset,
            training_data_start_time=model.get("trainingDataStartTime"),
            training_data_end_time=model.get("trainingDataEndTime"),
            kms_key=self.key,
        )
        cdk.CfnOutput(self, "AudienceModelArn", value=self.model.audience_model_arn)
        # The configured model waits for `self.model.ready` (training ACTIVE) by itself: the
        # job-status state machine signals the WaitCondition when training ends.
        self.configured = ConfiguredAudienceModel(
            self,
            "ConfiguredAudienceModel",
            audience_model=self.model,
            output_config=AudienceOutputConfig(
                destination_s3_uri=self.seeds.s3_uri(output_prefix), role=self.cleanrooms_ml_role
            ),
            audience_size_config=AudienceSizeConfig(
                AudienceSizeType.ABSOLUTE,
                [int(b) for b in model.get("audienceSizeBins", [10000, 50000, 100000])],
            ),
            min_matching_seed_size=int(model.get("minMatchingSeedSize", 500)),
        )
        self.job = AudienceGenerationJob(
            self,
            "AudienceGenerationJob",
            configured_audience_model=self.configured,
            seed_audience=SeedAudience(
                role=self.cleanrooms_ml_role,
                data_source_s3_uri=self.seeds.s3_uri(
                    seed_prefix + str(settings.get("seedFile", "seed.jsonl"))
                ),
            ),
        )
        cdk.CfnOutput(self, "AudienceGenerationJobArn", value=self.job.audience_generation_job_arn)


def _flag(value: Any) -> bool:
    """A context flag: cdk.json gives booleans, `-c key=value` gives strings."""
    return str(value).lower() in ("true", "1", "yes")


_DEFAULT_COLUMNS = [
    {"name": "user_id", "type": "USER_ID"},
    {"name": "item_id", "type": "ITEM_ID"},
    {"name": "event_time", "type": "TIMESTAMP"},
]


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
