"""One Bedrock batch job of a ``BatchInferenceWorkflow`` shard: what it is created with
(``BatchJobSpec``), its synth-time check against the service model, and the
``CreateModelInvocationJob`` task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import defaults
from ..._internal.custom_resource import RoleLike, check_role_trusts, role_arn_of
from ..._internal.state_machines import retry_on_quota, retry_with_jitter, transient_errors
from ..._internal.validation import check_api_value
from ...bedrock.batch_inference_job import BatchVpcConfig, ModelInvocationType, S3InputFormat
from ...foundation.encryption_key import AudienceEncryptionKey, key_parts


@dataclass(frozen=True)
class BatchJobSpec:
    """What every Bedrock batch job of a ``BatchInferenceWorkflow`` is created with
    (``CreateModelInvocationJob``); each shard's job adds its own name, token, input file and
    output folder. The fields are the workflow's props of the same names.

    :param input_s3_uri: where the shards are (``s3://<bucket>/<shard_prefix>``).
    :param output_s3_uri: where Bedrock writes (``s3://<bucket>/<output_prefix>``).
    """

    model_id: str
    role: RoleLike
    input_s3_uri: str
    output_s3_uri: str
    output_encryption_key: kms.IKey | AudienceEncryptionKey | str | None = None
    timeout_duration_in_hours: int | None = None
    model_invocation_type: ModelInvocationType | None = None
    input_format: S3InputFormat = S3InputFormat.JSONL
    vpc_config: BatchVpcConfig | None = None
    tags: Mapping[str, str] | None = None


def check_job_spec(scope: Construct, spec: BatchJobSpec) -> None:
    """Check the workflow's job props against ``CreateModelInvocationJob``'s service model,
    each error naming the workflow's prop."""
    check_role_trusts(scope, "role", spec.role, defaults.BEDROCK_PRINCIPAL)
    key = spec.output_encryption_key
    for prop, member, value in (
        ("model_id", "modelId", spec.model_id),
        ("role", "roleArn", role_arn_of(spec.role)),
        ("shard_prefix", "inputDataConfig.s3InputDataConfig.s3Uri", spec.input_s3_uri),
        ("output_prefix", "outputDataConfig.s3OutputDataConfig.s3Uri", spec.output_s3_uri),
        ("timeout_duration_in_hours", "timeoutDurationInHours", spec.timeout_duration_in_hours),
        (
            "output_encryption_key",
            "outputDataConfig.s3OutputDataConfig.s3EncryptionKeyId",
            key if isinstance(key, str) else None,
        ),
        ("vpc_config", "vpcConfig", _vpc_request(spec.vpc_config)),
    ):
        check_api_value(
            scope,
            prop,
            value,
            service="bedrock",
            operation="CreateModelInvocationJob",
            member=member,
        )


def _vpc_request(vpc: BatchVpcConfig | None) -> dict[str, list[str]] | None:
    if vpc is None:
        return None
    return {"subnetIds": list(vpc.subnet_ids), "securityGroupIds": list(vpc.security_group_ids)}


def create_job(
    scope: Construct, state_id: str, parameters: dict[str, Any], result_path: str, quota_wait: int
) -> tasks.CallAwsService:
    """``CreateModelInvocationJob`` with ``parameters``, the new job's ARN at
    ``<result_path>.arn``: throttling and server errors retried with jitter, a full quota of
    jobs waited out for up to ``quota_wait`` seconds on average."""
    create = tasks.CallAwsService(
        scope,
        state_id,
        service="bedrock",
        action="createModelInvocationJob",
        iam_action="bedrock:CreateModelInvocationJob",
        iam_resources=["*"],
        parameters=parameters,
        result_selector={"arn.$": "$.JobArn"},
        result_path=result_path,
    )
    retry_with_jitter(create, transient_errors("bedrock"), 6)
    retry_on_quota(create, "bedrock", quota_wait)
    return create


def job_parameters(spec: BatchJobSpec) -> dict[str, Any]:
    """The ``CreateModelInvocationJob`` request (PascalCase) for one shard and attempt: its own
    name and token (run, shard and attempt), its input file and its output folder."""
    key_id, _ = key_parts(spec.output_encryption_key)
    output: dict[str, Any] = {
        "S3Uri.$": "States.Format('{}shard-{}/', $.plan.outputUri, $.shard.index)"
    }
    if key_id is not None:
        output["S3EncryptionKeyId"] = key_id
    parameters: dict[str, Any] = {
        "JobName.$": "States.Format('{}-{}-{}-{}', $.plan.jobNamePrefix, $.plan.runId, "
        "$.shard.index, $.attempts)",
        "ClientRequestToken.$": "States.Hash(States.Format('{}/{}/{}', $.plan.runId, "
        "$.shard.index, $.attempts), 'SHA-256')",
        "RoleArn": role_arn_of(spec.role),
        "ModelId": spec.model_id,
        "InputDataConfig": {
            "S3InputDataConfig": {
                "S3Uri.$": "$.shard.uri",
                "S3InputFormat": spec.input_format.value,
            }
        },
        "OutputDataConfig": {"S3OutputDataConfig": output},
    }
    if spec.timeout_duration_in_hours is not None:
        parameters["TimeoutDurationInHours"] = spec.timeout_duration_in_hours
    if spec.model_invocation_type is not None:
        parameters["ModelInvocationType"] = spec.model_invocation_type.value
    if spec.vpc_config is not None:
        parameters["VpcConfig"] = {
            "SubnetIds": list(spec.vpc_config.subnet_ids),
            "SecurityGroupIds": list(spec.vpc_config.security_group_ids),
        }
    if spec.tags:
        parameters["Tags"] = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
    return parameters
