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
import re
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


#: What each setting must be, in words, and a check; `-c key=value` overrides are held to it.
_RULES: dict[str, tuple[str, Any]] = {
    "environment": ("a name under 'environments'", lambda v: isinstance(v, str)),
    "stackName": ("a stack name", lambda v: isinstance(v, str) and v != ""),
    "removalPolicy": ("'retain' or 'destroy'", lambda v: str(v).lower() in _REMOVAL_POLICIES),
    "createAlarmTopic": ("true or false", lambda v: str(v).lower() in ("true", "false")),
    "keyAlias": ("an alias name such as 'alias/audiences'", lambda v: isinstance(v, str)),
    "seedPrefix": ("a folder such as 'seeds/'", lambda v: isinstance(v, str)),
    "outputPrefix": ("a folder such as 'audiences/'", lambda v: isinstance(v, str)),
    "batchInputPrefix": ("a folder such as 'batch-input/'", lambda v: isinstance(v, str)),
    "batchOutputPrefix": ("a folder such as 'batch-output/'", lambda v: isinstance(v, str)),
    "jobNamePrefix": ("a name prefix such as 'lookalike'", lambda v: isinstance(v, str)),
    "exportSizes": (
        "a JSON list of whole numbers, e.g. -c exportSizes='[10000, 50000]'",
        lambda v: isinstance(v, list) and all(_whole(x) for x in v),
    ),
    "trainingTable": (
        "an object with bucketName, databaseName, tableName and columns",
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(v.get(k), str) for k in ("bucketName", "databaseName", "tableName"))
            and isinstance(v.get("columns"), list)
            and all(isinstance(c, dict) and "name" in c and "type" in c for c in v["columns"])
        ),
    ),
    "audienceModel": (
        "an object with audienceSizeBins (a list of whole numbers)",
        lambda v: (
            isinstance(v, dict)
            and isinstance(v.get("audienceSizeBins"), list)
            and all(_whole(b) for b in v["audienceSizeBins"])
        ),
    ),
    "batchInference": (
        "an object with enabled (true/false) and, when enabled, modelId, e.g. -c "
        'batchInference=\'{"enabled": true, "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}\'',
        lambda v: (
            isinstance(v, dict)
            and (not _flag(v.get("enabled")) or isinstance(v.get("modelId"), str))
        ),
    ),
}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def settings_of(app: cdk.App) -> dict[str, Any]:
    """The ``audiencePipeline`` context, then its environment's settings, then `-c key=value`s.

    Every setting is checked, and a `-c` key that is no setting fails rather than being ignored.
    An object setting given with `-c` is merged over the one in cdk.json.
    """
    settings: dict[str, Any] = dict(app.node.try_get_context("audiencePipeline") or {})
    known = (set(settings) | set(_RULES)) - {"environments"}
    overrides: dict[str, Any] = {}
    for key, given in app.node.get_all_context().items():
        if key in known:
            overrides[key] = given
        elif re.fullmatch(r"[a-z][A-Za-z0-9]*", key) and key not in _OTHER_CONTEXT:
            raise ValueError(
                f"context {key}={given!r} is not a setting of this app; settings: "
                f"{', '.join(sorted(known))} (cdk.json: audiencePipeline)"
            )
    environment = str(overrides.get("environment", settings.get("environment", "prod")))
    environments = settings.get("environments", {})
    if environment not in environments:
        raise ValueError(
            f"context environment={environment!r} is not one of {sorted(environments)} "
            "(cdk.json: audiencePipeline.environments)"
        )
    merged = {**settings, **environments[environment]}
    for key, given in overrides.items():  # `-c` wins over cdk.json and its environment
        merged[key] = _parsed(key, given, merged.get(key))
    merged["environment"] = environment
    for key, (words, check) in _RULES.items():
        if key in merged and not check(merged[key]):
            raise ValueError(f"context {key}={merged[key]!r}: must be {words}")
    return merged


#: Context keys of the CDK itself (besides '@aws-cdk/...' flags and 'aws:...' keys).
_OTHER_CONTEXT = {"audiencePipeline"}


def _parsed(key: str, given: Any, current: Any) -> Any:
    """`-c key=value` values are strings: JSON-decode them where the setting is not one, and
    merge an object over the cdk.json object it overrides."""
    if isinstance(given, str) and not isinstance(current, str):
        try:
            given = json.loads(given)
        except json.JSONDecodeError:
            if isinstance(current, (list, dict)):
                words = _RULES[key][0] if key in _RULES else "JSON"
                raise ValueError(f"context {key}={given!r}: must be {words}") from None
            return given
    if isinstance(current, dict) and isinstance(given, dict):
        return {**current, **given}
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
