#!/usr/bin/env python3
"""Example app: one lookalike-audience pipeline, configured from ``cdk.json`` context.

Every key of the ``audiencePipeline`` context object can be overridden on the command line with
``-c key=value`` (for example ``-c environment=dev -c seedPrefix=incoming/``). The stack is
environment-agnostic and synthesizes with no AWS account and no credentials; the four cdk-nag
packs run at synth time, so ``cdk synth`` fails on any finding not acknowledged with a reason.

Environments (``environment``): ``prod`` keeps the key and the buckets when the stack is deleted;
``dev`` deletes them with the stack. Other settings per environment live under ``environments``.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import (
    AudienceExportSize,
    AudienceSizeType,
    BatchInferenceSettings,
    ColumnType,
    GlueTrainingTable,
    LookalikeAudiencePipeline,
    TrainingData,
    TrainingDataColumn,
    add_compliance_checks,
)

_REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


class AudiencePipelineStack(cdk.Stack):
    """The whole pipeline: key, seed bucket, roles, training dataset, audience model,
    configured model, audience-generation workflow, alarms and dashboard."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        training = settings.get("trainingTable", {})
        model = settings.get("audienceModel", {})
        batch = settings.get("batchInference", {})
        self.pipeline = LookalikeAudiencePipeline(
            self,
            "Pipeline",
            training_data=TrainingData(
                GlueTrainingTable(
                    database_name=str(training["databaseName"]),
                    table_name=str(training["tableName"]),
                    data_bucket=s3.Bucket.from_bucket_name(
                        self, "TrainingDataBucket", str(training["bucketName"])
                    ),
                    data_prefix=str(training.get("dataPrefix", "")),
                ),
                [
                    TrainingDataColumn(str(c["name"]), ColumnType[str(c["type"])])
                    for c in training["columns"]
                ],
            ),
            key_alias=settings.get("keyAlias"),
            seed_prefix=str(settings["seedPrefix"]),
            output_prefix=str(settings["outputPrefix"]),
            training_data_start_time=model.get("trainingDataStartTime"),
            training_data_end_time=model.get("trainingDataEndTime"),
            audience_size_bins=[int(b) for b in model["audienceSizeBins"]],
            min_matching_seed_size=model.get("minMatchingSeedSize"),
            export_sizes=[
                AudienceExportSize(AudienceSizeType.ABSOLUTE, int(size))
                for size in settings.get("exportSizes", [])
            ],
            job_name_prefix=str(settings.get("jobNamePrefix", "audience")),
            batch_inference=BatchInferenceSettings(
                model_id=str(batch["modelId"]),
                input_prefix=str(settings["batchInputPrefix"]),
                output_prefix=str(settings["batchOutputPrefix"]),
                timeout_duration_in_hours=batch.get("timeoutDurationInHours"),
            )
            if _flag(batch.get("enabled"))
            else None,
            create_alarm_topic=_flag(settings.get("createAlarmTopic", False)),
            removal_policy=_REMOVAL_POLICIES[str(settings["removalPolicy"]).lower()],
            tags={"pipeline": construct_id},
        )
        workflow = self.pipeline.workflow
        cdk.CfnOutput(self, "SeedBucketName", value=self.pipeline.seed_bucket.bucket_name)
        cdk.CfnOutput(
            self, "SeedAudienceUri", value=self.pipeline.seed_bucket.s3_uri(settings["seedPrefix"])
        )
        cdk.CfnOutput(self, "WorkflowArn", value=workflow.state_machine_arn)
        cdk.CfnOutput(
            self, "DashboardName", value=self.pipeline.monitoring.dashboard.dashboard_name
        )


def _flag(value: Any) -> bool:
    """A context flag: cdk.json gives booleans, `-c key=value` gives strings."""
    return str(value).lower() in ("true", "1", "yes")


def settings_of(app: cdk.App) -> dict[str, Any]:
    """The ``audiencePipeline`` context, its environment's settings, then `-c key=value`s."""
    settings: dict[str, Any] = dict(app.node.try_get_context("audiencePipeline") or {})
    for key in list(settings):
        given = app.node.try_get_context(key)
        if given is not None and key != "environments":
            settings[key] = _parsed(given, settings[key])
    environment = str(settings.get("environment", "prod"))
    environments = settings.get("environments", {})
    if environment not in environments:
        raise ValueError(
            f"context environment={environment!r} is not one of {sorted(environments)} "
            "(cdk.json: audiencePipeline.environments)"
        )
    return {**settings, **environments[environment], "environment": environment}


def _parsed(given: Any, current: Any) -> Any:
    """`-c key=value` values are strings: JSON-decode them where the setting is not one."""
    if isinstance(given, str) and not isinstance(current, str):
        try:
            return json.loads(given)
        except json.JSONDecodeError:
            return given
    return given


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the example stack and the compliance gate to ``app`` (a new one by default)."""
    app = app or cdk.App()
    settings = settings_of(app)
    AudiencePipelineStack(
        app,
        str(settings["stackName"]),
        settings=settings,
        description="Lookalike-audience pipeline on AWS Clean Rooms ML "
        f"({settings['environment']})",
    )
    add_compliance_checks(app)
    return app


if __name__ == "__main__":
    build_app().synth()
