"""The stacks whose synthesized templates are kept as snapshots in ``tests/snapshots/``.

A snapshot is the template as CloudFormation receives it, made comparable and readable:
- asset hashes (the handler's and the provider framework's code) are replaced by ``ASSET``, so
  editing handler code does not touch the snapshots while every other change does;
- the ``CDKMetadata`` resource and its condition (the CDK version's analytics) are dropped;
- keys keep CDK's own order (so a reordered definition or policy shows too);
- each state machine's ``DefinitionString`` is shown as the JSON object it joins into, with each
  CloudFormation token written as ``${Ref:Id}`` or ``${Id.Attribute}``, so a change to a state
  reads as a change to that state in review.

The comparison (``tests/checks/test_snapshots.py``) is aws-cdk's integration-snapshot idea
offline: a change to what users deploy is visible as a snapshot diff. Refresh after an intended
change with ``make snapshots``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from tests.conftest import cdk_json_context, synth_stack
from tests.sfn_configurations import BUILDS

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """The file name of a snapshot: ``workflow, S3 trigger + exports`` -> ``workflow-s3-...``."""
    return _SLUG.sub("-", name.lower()).strip("-")


def _deploy_time_objects(stack: cdk.Stack) -> None:
    """The Clean Rooms ML objects and the deploy-time jobs (no workflow)."""
    from constructs_lib import (
        AudienceGenerationJob,
        AudienceModel,
        AudienceOutputConfig,
        AudienceSizeConfig,
        AudienceSizeType,
        BatchInferenceJob,
        ColumnType,
        ConfiguredAudienceModel,
        SeedAudience,
        TrainingDataColumn,
        TrainingDataset,
    )

    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/CleanRoomsMl")
    bedrock_role = iam.Role.from_role_arn(
        stack, "BedrockRole", "arn:aws:iam::123456789012:role/BedrockBatch"
    )
    dataset = TrainingDataset(
        stack,
        "Dataset",
        role=role,
        database_name="db",
        table_name="interactions",
        columns=[
            TrainingDataColumn("user_id", ColumnType.USER_ID),
            TrainingDataColumn("item_id", ColumnType.ITEM_ID),
            TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
        ],
    )
    model = AudienceModel(stack, "Model", training_dataset=dataset.training_dataset_arn)
    configured = ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model=model,
        output_config=AudienceOutputConfig("s3://out-bucket/audiences/", role),
        audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10000, 50000]),
        min_matching_seed_size=500,
    )
    AudienceGenerationJob(
        stack,
        "Job",
        configured_audience_model=configured,
        seed_audience=SeedAudience(role, data_source_s3_uri="s3://seed-bucket/seeds/seed.jsonl"),
    )
    BatchInferenceJob(
        stack,
        "Batch",
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        role=bedrock_role,
        input_s3_uri="s3://seed-bucket/batch-input/",
        output_s3_uri="s3://seed-bucket/batch-output/",
    )


def _example_app(environment: str) -> Callable[[Path], dict[str, Any]]:
    def synthesize(outdir: Path) -> dict[str, Any]:
        import app as example

        context = {**cdk_json_context(), "environment": environment}
        if environment == "dev":
            context["batchInference"] = json.dumps(
                {"enabled": True, "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}
            )
        assembly = example.build_app(cdk.App(outdir=str(outdir), context=context)).synth()
        [stack] = assembly.stacks
        template: dict[str, Any] = stack.template
        return template

    return synthesize


def _built(build: Callable[[cdk.Stack], None]) -> Callable[[Path], dict[str, Any]]:
    return lambda outdir: synth_stack(outdir, build).raw


#: snapshot name -> how its template is synthesized into a fresh output folder.
STACKS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "example app, prod": _example_app("prod"),
    "example app, dev with Bedrock": _example_app("dev"),
    "deploy-time objects and jobs": _built(_deploy_time_objects),
    **{name: _built(build) for name, build in BUILDS.items()},
}


def _token(part: dict[str, Any]) -> str:
    if "Ref" in part:
        return "${Ref:" + str(part["Ref"]) + "}"
    if "Fn::GetAtt" in part:
        return "${" + ".".join(str(p) for p in part["Fn::GetAtt"]) + "}"
    return "${" + json.dumps(part, sort_keys=True) + "}"


def _rendered_definition(body: Any) -> Any:
    if isinstance(body, str):
        return json.loads(body)
    parts = body["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else _token(p) for p in parts))


def normalized(template: dict[str, Any]) -> dict[str, Any]:
    """The snapshot form of ``template`` (see the module docstring)."""
    copy: dict[str, Any] = json.loads(_ASSET_HASH.sub("ASSET", json.dumps(template)))
    copy["Resources"].pop("CDKMetadata", None)
    copy.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if copy.get("Conditions") == {}:
        del copy["Conditions"]
    for resource in copy["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            properties = resource["Properties"]
            properties["DefinitionString"] = {
                "rendered": _rendered_definition(properties["DefinitionString"])
            }
    return copy


def snapshot_text(template: dict[str, Any]) -> str:
    return json.dumps(normalized(template), indent=1) + "\n"
