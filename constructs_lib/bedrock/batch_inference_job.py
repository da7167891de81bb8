"""Amazon Bedrock batch inference job, started at deploy time, as a custom resource."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._internal import contract, defaults
from .._internal.bedrock_models import (
    MODEL_WILDCARD_REASON,
    invoke_model_statements,
    model_resource_arns,
)
from .._internal.custom_resource import (
    RoleLike,
    check_role_trusts,
    check_tags,
    default_name,
    new_custom_resource,
    role_arn_of,
)
from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider
from .._internal.validation import check_api_value
from ..foundation._key_policy import render, statements_json
from ..foundation.bedrock_role import BedrockBatchInferenceRole
from ..foundation.encryption_key import AudienceEncryptionKey, key_parts
from ..tracking.job_status import JobStatusTracker

_SERVICE = "bedrock"
_OPERATION = "CreateModelInvocationJob"
KMS_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt"]
#: Warning id of a job whose (imported) service role misses the inference profile's InvokeModel.
ROLE_INVOKE_MODEL_WARNING = "cleanrooms-ml-cdk:bedrock-role-invoke-model"


class S3InputFormat(enum.Enum):
    """Format of the input files (``s3InputDataConfig.s3InputFormat``)."""

    JSONL = "JSONL"


class ModelInvocationType(enum.Enum):
    """Which runtime API the records are sent to (``modelInvocationType``)."""

    INVOKE_MODEL = "InvokeModel"
    CONVERSE = "Converse"


@dataclass(frozen=True)
class BatchVpcConfig:
    """Run the job's data access inside a VPC (``vpcConfig``): 1-16 subnets, 1-5 groups."""

    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]


class BatchInferenceJob(Construct):
    """A Bedrock batch inference job (``CreateModelInvocationJob``) started when the stack
    deploys, and tracked to its end by the stack's job-status state machine.

    The handler returns once Bedrock accepts the job. ``clientRequestToken`` defaults to a value
    derived from the CloudFormation request, so a retried create never starts a second job. A job
    is immutable: changing any field but ``tags`` starts a new job (with a new default name).
    Deleting the resource stops the job if it still runs (``StopModelInvocationJob``).

    Example::

        BatchInferenceJob(self, "SegmentCopy",
            model_id="anthropic.claude-3-haiku-20240307-v1:0",
            role=bedrock_role,
            input_s3_uri=seeds.s3_uri("batch-input/"),
            output_s3_uri=seeds.s3_uri("batch-output/"),
            output_encryption_key=key)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_id: str,
        role: RoleLike,
        input_s3_uri: str,
        output_s3_uri: str,
        job_name: str | None = None,
        input_format: S3InputFormat = S3InputFormat.JSONL,
        input_bucket_owner: str | None = None,
        output_encryption_key: kms.IKey | AudienceEncryptionKey | str | None = None,
        output_bucket_owner: str | None = None,
        vpc_config: BatchVpcConfig | None = None,
        timeout_duration_in_hours: int | None = None,
        model_invocation_type: ModelInvocationType | None = None,
        client_request_token: str | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """
        :param model_id: foundation model id, inference profile (id or ARN), or custom model
            ARN (``modelId``). The handler may create jobs only for this model.
        :param role:
            role Bedrock assumes (``roleArn``): a ``BedrockBatchInferenceRole`` (for
            an inference profile it gets ``bedrock:InvokeModel`` on the profile and its model),
            an ``iam.IRole`` or an ARN (for an inference profile, a synth warning lists the
            statements to add to it).
        :param input_s3_uri:
            ``s3://bucket/prefix/`` of the JSONL input
            (``s3InputDataConfig.s3Uri``).
        :param output_s3_uri:
            ``s3://bucket/prefix/`` for the output
            (``s3OutputDataConfig.s3Uri``).
        :param job_name:
            1-63 characters, letters, digits, ``+-.`` (``jobName``). Default:
            derived from the construct path plus a hash of the request.
        :param input_format:
            Default: ``JSONL``.
        :param input_bucket_owner:
            account that owns the input bucket. Default: none.
        :param output_encryption_key:
            key for the output (``s3EncryptionKeyId``). Default: the
            bucket's default encryption.
        :param output_bucket_owner:
            account that owns the output bucket. Default: none.
        :param vpc_config:
            subnets and security groups. Default: no VPC.
        :param timeout_duration_in_hours:
            24-168. Default: the service's default (168).
        :param model_invocation_type:
            ``InvokeModel`` or ``Converse``. Default: the service's.
        :param client_request_token:
            idempotency token. Default: derived from the CloudFormation
            request (a retried create returns the same job).
        :param tags: at most 49 tags (one is the handler's owner tag), updated in place.
        :param removal_policy:
            Default: ``RemovalPolicy.DESTROY`` (stops a running job).
        """
        super().__init__(scope, construct_id)
        check_props(self, BatchInferenceJob.__init__, locals())
        key_id, key = key_parts(output_encryption_key)
        check_role_trusts(self, "role", role, defaults.BEDROCK_PRINCIPAL)
        role_arn = role_arn_of(role)
        request: dict[str, object] = {
            "roleArn": role_arn,
            "modelId": model_id,
            "inputDataConfig": {
                "s3InputDataConfig": _drop_none(
                    {
                        "s3InputFormat": input_format.value,
                        "s3Uri": input_s3_uri,
                        "s3BucketOwner": input_bucket_owner,
                    }
                )
            },
            "outputDataConfig": {
                "s3OutputDataConfig": _drop_none(
                    {
                        "s3Uri": output_s3_uri,
                        "s3EncryptionKeyId": key_id,
                        "s3BucketOwner": output_bucket_owner,
                    }
                )
            },
            "vpcConfig": None
            if vpc_config is None
            else {
                "subnetIds": list(vpc_config.subnet_ids),
                "securityGroupIds": list(vpc_config.security_group_ids),
            },
            "timeoutDurationInHours": timeout_duration_in_hours,
            "modelInvocationType": None
            if model_invocation_type is None
            else model_invocation_type.value,
            "clientRequestToken": client_request_token,
        }
        request = _drop_none(request)
        job_name = job_name or default_name(self, request)
        for prop, member, value in (
            ("job_name", "jobName", job_name),
            ("role", "roleArn", role_arn),
            ("model_id", "modelId", model_id),
            ("input_s3_uri", "inputDataConfig.s3InputDataConfig.s3Uri", input_s3_uri),
            ("input_format", "inputDataConfig.s3InputDataConfig.s3InputFormat", input_format.value),
            (
                "input_bucket_owner",
                "inputDataConfig.s3InputDataConfig.s3BucketOwner",
                input_bucket_owner,
            ),
            ("output_s3_uri", "outputDataConfig.s3OutputDataConfig.s3Uri", output_s3_uri),
            (
                "output_encryption_key",
                "outputDataConfig.s3OutputDataConfig.s3EncryptionKeyId",
                key_id,
            ),
            (
                "output_bucket_owner",
                "outputDataConfig.s3OutputDataConfig.s3BucketOwner",
                output_bucket_owner,
            ),
            ("vpc_config", "vpcConfig", request.get("vpcConfig")),
            ("timeout_duration_in_hours", "timeoutDurationInHours", timeout_duration_in_hours),
            ("client_request_token", "clientRequestToken", client_request_token),
        ):
            check_api_value(
                self, prop, value, service=_SERVICE, operation=_OPERATION, member=member
            )
        check_tags(
            self,
            tags,
            _OPERATION,
            service=_SERVICE,
            tag_shape=lambda user_tags: [{"key": k, "value": v} for k, v in user_tags.items()],
        )

        JobStatusTracker.of(self)
        stack = Stack.of(self)
        provider = CustomResourceProvider.of(self)
        provider.allow(
            [
                "bedrock:CreateModelInvocationJob",
                "bedrock:GetModelInvocationJob",
                "bedrock:StopModelInvocationJob",
                "bedrock:TagResource",
                "bedrock:UntagResource",
                "bedrock:ListTagsForResource",
            ],
            [
                stack.format_arn(
                    service="bedrock", resource="model-invocation-job", resource_name="*"
                )
            ],
            wildcard_reason="Bedrock assigns job ids at create time; the handler is limited to "
            "this account's and region's batch inference jobs.",
        )
        # The model is a resource of CreateModelInvocationJob too (Service Authorization
        # Reference, "Actions, resources, and condition keys for Amazon Bedrock",
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html;
        # Bedrock's "Required permissions for batch inference" example scopes the action to the
        # foundation-model ARN and model-invocation-job/*,
        # https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-permissions.html).
        provider.allow(
            ["bedrock:CreateModelInvocationJob"],
            model_resource_arns(self, model_id),
            wildcard_reason=MODEL_WILDCARD_REASON,
        )
        grant_invoke_model(self, role, model_id)
        provider.allow_pass_role(role_arn, defaults.BEDROCK_PRINCIPAL)
        if key is not None:
            provider.allow(KMS_ACTIONS, [key.key_arn])
        self.resource = new_custom_resource(
            self,
            resource_type=contract.BEDROCK_BATCH_INFERENCE_JOB,
            request={"jobName": job_name, **request},
            tags=tags,
            removal_policy=removal_policy,
            depends_on=(role,),
        )
        self.job_name = job_name

    @property
    def job_arn(self) -> str:
        """The job's ARN (the custom resource's physical id)."""
        return self.resource.get_att_string("JobArn")


def _drop_none(values: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


def grant_invoke_model(scope: Construct, role: RoleLike, model_id: str) -> None:
    """Give a batch job's service role what its model needs, or say what to add.

    A ``BedrockBatchInferenceRole`` gets ``grant_invoke_model(model_id)``; any other role, when
    the model is (or, unresolved, may be) an inference profile, gets a synth warning
    (``cleanrooms-ml-cdk:bedrock-role-invoke-model``) on ``scope`` listing the statements as JSON.
    Shared by ``BatchInferenceJob`` and the workflow's Bedrock step.
    """
    if isinstance(role, BedrockBatchInferenceRole):
        role.grant_invoke_model(model_id)
        return
    statements = invoke_model_statements(scope, model_id)
    if statements:
        Annotations.of(scope).add_warning_v2(
            ROLE_INVOKE_MODEL_WARNING,
            f"{scope.node.path}: model_id {render(scope, model_id)} is (or, unresolved, may be) "
            "an inference profile, and role is not a BedrockBatchInferenceRole, so its policy "
            "cannot be extended here. Bedrock's batch inference service role needs "
            "bedrock:InvokeModel on the profile and on the foundation model in each of its "
            "Regions (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-iam-sr.html)."
            f" Add these statements to the role's policy: {statements_json(scope, statements)}",
        )
