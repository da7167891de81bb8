"""The audience-generation workflow: run lookalike audiences on demand, without a deploy.

A Standard state machine that checks its input, starts ``StartAudienceGenerationJob``, tracks the
job to its end with the stack's job-status state machine (a nested execution), exports the
audience in the configured sizes (tracking each export), optionally runs a Bedrock batch
inference job, and ends by publishing one EventBridge event with the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .._internal import contract, defaults
from .._internal.bedrock_models import MODEL_WILDCARD_REASON, model_resource_arns
from .._internal.custom_resource import RoleLike, cleanrooms_ml_arn, role_arn_of
from .._internal.provider import CustomResourceProvider
from .._internal.state_machines import (
    failure_alarm,
    logged_state_machine,
    publish_event,
    read_nested_failure,
    retry_on_quota,
    retry_with_jitter,
    rule_with_role,
    transient_errors,
)
from .._internal.validation import check_api_value, check_int_range, fail, is_unresolved
from ..bedrock.batch_inference_job import (
    KMS_ACTIONS,
    BatchVpcConfig,
    ModelInvocationType,
    S3InputFormat,
    grant_invoke_model,
)
from ..cleanrooms_ml.configured_audience_model import AudienceSizeType, IConfiguredAudienceModel
from ..foundation._key_policy import audience_key_statements, require_key_statements
from ..foundation.encryption_key import AudienceEncryptionKey, key_parts
from ..foundation.seed_bucket import SeedAudienceBucket
from ..tracking.job_status import JobStatusTracker, state_machine_arn_of

#: EventBridge ``source`` and ``detail-type`` of the event every workflow execution ends with.
WORKFLOW_EVENT_SOURCE = "cleanrooms-ml-cdk.audience-generation"
WORKFLOW_EVENT_DETAIL_TYPE = "Audience Generation Workflow Finished"

#: Workflow outcomes besides the tracker's (SUCCEEDED, FAILED, TIMED_OUT, UNKNOWN_STATUS,
#: CALL_FAILED): the input was rejected before any call.
INVALID_INPUT = "INVALID_INPUT"

#: AWS Clean Rooms ML quotas ("AWS Clean Rooms ML quotas", Clean Rooms user guide).
CLEAN_ROOMS_ML_QUOTAS_PAGE = (
    "https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html"
)
MAX_CONCURRENT_EXPORT_JOBS = 20
MAX_EXPORTS_PER_GENERATION_JOB = 25

_GENERATION_FIELDS = (
    "Name",
    "ConfiguredAudienceModelArn",
    "SeedAudience",
    "IncludeSeedInOutput",
    "Description",
    "Tags",
)


@dataclass(frozen=True)
class AudienceExportSize:
    """One export of every generated audience (``StartAudienceExportJob.audienceSize``); it
    must be one of the configured audience model's size bins."""

    type: AudienceSizeType
    value: int


@dataclass(frozen=True)
class BatchInferenceStep:
    """A Bedrock batch inference job after the audience is generated and exported
    (``CreateModelInvocationJob``); one job per run, named after the generation job.

    :param model_id: foundation model id, inference profile, or custom model ARN.
    :param role: role Bedrock assumes (a ``BedrockBatchInferenceRole``, an ``iam.IRole`` or an
        ARN).
    :param input_s3_uri: ``s3://bucket/prefix/`` of the JSONL model inputs (Bedrock's record
        format, ``{"recordId", "modelInput"}``).
    :param output_s3_uri: ``s3://bucket/prefix/``; each run writes under ``<job name>/``.
    :param output_encryption_key: key for the output. Default: the bucket's default encryption.
    :param timeout_duration_in_hours: 24-168. Default: the service's default (168).
    :param model_invocation_type: ``InvokeModel`` or ``Converse``. Default: the service's.
    :param input_format: Default: ``JSONL``.
    :param vpc_config: subnets and security groups. Default: no VPC.
    :param tags: tags of every job. Default: none.
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
        batch_inference: BatchInferenceStep | None = None,
        event_bus: events.IEventBus | None = None,
        timeout: Duration | None = None,
        quota_wait: Duration | None = None,
        state_machine_name: str | None = None,
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
        :param seed_prefix: key prefix of seed files. Default: ``seeds/``.
        :param job_name_prefix: generated job names are ``<prefix>-<16 hex digits of the
            execution name's hash>``, 1-40 characters. Default: ``audience``.
        :param include_seed_in_output: ``includeSeedInOutput`` of S3-triggered runs (and of
            manual ones that leave it out). Default: false.
        :param collaboration_id: ``collaborationId`` for runs that leave it out. Default: none.
        :param description: ``description`` for runs that leave it out. Default: one naming the
            seed file or the execution.
        :param tags: tags of every generation job, plus ``cleanrooms-ml-cdk:execution``.
            Default: none.
        :param export_sizes: export the audience in these sizes after generation (each must be
            a size bin of the configured model), at most 25 (Clean Rooms ML's quota of active
            exports per generation job). Default: no export.
        :param max_concurrent_exports: exports a run starts at once, 1-20 (Clean Rooms ML's
            quota of 20 pending or in-progress export jobs per account). Default: 5.
        :param batch_inference: run a Bedrock batch inference job at the end. Default: none.
        :param event_bus: where the end event goes. Default: the account's default bus.
        :param timeout: a run's limit, 1 h-1 year. Default: 10 days (a generation job, exports
            and a Bedrock job of up to 168 hours).
        :param quota_wait: how long, on average, a start refused because the account's quota
            of jobs in flight is full (``ServiceQuotaExceededException``: 10 pending or running
            generation jobs, 20 export jobs, Bedrock's batch jobs per model) keeps retrying
            before the run ends as CALL_FAILED; retries wait 1 minute doubling to 15 minutes,
            with full jitter, so a burst of seed files queues instead of failing. 1 minute to
            the run's ``timeout``. Default: 12 hours.
        :param state_machine_name: Default: derived from the construct path.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.tracker = JobStatusTracker.of(self)
        provider = CustomResourceProvider.of(self)
        model_arn = (
            configured_audience_model
            if isinstance(configured_audience_model, str)
            else configured_audience_model.configured_audience_model_arn
        )
        seed_role_arn = role_arn_of(seed_role)
        bucket = seed_bucket.bucket if isinstance(seed_bucket, SeedAudienceBucket) else seed_bucket
        self._check(
            job_name_prefix, seed_prefix, collaboration_id, description, export_sizes,
            max_concurrent_exports,
        )  # fmt: skip
        overall = int((timeout or Duration.days(10)).to_seconds())
        check_int_range(self, "timeout (seconds)", overall, minimum=3600, maximum=365 * 86400)
        self.quota_wait = int((quota_wait or Duration.hours(12)).to_seconds())
        check_int_range(self, "quota_wait (seconds)", self.quota_wait, minimum=60, maximum=overall)
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
        self.event_bus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )
        settings: dict[str, Any] = {
            "configuredAudienceModelArn": model_arn,
            "roleArn": seed_role_arn,
            "jobNamePrefix": job_name_prefix,
            "includeSeedInOutput": include_seed_in_output,
            "seedPrefix": seed_prefix,
            "exportSizes": [{"type": e.type.value, "value": e.value} for e in export_sizes],
        }
        if bucket is not None:
            settings["seedBucket"] = bucket.bucket_name
        if collaboration_id:
            settings["collaborationId"] = collaboration_id
        if description:
            settings["description"] = description
        if tags:
            settings["tags"] = dict(tags)
        if batch_inference is not None:
            settings["batch"] = {"outputS3Uri": batch_inference.output_s3_uri}
        self._settings = settings
        self._batch = batch_inference
        if batch_inference is not None:
            self._check_batch(batch_inference)

        self.state_machine, self.log_group, self._permissions = logged_state_machine(
            self,
            name=self.state_machine_name,
            definition=self._definition(provider, export_sizes, max_concurrent_exports),
            timeout=Duration.seconds(overall),
            logs_key=provider.logs_key,
            role_description="Audience-generation workflow: starts and tracks jobs, publishes "
            "events",
        )
        self._grant(stack, provider, model_arn, seed_role_arn)
        self.failure_alarm = failure_alarm(
            self,
            self.state_machine,
            f"An audience generation run of {self.node.path} failed, timed out or was aborted; "
            "the run's end event and its execution log say why.",
            aborted=True,
        )
        self.seed_rule = self._seed_trigger(bucket, seed_prefix) if bucket is not None else None

    # ---- attributes -----------------------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        """The workflow's ARN (start executions of it)."""
        return self.state_machine.state_machine_arn

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start runs (``states:StartExecution``)."""
        return self.state_machine.grant_start_execution(grantee)

    def _own_arn(self) -> str:
        """The workflow's ARN from its known name (its definition starts executions of itself)."""
        return Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    # ---- validation ----------------------------------------------------------------------------

    def _check(
        self,
        job_name_prefix: str,
        seed_prefix: str,
        collaboration_id: str | None,
        description: str | None,
        export_sizes: Sequence[AudienceExportSize],
        max_concurrent_exports: int,
    ) -> None:
        operation = "StartAudienceGenerationJob"
        if not is_unresolved(job_name_prefix) and not 1 <= len(job_name_prefix) <= 40:
            raise fail(self, "job_name_prefix", job_name_prefix, "must have 1-40 characters")
        check_api_value(
            self,
            "job_name_prefix",
            job_name_prefix,
            service="cleanroomsml",
            operation=operation,
            member="name",
        )
        for prop, member, value in (
            ("collaboration_id", "collaborationId", collaboration_id),
            ("description", "description", description),
        ):
            check_api_value(
                self, prop, value, service="cleanroomsml", operation=operation, member=member
            )
        if seed_prefix.startswith("/"):
            raise fail(self, "seed_prefix", seed_prefix, "is a key prefix: no leading '/'")
        for i, size in enumerate(export_sizes):
            check_api_value(
                self,
                f"export_sizes[{i}].value",
                size.value,
                service="cleanroomsml",
                operation="StartAudienceExportJob",
                member="audienceSize.value",
            )
            if size.type is AudienceSizeType.PERCENTAGE and not 1 <= size.value <= 100:
                raise fail(
                    self, f"export_sizes[{i}].value", size.value, "a percentage must be 1-100"
                )
        # AWS Clean Rooms ML quotas (CLEAN_ROOMS_ML_QUOTAS_PAGE): 20 pending or in-progress
        # export jobs per account, 25 active exports per audience generation job.
        if len(export_sizes) > MAX_EXPORTS_PER_GENERATION_JOB:
            raise fail(
                self,
                "export_sizes",
                f"{len(export_sizes)} sizes",
                f"at most {MAX_EXPORTS_PER_GENERATION_JOB}: Clean Rooms ML allows "
                f"{MAX_EXPORTS_PER_GENERATION_JOB} active exports per audience generation job "
                f"({CLEAN_ROOMS_ML_QUOTAS_PAGE})",
            )
        if not 1 <= max_concurrent_exports <= MAX_CONCURRENT_EXPORT_JOBS:
            raise fail(
                self,
                "max_concurrent_exports",
                max_concurrent_exports,
                f"must be 1-{MAX_CONCURRENT_EXPORT_JOBS}: Clean Rooms ML allows "
                f"{MAX_CONCURRENT_EXPORT_JOBS} pending or in-progress export jobs per account "
                f"({CLEAN_ROOMS_ML_QUOTAS_PAGE})",
            )

    def _check_batch(self, step: BatchInferenceStep) -> None:
        for prop, member, value in (
            ("batch_inference.model_id", "modelId", step.model_id),
            ("batch_inference.role", "roleArn", role_arn_of(step.role)),
            (
                "batch_inference.input_s3_uri",
                "inputDataConfig.s3InputDataConfig.s3Uri",
                step.input_s3_uri,
            ),
            (
                "batch_inference.output_s3_uri",
                "outputDataConfig.s3OutputDataConfig.s3Uri",
                step.output_s3_uri,
            ),
            (
                "batch_inference.timeout_duration_in_hours",
                "timeoutDurationInHours",
                step.timeout_duration_in_hours,
            ),
        ):
            check_api_value(
                self,
                prop,
                value,
                service="bedrock",
                operation="CreateModelInvocationJob",
                member=member,
            )

    # ---- definition ----------------------------------------------------------------------------

    def _definition(
        self,
        provider: CustomResourceProvider,
        export_sizes: Sequence[AudienceExportSize],
        max_concurrent_exports: int,
    ) -> sfn.IChainable:
        finish = self._finish()
        begin = sfn.Pass(
            self,
            "Begin",
            parameters={
                "input.$": "$",
                "plan": {},
                "generation": {},
                "exports": [],
                "batch": {},
            },
        )
        prepare = tasks.LambdaInvoke(
            self,
            "CheckInput",
            lambda_function=provider.handler,
            payload=sfn.TaskInput.from_object(
                {
                    "Action": contract.PREPARE_ACTION,
                    "Input.$": "$.input",
                    "ExecutionName.$": "$$.Execution.Name",
                    "Settings": self._settings,
                }
            ),
            payload_response_only=False,
            result_selector={"plan.$": "$.Payload"},
            result_path="$.prepared",
            retry_on_service_exceptions=True,
        )
        rejected = self._end("InputRejected", INVALID_INPUT, "input", finish, "$.rejected.message")
        prepare.add_catch(
            sfn.Pass(
                self,
                "ReadRejection",
                parameters={"message.$": "States.StringToJson($.error.Cause)"},
                result_path="$.rejected",
            )
            .next(
                sfn.Pass(
                    self,
                    "RejectionMessage",
                    parameters={"message.$": "$.rejected.message.errorMessage"},
                    result_path="$.rejected",
                )
            )
            .next(rejected),
            errors=[contract.WORKFLOW_INPUT_ERROR],
            result_path="$.error",
        )
        self._catch_call(prepare, "CheckInput", "input", finish)
        keep_plan = sfn.Pass(self, "KeepPlan", input_path="$.prepared.plan", result_path="$.plan")
        chain = begin.next(prepare).next(keep_plan).next(self._start_generation(finish))
        chain = chain.next(self._track_generation(finish))
        if export_sizes:
            chain = chain.next(self._exports(finish, max_concurrent_exports))
        if self._batch is not None:
            chain = chain.next(self._batch_inference(self._batch, finish))
        chain.next(
            self._end(
                "AudienceReady",
                "SUCCEEDED",
                "done",
                finish,
                "States.Format('audience generation job {} and its exports are done', "
                "$.plan.jobName)",
            )
        )
        return (
            sfn.Choice(self, "SeedFileNotification")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.source"),
                    sfn.Condition.string_equals("$.source", "aws.s3"),
                    sfn.Condition.is_present("$.detail.object.key"),
                ),
                self._hand_over(),
            )
            .otherwise(begin)
        )

    def _hand_over(self) -> sfn.IChainable:
        """An S3 notification starts the run under a name derived from the object: a second
        delivery of the same notification finds the name taken and ends here."""
        detail = "$.detail"
        start = tasks.StepFunctionsStartExecution(
            self,
            "HandOverSeedFile",
            state_machine=sfn.StateMachine.from_state_machine_arn(self, "Self", self._own_arn()),
            integration_pattern=sfn.IntegrationPattern.REQUEST_RESPONSE,
            name=sfn.JsonPath.format(
                "s3-{}",
                sfn.JsonPath.hash(
                    sfn.JsonPath.format(
                        "{}/{}/{}",
                        sfn.JsonPath.string_at(f"{detail}.bucket.name"),
                        sfn.JsonPath.string_at(f"{detail}.object.key"),
                        sfn.JsonPath.string_at(f"{detail}.object.sequencer"),
                    ),
                    "SHA-256",
                ),
            ),
            input=sfn.TaskInput.from_object(
                {
                    "seedObject": {
                        "bucket.$": f"{detail}.bucket.name",
                        "key.$": f"{detail}.object.key",
                        "sequencer.$": f"{detail}.object.sequencer",
                    }
                }
            ),
            result_selector={"executionArn.$": "$.ExecutionArn"},
            result_path="$.handedOver",
        )
        retry_with_jitter(
            start,
            ["StepFunctions.ThrottlingException", "StepFunctions.ExecutionLimitExceededException"],
            6,
        )
        start.add_catch(
            sfn.Succeed(self, "AlreadyHandedOver"),
            errors=["StepFunctions.ExecutionAlreadyExistsException"],
            result_path=sfn.JsonPath.DISCARD,
        )
        return start.next(sfn.Succeed(self, "HandedOver"))

    def _start_generation(self, finish: sfn.IChainable) -> sfn.IChainable:
        def start(state_id: str, extra: tuple[str, ...]) -> tasks.CallAwsService:
            task = tasks.CallAwsService(
                self,
                state_id,
                service="cleanroomsml",
                action="startAudienceGenerationJob",
                iam_action="cleanrooms-ml:StartAudienceGenerationJob",
                iam_resources=["*"],  # the role ignores task grants; see _grant
                parameters={
                    f"{field}.$": f"$.plan.request.{field}"
                    for field in (*_GENERATION_FIELDS, *extra)
                },
                result_selector={"arn.$": "$.AudienceGenerationJobArn"},
                result_path="$.generation",
            )
            retry_with_jitter(task, transient_errors("cleanroomsml"), 6)
            retry_on_quota(task, "cleanroomsml", self.quota_wait)
            self._catch_call(task, state_id, "generation", finish)
            return task

        return (
            sfn.Choice(self, "InCollaboration")
            .when(
                sfn.Condition.is_present("$.plan.request.CollaborationId"),
                start("StartGenerationJobInCollaboration", ("CollaborationId",)),
            )
            .otherwise(start("StartGenerationJob", ()))
            .afterwards()
        )

    def _track(
        self,
        state_id: str,
        tracker_input: Mapping[str, Any],
        result_path: str,
        *,
        name: str | None = None,
    ) -> tasks.StepFunctionsStartExecution:
        """Run the job-status state machine for one job and wait for its end."""
        return tasks.StepFunctionsStartExecution(
            self,
            state_id,
            state_machine=self.tracker.state_machine,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            input=sfn.TaskInput.from_object(dict(tracker_input)),
            name=name,
            associate_with_parent=True,
            result_selector={
                "status.$": "$.Output.result.Status",
                "trackedBy.$": "$.ExecutionArn",
            },
            result_path=result_path,
        )

    def _catch_tracking(
        self,
        task: sfn.TaskStateBase,
        state_id: str,
        step: str,
        finish: sfn.IChainable | None,
        aborted: sfn.IChainable | None = None,
    ) -> None:
        """A failed tracking execution ends the run with the tracker's outcome and cause.

        The nested execution's description arrives as the JSON cause of the task's error; any
        other error (the start call itself failed) is CALL_FAILED. With ``finish`` the run ends
        there; without (inside the export Map) the iteration fails with the outcome as its
        error name, which the Map's own catcher then reports. ``aborted`` takes over when the
        tracking execution was stopped.
        """

        def end(suffix: str, error: str, cause: str) -> sfn.IChainable:
            state_id_end = f"{state_id}{suffix}"
            if finish is None:
                from_path = error.startswith("$")
                return sfn.Fail(
                    self,
                    state_id_end,
                    error=None if from_path else error,
                    error_path=error if from_path else None,
                    cause_path=cause,
                )
            outcome = {"outcome.$": error} if error.startswith("$") else {"outcome": error}
            return sfn.Pass(
                self,
                state_id_end,
                parameters={**outcome, "cause.$": cause, "step": step},
                result_path="$.end",
            ).next(finish)

        described = read_nested_failure(self, state_id, end, aborted=aborted)
        task.add_catch(described, errors=["States.ALL"], result_path="$.error")

    def _catch_call(
        self, task: sfn.TaskStateBase, state_id: str, step: str, finish: sfn.IChainable
    ) -> None:
        """Any other error (after the retries) ends the run as CALL_FAILED with its cause."""
        task.add_catch(
            self._end(f"{state_id}CallFailed", "CALL_FAILED", step, finish, "$.error.Cause"),
            errors=["States.ALL"],
            result_path="$.error",
        )

    def _track_generation(self, finish: sfn.IChainable) -> sfn.IChainable:
        task = self._track(
            "TrackGenerationJob",
            {"kind": contract.KIND_AUDIENCE_GENERATION_JOB, "arn.$": "$.generation.arn"},
            "$.generation.tracking",
        )
        self._catch_tracking(task, "TrackGenerationJob", "generation", finish)
        return task

    def _exports(self, finish: sfn.IChainable, concurrency: int) -> sfn.IChainable:
        start = tasks.CallAwsService(
            self,
            "StartExport",
            service="cleanroomsml",
            action="startAudienceExportJob",
            iam_action="cleanrooms-ml:StartAudienceExportJob",
            iam_resources=["*"],
            parameters={
                "Name.$": "$.export.Name",
                "AudienceGenerationJobArn.$": "$.arn",
                "AudienceSize.$": "$.export.AudienceSize",
                "Description.$": "$.export.Description",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        retry_with_jitter(start, transient_errors("cleanroomsml"), 6)
        retry_on_quota(start, "cleanroomsml", self.quota_wait)
        track = self._track(
            "TrackExport",
            {
                "kind": contract.KIND_AUDIENCE_EXPORT_JOB,
                "arn.$": "$.arn",
                "exportName.$": "$.export.Name",
            },
            "$.tracking",
        )
        # A retried run finds its export already started: track it.
        start.add_catch(
            track, errors=["CleanRoomsMl.ConflictException"], result_path=sfn.JsonPath.DISCARD
        )
        start.add_catch(
            sfn.Fail(self, "StartExportFailed", error="CALL_FAILED", cause_path="$.error.Cause"),
            errors=["States.ALL"],
            result_path="$.error",
        )
        self._catch_tracking(track, "TrackExport", "export", None)
        start.next(track).next(
            sfn.Pass(
                self,
                "ExportDone",
                parameters={"name.$": "$.export.Name", "status.$": "$.tracking.status"},
            )
        )
        exports = sfn.Map(
            self,
            "ExportAudience",
            items_path="$.plan.exports",
            item_selector={"export.$": "$$.Map.Item.Value", "arn.$": "$.generation.arn"},
            max_concurrency=concurrency,
            result_path="$.exports",
        )
        exports.item_processor(start)
        # An iteration fails with the tracker's outcome as its error name and cause.
        exports.add_catch(
            sfn.Pass(
                self,
                "ExportFailed",
                parameters={
                    "outcome.$": "$.error.Error",
                    "cause.$": "$.error.Cause",
                    "step": "export",
                },
                result_path="$.end",
            ).next(finish),
            errors=["States.ALL"],
            result_path="$.error",
        )
        return exports

    def _batch_inference(self, step: BatchInferenceStep, finish: sfn.IChainable) -> sfn.IChainable:
        key_id, _ = key_parts(step.output_encryption_key)
        output: dict[str, Any] = {"S3Uri.$": "$.plan.batch.OutputS3Uri"}
        if key_id is not None:
            output["S3EncryptionKeyId"] = key_id
        parameters: dict[str, Any] = {
            "JobName.$": "$.plan.batch.JobName",
            "ClientRequestToken.$": "$.plan.batch.ClientRequestToken",
            "RoleArn": role_arn_of(step.role),
            "ModelId": step.model_id,
            "InputDataConfig": {
                "S3InputDataConfig": {
                    "S3Uri": step.input_s3_uri,
                    "S3InputFormat": step.input_format.value,
                }
            },
            "OutputDataConfig": {"S3OutputDataConfig": output},
        }
        if step.timeout_duration_in_hours is not None:
            parameters["TimeoutDurationInHours"] = step.timeout_duration_in_hours
        if step.model_invocation_type is not None:
            parameters["ModelInvocationType"] = step.model_invocation_type.value
        if step.vpc_config is not None:
            parameters["VpcConfig"] = {
                "SubnetIds": list(step.vpc_config.subnet_ids),
                "SecurityGroupIds": list(step.vpc_config.security_group_ids),
            }
        if step.tags:
            parameters["Tags"] = [{"Key": k, "Value": v} for k, v in step.tags.items()]
        start = tasks.CallAwsService(
            self,
            "StartBatchInference",
            service="bedrock",
            action="createModelInvocationJob",
            iam_action="bedrock:CreateModelInvocationJob",
            iam_resources=["*"],
            parameters=parameters,
            result_selector={"arn.$": "$.JobArn"},
            result_path="$.batch",
        )
        retry_with_jitter(start, transient_errors("bedrock"), 6)
        retry_on_quota(start, "bedrock", self.quota_wait)
        self._catch_call(start, "StartBatchInference", "batch", finish)
        tracker_input = {"kind": contract.KIND_BEDROCK_BATCH_INFERENCE_JOB, "arn.$": "$.batch.arn"}
        # Named like the handler's Bedrock pollers, so Bedrock's end event concludes it early.
        track = self._track(
            "TrackBatchInference",
            tracker_input,
            "$.batch.tracking",
            name=sfn.JsonPath.format(
                "bedrock-{}", sfn.JsonPath.hash(sfn.JsonPath.string_at("$.batch.arn"), "SHA-256")
            ),
        )
        # When Bedrock's end event stops that poller (ABORTED), read the final status once more.
        confirm = self._track("ConfirmBatchInference", tracker_input, "$.batch.tracking")
        self._catch_tracking(confirm, "ConfirmBatchInference", "batch", finish)
        self._catch_tracking(track, "TrackBatchInference", "batch", finish, aborted=confirm)
        done = sfn.Pass(self, "BatchInferenceDone")
        track.next(done)
        confirm.next(done)
        start.next(track)
        return sfn.Chain.custom(start, [done], done)

    def _end(
        self, state_id: str, outcome: str, step: str, finish: sfn.IChainable, cause_path: str
    ) -> sfn.IChainable:
        return sfn.Pass(
            self,
            state_id,
            parameters={"outcome": outcome, "cause.$": cause_path, "step": step},
            result_path="$.end",
        ).next(finish)

    def _finish(self) -> sfn.IChainable:
        publish = publish_event(
            self,
            self.event_bus,
            WORKFLOW_EVENT_SOURCE,
            WORKFLOW_EVENT_DETAIL_TYPE,
            {
                "outcome.$": "$.end.outcome",
                "cause.$": "$.end.cause",
                "step.$": "$.end.step",
                "plan.$": "$.plan",
                "generation.$": "$.generation",
                "exports.$": "$.exports",
                "batch.$": "$.batch",
                "executionArn.$": "$$.Execution.Id",
            },
        )
        return publish.next(
            sfn.Choice(self, "Outcome")
            .when(
                sfn.Condition.string_equals("$.end.outcome", "SUCCEEDED"),
                sfn.Succeed(self, "RunSucceeded"),
            )
            .otherwise(
                sfn.Fail(self, "RunFailed", error_path="$.end.outcome", cause_path="$.end.cause")
            )
        )

    # ---- permissions and trigger ---------------------------------------------------------------

    def _grant(
        self, stack: Stack, provider: CustomResourceProvider, model_arn: str, role_arn: str
    ) -> None:
        allow = self._permissions.allow
        reason = "Job ids are assigned by the service when a run starts them."
        # StartAudienceGenerationJob requires only the configured audience model as a resource
        # and lists no dependent action, also with a collaborationId (its condition key
        # cleanrooms-ml:CollaborationId aside): Service Authorization Reference, "Actions,
        # resources, and condition keys for AWS Clean Rooms ML", https://docs.aws.amazon.com/
        # service-authorization/latest/reference/list_awscleanroomsml.html. The cleanrooms
        # PassCollaboration / PassMembership actions belong to the custom-model APIs.
        allow(
            ["cleanrooms-ml:StartAudienceGenerationJob"],
            [model_arn, cleanrooms_ml_arn(self, "audience-generation-job")],
            wildcard_reason=reason,
        )
        allow(
            ["cleanrooms-ml:StartAudienceExportJob", "cleanrooms-ml:TagResource"],
            [cleanrooms_ml_arn(self, "audience-generation-job")],
            wildcard_reason=reason,
        )
        allow(
            ["iam:PassRole"],
            [role_arn],
            conditions={"StringEquals": {"iam:PassedToService": defaults.CLEAN_ROOMS_ML_PRINCIPAL}},
        )
        allow(["lambda:InvokeFunction"], [provider.handler.function_arn])
        allow(["states:StartExecution"], [self._own_arn(), state_machine_arn_of(self)])
        tracker_executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{JobStatusTracker.state_machine_name_of(self)}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        allow(
            ["states:DescribeExecution", "states:StopExecution"],
            [tracker_executions],
            wildcard_reason="Executions of the job-status state machine this workflow starts "
            "(their names are assigned when a run starts them).",
        )
        allow(
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [
                stack.format_arn(
                    service="events",
                    resource="rule",
                    resource_name="StepFunctionsGetEventsForStepFunctionsExecutionRule",
                )
            ],
        )
        allow(["events:PutEvents"], [self.event_bus.event_bus_arn])
        if self._batch is not None:
            step = self._batch
            allow(
                ["bedrock:CreateModelInvocationJob", "bedrock:TagResource"],
                [
                    stack.format_arn(
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
                model_resource_arns(self, step.model_id),
                wildcard_reason=MODEL_WILDCARD_REASON,
            )
            # An inference profile: Bedrock's service role invokes it and the models behind it.
            grant_invoke_model(self, step.role, step.model_id)
            _, key = key_parts(step.output_encryption_key)
            if key is not None:
                allow(KMS_ACTIONS, [key.key_arn])
                require_key_statements(
                    self,
                    key,
                    audience_key_statements(self, clean_rooms_ml=False),
                    "batch_inference.output_encryption_key",
                    "Bedrock writes batch inference output with it",
                )
            allow(
                ["iam:PassRole"],
                [role_arn_of(step.role)],
                conditions={"StringEquals": {"iam:PassedToService": defaults.BEDROCK_PRINCIPAL}},
            )

    def _seed_trigger(self, bucket: s3.IBucket, seed_prefix: str) -> events.Rule:
        scope = Construct(self, "SeedFiles")
        rule_name, role, permissions = rule_with_role(
            scope, "Starts the audience-generation workflow when a seed file lands"
        )
        permissions.allow(["states:StartExecution"], [self._own_arn()])
        return events.Rule(
            scope,
            "Rule",
            rule_name=rule_name,
            description="A new seed file starts an audience generation run",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(f"{seed_prefix}*.jsonl")},
                },
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    role=role.without_policy_updates(),
                    retry_attempts=20,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
