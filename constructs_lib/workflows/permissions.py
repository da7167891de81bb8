"""What the audience-generation workflow's role may do: exactly the calls its definition makes,
as statements of its one managed policy (the role ignores the tasks' own grants)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_events as events
from constructs import Construct

from .._internal import defaults
from .._internal.bedrock_models import MODEL_WILDCARD_REASON, model_resource_arns
from .._internal.collaboration import (
    CALLED_VIA_CLEAN_ROOMS_ML,
    COLLABORATION_REASON,
    LIST_MEMBERS,
    collaboration_arn,
    model_account_jobs,
)
from .._internal.custom_resource import cleanrooms_ml_arn, role_arn_of
from .._internal.provider import CustomResourceProvider
from .._internal.service_role import ServiceRolePolicy
from ..bedrock.batch_inference_job import KMS_ACTIONS, grant_invoke_model
from ..foundation._key_policy import audience_key_statements, require_key_statements
from ..foundation.encryption_key import key_parts
from ..tracking.job_status import JobStatusTracker, state_machine_arn_of
from ..tracking.permissions import allow_own_executions, allow_sync_rule
from .batch.job_spec import BatchJobSpec

if TYPE_CHECKING:
    from .batch_inference_workflow import BatchInferenceWorkflow

#: Names of the batch runs an audience run starts: ``audience-<64 hex digits>`` (the input
#: check builds them, ``lambda/workflow_input.py``).
BATCH_RUN_PREFIX = "audience-"


def grant_workflow_permissions(
    scope: Construct,
    permissions: ServiceRolePolicy,
    *,
    provider: CustomResourceProvider,
    model_arn: str,
    seed_role_arn: str,
    own_arn: str,
    event_bus: events.IEventBus,
    batch_workflow: BatchInferenceWorkflow | None,
    collaboration_id: str | None = None,
) -> None:
    """Allow the workflow (``scope``) to start and track its jobs, pass the seed role, check
    its input, start itself and the tracker, and publish its end event; and, with
    ``batch_workflow``, start, wait for and stop that workflow's runs."""
    allow = permissions.allow
    reason = "Job ids are assigned by the service when a run starts them."
    # StartAudienceGenerationJob requires only the configured audience model as a resource
    # and lists no dependent action, also with a collaborationId (its condition key
    # cleanrooms-ml:CollaborationId aside): Service Authorization Reference, "Actions,
    # resources, and condition keys for AWS Clean Rooms ML", https://docs.aws.amazon.com/
    # service-authorization/latest/reference/list_awscleanroomsml.html. The cleanrooms
    # PassCollaboration / PassMembership actions belong to the custom-model APIs.
    # A configured model of another account (a collaboration's): its account's jobs too.
    jobs = [cleanrooms_ml_arn(scope, "audience-generation-job")]
    allow(
        ["cleanrooms-ml:StartAudienceGenerationJob"],
        [model_arn, *jobs, *model_account_jobs(scope, model_arn)],
        wildcard_reason=reason,
    )
    allow(
        [LIST_MEMBERS],
        [collaboration_arn(scope, collaboration_id)],
        wildcard_reason=COLLABORATION_REASON,
        conditions=CALLED_VIA_CLEAN_ROOMS_ML,
    )
    allow(
        ["cleanrooms-ml:StartAudienceExportJob", "cleanrooms-ml:TagResource"],
        [cleanrooms_ml_arn(scope, "audience-generation-job")],
        wildcard_reason=reason,
    )
    allow(
        ["iam:PassRole"],
        [seed_role_arn],
        conditions={"StringEquals": {"iam:PassedToService": defaults.CLEAN_ROOMS_ML_PRINCIPAL}},
    )
    grant_run_and_tracking(
        scope, permissions, provider=provider, own_arn=own_arn, event_bus=event_bus
    )
    if batch_workflow is not None:
        # startExecution.sync:2 of the batch workflow: StartExecution on it, DescribeExecution
        # and StopExecution on its executions (the audience runs name them "audience-..."),
        # and the managed rule, granted above ("IAM policies for Step Functions' optimized
        # integrations", https://docs.aws.amazon.com/step-functions/latest/dg/
        # stepfunctions-iam.html).
        allow(["states:StartExecution"], [batch_workflow.state_machine_arn])
        allow_own_executions(
            batch_workflow,  # its stack's account and Region
            permissions,
            batch_workflow.state_machine_name,
            BATCH_RUN_PREFIX,
            "Runs of the batch inference workflow this workflow starts (their names end with "
            "a hash of the audience run's).",
        )


def grant_run_and_tracking(
    scope: Construct,
    permissions: ServiceRolePolicy,
    *,
    provider: CustomResourceProvider,
    own_arn: str,
    event_bus: events.IEventBus,
) -> None:
    """What every workflow of the library needs to run: invoke the stack's handler, start
    itself (an S3 notification's hand-over) and the job-status tracker, wait for the tracker's
    executions (``startExecution.sync:2``) and publish its end event."""
    allow = permissions.allow
    allow(["lambda:InvokeFunction"], [provider.handler.function_arn])
    allow(["states:StartExecution"], [own_arn, state_machine_arn_of(scope)])
    allow(
        ["states:DescribeExecution", "states:StopExecution"],
        [
            Stack.of(scope).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{JobStatusTracker.state_machine_name_of(scope)}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        wildcard_reason="Executions of the job-status state machine this workflow starts "
        "(their names are assigned when a run starts them).",
    )
    allow_sync_rule(scope, permissions)
    allow(["events:PutEvents"], [event_bus.event_bus_arn])


def grant_batch_inference(
    scope: Construct, permissions: ServiceRolePolicy, step: BatchJobSpec
) -> None:
    """Create and tag Bedrock batch jobs of ``step``'s model, pass its role, use its output key
    (and make sure the key's policy lets Bedrock use it); a ``BedrockBatchInferenceRole`` gets
    what an inference profile needs."""
    allow = permissions.allow
    allow(
        ["bedrock:CreateModelInvocationJob", "bedrock:TagResource"],
        [
            Stack.of(scope).format_arn(
                service="bedrock", resource="model-invocation-job", resource_name="*"
            )
        ],
        wildcard_reason="Bedrock job ids are assigned when a run starts them.",
    )
    # The model is a required resource type of CreateModelInvocationJob (Service
    # Authorization Reference, "Actions, resources, and condition keys for Amazon
    # Bedrock", https://docs.aws.amazon.com/service-authorization/latest/reference/
    # list_amazonbedrock.html; "Required permissions for batch inference",
    # https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-permissions.html).
    allow(
        ["bedrock:CreateModelInvocationJob"],
        model_resource_arns(scope, step.model_id),
        wildcard_reason=MODEL_WILDCARD_REASON,
    )
    # An inference profile: Bedrock's service role invokes it and the models behind it.
    grant_invoke_model(scope, step.role, step.model_id)
    _, key = key_parts(step.output_encryption_key)
    if key is not None:
        allow(KMS_ACTIONS, [key.key_arn])
        require_key_statements(
            scope,
            key,
            audience_key_statements(scope, clean_rooms_ml=False),
            "batch_inference.output_encryption_key",
            "Bedrock writes batch inference output with it",
        )
    allow(
        ["iam:PassRole"],
        [role_arn_of(step.role)],
        conditions={"StringEquals": {"iam:PassedToService": defaults.BEDROCK_PRINCIPAL}},
    )
