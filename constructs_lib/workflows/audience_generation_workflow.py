"""The audience-generation workflow: run lookalike audiences on demand, without a deploy.

A Standard state machine that checks its input, starts ``StartAudienceGenerationJob``, tracks the
job to its end with the stack's job-status state machine (a nested execution), exports the
audience in the configured sizes (tracking each export), optionally runs a Bedrock batch
inference job, and ends by publishing one EventBridge event with the outcome.

This module is the construct: it checks its properties (``props``), builds the definition
(``definition``: the chain of ``fragments``), and adds the role's permissions (``permissions``),
the failure alarm and the seed-file rule (``seed_trigger``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._internal.custom_resource import RoleLike, role_arn_of
from .._internal.grants import ManagedPolicyGrantee
from .._internal.outputs import publish_outputs
from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider
from .._internal.state_machines import failure_alarm, logged_state_machine
from .._internal.validation import check_api_value
from ..cleanrooms_ml.configured_audience_model import IConfiguredAudienceModel
from ..foundation.seed_bucket import SeedAudienceBucket
from ..tracking.job_status import JobStatusTracker
from .batch_inference_workflow import BatchInferenceWorkflow
from .definition import audience_generation_definition
from .permissions import grant_workflow_permissions
from .props import (
    INVALID_INPUT,
    WORKFLOW_EVENT_DETAIL_TYPE,
    WORKFLOW_EVENT_SOURCE,
    AudienceExportSize,
    check_batch_workflow,
    check_durations,
    check_generation_props,
    check_job_names,
    check_no_substitution,
    check_state_machine_name,
    input_check_settings,
    model_sizes_of,
)
from .seed_trigger import SeedFileTrigger

__all__ = [
    "INVALID_INPUT",
    "WORKFLOW_EVENT_DETAIL_TYPE",
    "WORKFLOW_EVENT_SOURCE",
    "AudienceExportSize",
    "AudienceGenerationWorkflow",
]


class AudienceGenerationWorkflow(Construct):
    """Audience generation on demand: a Standard state machine (child ``Resource``).

    Start it two ways:

    - drop a seed file (``*.jsonl``, one ``{"user_id": ...}`` per line) under ``seed_prefix`` of
      ``seed_bucket``: S3's EventBridge notification starts a run. The run is handed to an
      execution named after the object (``s3-<sha256 of bucket/key/sequencer>``), so a
      notification delivered twice starts one job;
    - start an execution with the JSON of
      ``aws cleanroomsml start-audience-generation-job --generate-cli-skeleton`` as input (your
      ``--cli-input-json`` file). ``name``, ``configuredAudienceModelArn`` and
      ``seedAudience.roleArn`` may be left out. The input is checked against the service model
      before any call; a bad one ends the run as ``INVALID_INPUT`` naming every problem.

    Every run ends with an event (``source`` = ``cleanrooms-ml-cdk.audience-generation``,
    ``detail-type`` = ``Audience Generation Workflow Finished``) whose ``detail`` carries
    ``outcome``, ``cause``, ``step``, ``plan`` (the checked requests), ``generation``,
    ``exports``, ``batch`` and ``executionArn``.

    Example::

        AudienceGenerationWorkflow(self, "Lookalikes",
            configured_audience_model=configured, seed_role=cleanrooms_ml_role,
            seed_bucket=seeds, seed_prefix="seeds/",
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)])
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        configured_audience_model: IConfiguredAudienceModel | str,
        seed_role: RoleLike,
        seed_bucket: s3.IBucket | SeedAudienceBucket | None = None,
        seed_prefix: str = "seeds/",
        job_name_prefix: str = "audience",
        include_seed_in_output: bool = False,
        collaboration_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        export_sizes: Sequence[AudienceExportSize] = (),
        max_concurrent_exports: int = 5,
        batch_inference: BatchInferenceWorkflow | None = None,
        event_bus: events.IEventBus | None = None,
        timeout: Duration | None = None,
        quota_wait: Duration | None = None,
        state_machine_name: str | None = None,
        stack_outputs: bool = True,
    ) -> None:
        """
        :param configured_audience_model: the ``ConfiguredAudienceModel`` (or its ARN) every run
            uses; a manual input naming another one is rejected.
        :param seed_role: role Clean Rooms ML assumes to read seeds (``seedAudience.roleArn``);
            the only role the workflow may pass.
        :param seed_bucket: bucket whose new seed files start runs; it must send events to
            EventBridge (``SeedAudienceBucket`` does; for another bucket, set
            ``event_bridge_enabled=True``). Default:
            no S3 trigger, manual starts only.
        :param seed_prefix:
            key prefix of seed files. Default: ``seeds/``.
        :param job_name_prefix: generated job names are ``<prefix>-<16 hex digits of the
            execution name's hash>``, 1-40 characters. Default: ``audience``.
        :param include_seed_in_output: ``includeSeedInOutput`` of S3-triggered runs (and of
            manual ones that leave it out). Default: false.
        :param collaboration_id:
            ``collaborationId`` for runs that leave it out. Default: none.
        :param description:
            ``description`` for runs that leave it out. Default: one naming the
            seed file or the execution.
        :param tags:
            tags of every generation job, plus ``cleanrooms-ml-cdk:execution``.
            Default: none.
        :param export_sizes: export the audience in these sizes after generation (each must be
            a size bin of the configured model), at most 25 (Clean Rooms ML's quota of active
            exports per generation job). Default: no export.
        :param max_concurrent_exports: exports a run starts at once, 1-20 (Clean Rooms ML's
            quota of 20 pending or in-progress export jobs per account). Default: 5.
        :param batch_inference:
            run Bedrock batch inference at the end of every run: a run of this
            ``BatchInferenceWorkflow`` (created with ``trigger_on_upload=False``) over the run's
            own input under the workflow's input location: a seed file
            ``<seed_prefix><path>.jsonl`` reads the folder ``<input location><path>/``; a manual
            run the ``batchInputS3Uri`` of its input (a folder or ``.jsonl`` file under that
            location), else all of it. The batch run splits the input into jobs within the
            model's limits and runs them under its quota. Default: none.
        :param event_bus:
            where the end event goes. Default: the account's default bus.
        :param timeout:
            a run's limit, 1 h-1 year. Default: 10 days (a generation job and its
            exports); with ``batch_inference``, the batch workflow's own run limit plus 10 days,
            at most a year (its jobs run in waves, each up to 168 hours).
        :param quota_wait: how long, on average, a start refused because the account's quota
            of jobs in flight is full (``ServiceQuotaExceededException``: 10 pending or running
            generation jobs, 20 export jobs; Bedrock's quota of batch jobs per model is the
            batch workflow's to wait for, under its own ``quota_wait``) keeps retrying
            before the run ends as CALL_FAILED; retries wait 1 minute doubling to 15 minutes,
            with full jitter, so a burst of seed files queues instead of failing. 1 minute to
            the run's ``timeout``. Default: 12 hours, or ``timeout`` when that is shorter.
        :param state_machine_name:
            Default: derived from the construct path.
        :param stack_outputs:
            publish the stack outputs ``<path>WorkflowArn``, ``<path>JobStatusStateMachineArn``,
            ``<path>SeedLocation`` (with a seed bucket) and ``<path>BatchOutputLocation`` (with
            a Bedrock step), each described ``cleanrooms-ml-cdk:<kind>:<path>``, which the
            ``audiences`` command reads. Default: True.
        """
        super().__init__(scope, construct_id)
        check_props(self, AudienceGenerationWorkflow.__init__, locals())
        self.tracker = JobStatusTracker.of(self)
        provider = CustomResourceProvider.of(self)
        model_arn = (
            configured_audience_model
            if isinstance(configured_audience_model, str)
            else configured_audience_model.configured_audience_model_arn
        )
        seed_role_arn = role_arn_of(seed_role)
        bucket = seed_bucket.bucket if isinstance(seed_bucket, SeedAudienceBucket) else seed_bucket
        check_generation_props(
            self,
            model_arn=model_arn,
            seed_role=seed_role,
            model_sizes=model_sizes_of(configured_audience_model),
            job_name_prefix=job_name_prefix,
            seed_prefix=seed_prefix,
            collaboration_id=collaboration_id,
            description=description,
            export_sizes=export_sizes,
            max_concurrent_exports=max_concurrent_exports,
        )
        if batch_inference is not None:
            check_batch_workflow(self, batch_inference)
        overall, self.quota_wait = check_durations(
            self,
            timeout,
            quota_wait,
            default_timeout=Duration.days(10)
            if batch_inference is None
            else Duration.seconds(
                min(365 * 86400, int(batch_inference.timeout.to_seconds()) + 10 * 86400)
            ),
        )
        self.state_machine_name = state_machine_name or Names.unique_resource_name(
            self, max_length=80, separator="-"
        )
        check_api_value(
            self,
            "state_machine_name",
            self.state_machine_name,
            service="stepfunctions",
            operation="CreateStateMachine",
            member="name",
        )
        check_state_machine_name(self, self.state_machine_name)
        #: Where the Bedrock step's batch runs write (``<output location><run id>/``), or None.
        self.batch_output_s3_uri = (
            batch_inference.output_s3_uri if batch_inference is not None else None
        )
        self.event_bus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )
        settings = input_check_settings(
            model_arn=model_arn,
            seed_role_arn=seed_role_arn,
            job_name_prefix=job_name_prefix,
            include_seed_in_output=include_seed_in_output,
            seed_prefix=seed_prefix,
            export_sizes=export_sizes,
            seed_bucket_name=bucket.bucket_name if bucket is not None else None,
            collaboration_id=collaboration_id,
            description=description,
            tags=tags,
            batch=None
            if batch_inference is None
            else {
                "inputS3Uri": batch_inference.input_s3_uri,
                "outputS3Uri": batch_inference.output_s3_uri,
                "workflowArn": batch_inference.state_machine_arn,
                "caller": self._own_arn(),
            },
        )
        check_no_substitution(
            self,
            [
                ("job_name_prefix", job_name_prefix),
                ("seed_prefix", seed_prefix),
                ("description", description),
                ("tags", tags),
            ],
        )
        check_job_names(
            self,
            job_name_prefix=job_name_prefix,
            export_sizes=export_sizes,
        )

        self.state_machine, self.log_group, permissions = logged_state_machine(
            self,
            name=self.state_machine_name,
            definition=audience_generation_definition(
                self,
                handler=provider.handler,
                settings=settings,
                own_arn=self._own_arn(),
                tracker=self.tracker.state_machine,
                event_bus=self.event_bus,
                quota_wait=self.quota_wait,
                export_sizes=export_sizes,
                max_concurrent_exports=max_concurrent_exports,
                batch_workflow=None if batch_inference is None else batch_inference.state_machine,
            ),
            timeout=Duration.seconds(overall),
            logs_key=provider.logs_key,
            role_description="Audience-generation workflow: starts and tracks jobs, publishes "
            "events",
        )
        grant_workflow_permissions(
            self,
            permissions,
            provider=provider,
            model_arn=model_arn,
            seed_role_arn=seed_role_arn,
            own_arn=self._own_arn(),
            event_bus=self.event_bus,
            batch_workflow=batch_inference,
            collaboration_id=collaboration_id,
        )
        self.failure_alarm = failure_alarm(
            self,
            self.state_machine,
            f"An audience generation run of {self.node.path} failed, timed out or was aborted; "
            "the run's end event and its execution log say why.",
            aborted=True,
        )
        self.seed_rule = (
            SeedFileTrigger(
                self,
                "SeedFiles",
                bucket=bucket,
                seed_prefix=seed_prefix,
                state_machine=self.state_machine,
                own_arn=self._own_arn(),
            ).rule
            if bucket is not None
            else None
        )
        #: The stack outputs published, by kind (empty with ``stack_outputs=False``).
        self.outputs = (
            publish_outputs(
                self,
                {
                    "WorkflowArn": self.state_machine_arn,
                    "JobStatusStateMachineArn": self.tracker.state_machine_arn,
                    "SeedLocation": f"s3://{bucket.bucket_name}/{seed_prefix}"
                    if bucket is not None
                    else None,
                    "BatchOutputLocation": self.batch_output_s3_uri,
                },
            )
            if stack_outputs
            else {}
        )

    # ---- attributes -----------------------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        """The workflow's ARN (start executions of it)."""
        return self.state_machine.state_machine_arn

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start runs (``states:StartExecution`` on this workflow).

        For a role, user or group, the permission is a customer-managed policy attached to it
        (child ``Start<id>`` of the workflow), not an inline policy, so the compliance gate's
        NIST/HIPAA/PCI ``IAMNoInlinePolicy`` rules pass. Any other grantee gets CDK's usual
        grant on its principal.
        """
        principal = grantee.grant_principal
        kind = next((k for k in ("role", "user", "group") if hasattr(principal, f"{k}_name")), None)
        node = getattr(principal, "node", None)
        if kind is None or node is None:
            return self.state_machine.grant_start_execution(grantee)
        policy = iam.ManagedPolicy(
            self,
            f"Start{Names.node_unique_id(node)}",
            description=f"Starts runs of {self.state_machine_name}",
        )
        getattr(policy, f"attach_to_{kind}")(principal)
        return iam.Grant.add_to_principal(
            grantee=ManagedPolicyGrantee(policy, principal),
            actions=["states:StartExecution"],
            resource_arns=[self.state_machine_arn],
        )

    def _own_arn(self) -> str:
        """The workflow's ARN from its known name (its definition starts executions of itself)."""
        return Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
