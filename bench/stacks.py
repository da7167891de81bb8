"""The stacks the benchmark synthesizes: ours (one provider per stack) and a naive baseline
(one ``custom_resources.Provider`` and handler per resource, as most projects write it).

Run as a script, it synthesizes one stack in this fresh process and prints a JSON line with the
resource counts, template size and the wall time of building plus synthesizing:

    python bench/stacks.py ours|naive N OUTDIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASET_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/bench"
ROLE_ARN = "arn:aws:iam::111122223333:role/cleanrooms-ml-bench"


def build_ours(stack: object, n: int) -> None:
    from aws_cdk import aws_iam as iam

    from constructs_lib import (
        AudienceGenerationJob,
        AudienceModel,
        AudienceOutputConfig,
        ConfiguredAudienceModel,
        SeedAudience,
    )

    role = iam.Role.from_role_arn(stack, "Role", ROLE_ARN)  # type: ignore[arg-type]
    for i in range(n):
        model = AudienceModel(stack, f"Model{i}", training_dataset=DATASET_ARN)  # type: ignore[arg-type]
        configured = ConfiguredAudienceModel(
            stack,
            f"Configured{i}",
            audience_model=model,  # type: ignore[arg-type]
            output_config=AudienceOutputConfig(f"s3://bench-out/{i}/", role),
        )
        AudienceGenerationJob(
            stack,
            f"Job{i}",
            configured_audience_model=configured,  # type: ignore[arg-type]
            seed_audience=SeedAudience(role, f"s3://bench-seeds/{i}.jsonl"),
        )


NAIVE_HANDLER = "def on_event(event, context):\n    return {'PhysicalResourceId': 'x'}\n"


def build_naive(stack: object, n: int) -> None:
    """Per resource: its own handler Lambda (and role) and its own provider framework."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import custom_resources as cr

    def resource(construct_id: str, resource_type: str, properties: dict[str, object]) -> str:
        handler = lambda_.Function(
            stack,
            f"{construct_id}Handler",
            runtime=lambda_.Runtime.PYTHON_3_14,  # type: ignore[arg-type]
            handler="index.on_event",
            code=lambda_.Code.from_inline(NAIVE_HANDLER),
        )
        provider = cr.Provider(stack, f"{construct_id}Provider", on_event_handler=handler)  # type: ignore[arg-type]
        custom = cdk.CustomResource(
            stack,
            construct_id,
            service_token=provider.service_token,  # type: ignore[arg-type]
            resource_type=resource_type,
            properties=properties,
        )
        return custom.get_att_string("Arn")

    for i in range(n):
        model = resource(f"Model{i}", "Custom::AudienceModel", {"trainingDatasetArn": DATASET_ARN})
        configured = resource(
            f"Configured{i}", "Custom::ConfiguredAudienceModel", {"audienceModelArn": model}
        )
        resource(
            f"Job{i}", "Custom::AudienceGenerationJob", {"configuredAudienceModelArn": configured}
        )


def synthesize(kind: str, n: int, outdir: str) -> dict[str, object]:
    start = time.perf_counter()
    import aws_cdk as cdk

    # Count past CloudFormation's 500-resource limit instead of refusing at synth time.
    app = cdk.App(outdir=outdir, context={"@aws-cdk/core:stackResourceLimit": 0})
    stack = cdk.Stack(app, "Bench")
    (build_ours if kind == "ours" else build_naive)(stack, n)
    template = app.synth().get_stack_by_name("Bench").template
    elapsed = time.perf_counter() - start
    resources = template["Resources"].values()

    def count(resource_type: str) -> int:
        return sum(1 for r in resources if r["Type"] == resource_type)

    return {
        "kind": kind,
        "n": n,
        "resources": len(template["Resources"]),
        "lambda_functions": count("AWS::Lambda::Function"),
        "iam_roles": count("AWS::IAM::Role"),
        "state_machines": count("AWS::StepFunctions::StateMachine"),
        "template_bytes": len(json.dumps(template, separators=(",", ":"))),
        "synth_seconds": round(elapsed, 3),
    }


if __name__ == "__main__":
    print(json.dumps(synthesize(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
