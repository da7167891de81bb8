"""BatchInferenceJob: template, least privilege, and bad input (bedrock service model)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import (
    AudienceEncryptionKey,
    BatchInferenceJob,
    BatchVpcConfig,
    ConstructValidationError,
    ModelInvocationType,
    SeedAudienceBucket,
)
from constructs_lib._internal import contract as _contract
from tests.conftest import Synthesized, bedrock_role, synth_stack

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE_ARN = "arn:aws:iam::111122223333:role/bedrock-batch"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN a batch job wired to the library's bucket, key and Bedrock role
    def build(stack: cdk.Stack) -> None:
        key = AudienceEncryptionKey(stack, "Key")
        seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
        role = bedrock_role(stack, seeds, key)
        BatchInferenceJob(
            stack,
            "Batch",
            model_id=MODEL,
            role=role,
            input_s3_uri="s3://seeds-bucket/batch-input/",
            output_s3_uri="s3://seeds-bucket/batch-output/",
            output_encryption_key=key,
            timeout_duration_in_hours=48,
            model_invocation_type=ModelInvocationType.CONVERSE,
            vpc_config=BatchVpcConfig(["subnet-0abc"], ["sg-0abc"]),
            input_bucket_owner="111122223333",
            tags={"team": "ads"},
        )

    return synth_stack(tmp_path_factory.mktemp("batch"), build)


def _job(synthesized: Synthesized) -> dict[str, Any]:
    [job] = synthesized.resources(_contract.BEDROCK_BATCH_INFERENCE_JOB).values()
    return job


def test_request_carries_every_field_in_api_shape(synthesized: Synthesized) -> None:
    request = _job(synthesized)["Properties"]["Request"]
    assert request["modelId"] == MODEL
    assert request["inputDataConfig"] == {
        "s3InputDataConfig": {
            "s3InputFormat": "JSONL",
            "s3Uri": "s3://seeds-bucket/batch-input/",
            "s3BucketOwner": "111122223333",
        }
    }
    output = request["outputDataConfig"]["s3OutputDataConfig"]
    assert output["s3Uri"] == "s3://seeds-bucket/batch-output/"
    assert "Fn::GetAtt" in output["s3EncryptionKeyId"]
    assert request["vpcConfig"] == {"subnetIds": ["subnet-0abc"], "securityGroupIds": ["sg-0abc"]}
    assert request["timeoutDurationInHours"] == 48
    assert request["modelInvocationType"] == "Converse"
    assert "clientRequestToken" not in request  # derived from the CloudFormation request
    assert len(request["jobName"]) <= 63
    assert _job(synthesized)["Properties"]["Tags"] == {"team": "ads"}


def test_handler_may_manage_only_this_accounts_batch_jobs(synthesized: Synthesized) -> None:
    statements = [
        s
        for p in synthesized.resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    [bedrock] = [
        s
        for s in statements
        if "bedrock:CreateModelInvocationJob" in s["Action"] and isinstance(s["Action"], list)
    ]
    assert set(bedrock["Action"]) == {
        "bedrock:CreateModelInvocationJob",
        "bedrock:GetModelInvocationJob",
        "bedrock:StopModelInvocationJob",
        "bedrock:TagResource",
        "bedrock:UntagResource",
        "bedrock:ListTagsForResource",
    }
    assert ":model-invocation-job/*" in json.dumps(bedrock["Resource"])
    # The model is a resource of CreateModelInvocationJob too (Service Authorization Reference,
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html;
    # "Required permissions for batch inference",
    # https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-permissions.html):
    # the handler may create jobs of this foundation model in this Region, and no other.
    [model] = [s for s in statements if s["Action"] == "bedrock:CreateModelInvocationJob"]
    [arn] = [model["Resource"]["Fn::Join"][1]]
    assert arn[2:] == [":bedrock:", {"Ref": "AWS::Region"}, f"::foundation-model/{MODEL}"]
    pass_role = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert [s["Condition"] for s in pass_role] == [
        {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    ]


def test_job_is_tracked_with_the_event_rule(synthesized: Synthesized) -> None:
    assert len(synthesized.resources("AWS::StepFunctions::StateMachine")) == 1
    [rule] = synthesized.resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["source"] == ["aws.bedrock"]


def test_job_waits_for_its_role(synthesized: Synthesized) -> None:
    job = _job(synthesized)
    assert any(d.startswith("BatchRole") for d in job["DependsOn"])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"timeout_duration_in_hours": 12}, "timeout_duration_in_hours=12: must be >= 24"),
        ({"timeout_duration_in_hours": 169}, "timeout_duration_in_hours=169: must be <= 168"),
        ({"job_name": "bad name"}, "job_name='bad name': must be 1-63 letters or digits"),
        ({"model_id": "not a model!"}, "model_id='not a model!': must be a Bedrock model id"),
        (
            {"input_s3_uri": "https://bucket/in/"},
            r"input_s3_uri=.https://bucket/in/.: must be an S3 URI",
        ),
        ({"output_s3_uri": "s3://B/out/"}, r"output_s3_uri=.s3://B/out/.: must be an S3 URI"),
        ({"vpc_config": BatchVpcConfig([], ["sg-1"])}, "at least 1 items"),
        ({"client_request_token": "bad token!"}, "client_request_token='bad token!'"),
        ({"tags": {"aws:x": "1"}}, "must not start with 'aws:'"),
        ({"tags": {"bad#key": "1"}}, "must match"),
    ],
)
def test_fails_if_a_field_breaks_the_bedrock_model(
    stack: cdk.Stack, props: dict[str, Any], message: str
) -> None:
    base: dict[str, Any] = {
        "model_id": MODEL,
        "role": ROLE_ARN,
        "input_s3_uri": "s3://bucket-in/in/",
        "output_s3_uri": "s3://bucket-out/out/",
    }
    with pytest.raises(ConstructValidationError, match=message):
        BatchInferenceJob(stack, "Batch", **{**base, **props})


def test_fails_if_the_role_is_one_bedrock_cannot_assume(stack: cdk.Stack) -> None:
    # GIVEN a role of the app that only Clean Rooms ML may assume
    role = cdk.aws_iam.Role(
        stack, "Wrong", assumed_by=cdk.aws_iam.ServicePrincipal("cleanrooms-ml.amazonaws.com")
    )
    # WHEN it is passed as the batch job's service role THEN synth says whose role it is
    with pytest.raises(
        ConstructValidationError,
        match=r"Scratch/Batch: invalid role='Scratch/Wrong': the role trusts "
        r"cleanrooms-ml.amazonaws.com, but bedrock.amazonaws.com must assume it.*"
        r"BedrockBatchInferenceRole",
    ):
        BatchInferenceJob(
            stack,
            "Batch",
            model_id=MODEL,
            role=role,
            input_s3_uri="s3://bucket-in/in/",
            output_s3_uri="s3://bucket-out/out/",
        )


def test_model_id_forms_are_accepted(stack: cdk.Stack) -> None:
    for i, model_id in enumerate(
        [
            MODEL,
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-haiku",
        ]
    ):
        BatchInferenceJob(
            stack,
            f"Batch{i}",
            model_id=model_id,
            role=ROLE_ARN,
            input_s3_uri="s3://bucket-in/in/",
            output_s3_uri="s3://bucket-out/o/",
        )
