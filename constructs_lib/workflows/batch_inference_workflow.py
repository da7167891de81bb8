"""Bedrock batch inference over one input of any size: split into jobs within the model's
limits, run under its quota, collected into one result."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._internal.custom_resource import RoleLike
from .._internal.outputs import publish_outputs
from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider
from .._internal.service_role import ServiceRolePolicy
from .._internal.state_machines import failure_alarm, logged_state_machine
from .._internal.validation import check_disjoint_prefixes, check_int_range, check_prefix, fail
from ..bedrock.batch_inference_job import BatchVpcConfig, ModelInvocationType
from ..bedrock.batch_limits import BatchLimits
from ..foundation.bedrock_role import BedrockBatchInferenceRole
from ..foundation.encryption_key import AudienceEncryptionKey, key_parts
from ..foundation.seed_bucket import SeedAudienceBucket
from ..tracking.job_status import JobStatusTracker
from .batch.definition import batch_inference_definition
from .batch.job_spec import BatchJobSpec, check_job_spec
from .permissions import grant_batch_inference, grant_run_and_tracking
from .seed_trigger import SeedFileTrigger

#: Default jobs in flight per run: AWS's own batch orchestrator sample runs at most 5 submitted
#: and in-progress jobs by default (aws-samples/amazon-bedrock-samples,
#: poc-to-prod/bedrock-batch-orchestrator, ``maxSubmittedAndInProgressJobs``), below the per-model
#: quota "Sum of in-progress and submitted batch inference jobs using a base model for <model>".
DEFAULT_JOBS_IN_FLIGHT = 5
#: Jobs a shard may take: the first and two retries after Failed or Expired.
DEFAULT_MAX_ATTEMPTS = 3
#: Step Functions' Map runs at most 40 iterations at once in practice for inline Maps; the
#: library caps the prop there so the figure it promises is one Step Functions keeps.
MAX_JOBS_IN_FLIGHT = 40
#: Shards of one run: their list (about 420 bytes a shard once run) stays in the execution's
#: state, which Step Functions limits to 256 KiB, and each shard adds about 15 events (70 when
#: every attempt fails) to the execution's history, limited to 25,000 events ("Step Functions
#: service quotas", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
#: 300 shards of 50,000 records: 15 million records a run.
MAX_SHARDS = 300
#: A run's default limit: Step Functions' longest (a year). Shards run in waves of
#: ``max_jobs_in_flight``, each job may take up to 168 hours and be retried, so no shorter figure
#: fits every run; every job is bounded by its own timeout and its tracker, and starts waiting
#: for quota by ``quota_wait``.
RUN_TIMEOUT = Duration.days(365)
#: How long a create refused for quota keeps waiting for room.
QUOTA_WAIT = Duration.hours(6)


class BatchInferenceWorkflow(Construct):
    """Bedrock batch inference for inputs of any size.

    A Step Functions state machine (child ``Resource``) that, for each run:

    1. takes its input: a new ``*.jsonl`` object under ``input_prefix`` (S3 -> EventBridge; a
       notification delivered twice runs once, the run is named after the object), or a manual
       start with ``{"inputUris": ["s3://<bucket>/<input_prefix>...jsonl", ...]}``;
    2. splits it into shards in the stack's handler Lambda, streaming (never a whole file in
       memory), each shard within ``limits`` (records and bytes per job), each record keeping
       or getting a ``recordId`` that traces it to its input line; too few records for one job
       ends the run as TOO_FEW_RECORDS;
    3. runs one Bedrock job per shard, at most ``max_jobs_in_flight`` at once, each created
       idempotently and tracked by the stack's job-status tracker (Bedrock's end event first,
       polling as the fallback), a Failed or Expired shard retried up to ``max_attempts`` jobs;
    4. writes one manifest (every shard's job, status and Bedrock's own record counts) and
       publishes one end event: SUCCEEDED, SUCCEEDED_WITH_WARNINGS (partial results, with
       counts), FAILED, TOO_FEW_RECORDS, INVALID_INPUT or CALL_FAILED.

    Example::

        BatchInferenceWorkflow(self, "Scoring", bucket=bucket, max_jobs_in_flight=10,
            model_id="us.anthropic.claude-3-5-haiku-20241022-v1:0")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_id: str,
        bucket: s3.IBucket | SeedAudienceBucket,
        input_prefix: str = "batch-input/",
        shard_prefix: str = "batch-shards/",
        output_prefix: str = "batch-output/",
        role: RoleLike | None = None,
        output_encryption_key: kms.IKey | AudienceEncryptionKey | None = None,
        limits: BatchLimits | None = None,
        max_jobs_in_flight: int = DEFAULT_JOBS_IN_FLIGHT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        trigger_on_upload: bool = True,
        job_name_prefix: str = "batch",
        timeout_duration_in_hours: int | None = None,
        model_invocation_type: ModelInvocationType | None = None,
        vpc_config: BatchVpcConfig | None = None,
        tags: Mapping[str, str] | None = None,
        event_bus: events.IEventBus | None = None,
        state_machine_name: str | None = None,
        timeout: Duration | None = None,
        quota_wait: Duration = QUOTA_WAIT,
        stack_outputs: bool = True,
    ) -> None:
        """
        :param model_id:
            foundation model id, inference profile id or ARN (``us.``/``eu.`` cross-Region
            profiles included), or custom model ARN.
        :param bucket:
            the bucket of the inputs, the shards and the outputs; it must send events to
            EventBridge for ``trigger_on_upload``.
        :param input_prefix:
            where inputs land (each new ``*.jsonl`` starts a run). Default: ``batch-input/``.
        :param shard_prefix:
            where the run's shards are written (``<shard_prefix><run id>/``); the only place
            Bedrock reads. Default: ``batch-shards/``.
        :param output_prefix:
            where Bedrock writes (``<output_prefix><run id>/shard-N/``) and the manifest goes
            (``<output_prefix><run id>/manifest.json``). Default: ``batch-output/``.
        :param role:
            the role Bedrock assumes; it must read ``shard_prefix`` and write
            ``output_prefix``. Default: a new ``BedrockBatchInferenceRole`` limited to those and
            the model.
        :param output_encryption_key:
            key for Bedrock's output. Default: the bucket's default encryption.
        :param limits:
            the model's per-job limits (``BatchLimits``). Default: ``BatchLimits()``.
        :param max_jobs_in_flight:
            1-40 jobs of a run at once. Default: 5.
        :param max_attempts:
            1-10 jobs per shard (a Failed or Expired job is retried). Default: 3.
        :param trigger_on_upload:
            start a run for each new ``*.jsonl`` under ``input_prefix``; False for a workflow
            an ``AudienceGenerationWorkflow`` starts (``batch_inference``). Default: True.
        :param job_name_prefix:
            Bedrock job names are ``<prefix>-<run id>-<shard>-<attempt>``. Default: ``batch``.
        :param timeout_duration_in_hours:
            24-168 per job. Default: the service's.
        :param model_invocation_type:
            ``InvokeModel`` or ``Converse``. Default: the service's.
        :param vpc_config:
            run every job's data access inside a VPC (``vpcConfig``: 1-16 subnets, 1-5
            security groups); needs your own ``role`` with the EC2 permissions Bedrock documents
            for VPC jobs. Default: no VPC.
        :param tags:
            tags of every job. Default: none.
        :param event_bus:
            where the end event goes. Default: the account's default bus.
        :param state_machine_name:
            Default: derived from the construct path.
        :param timeout:
            a run's limit. Default: a year, Step Functions' longest (shards run in waves of
            ``max_jobs_in_flight``, each job up to 168 hours and retried; each job is bounded by
            its own timeout).
        :param quota_wait:
            how long a create refused for quota keeps waiting. Default: 6 hours.
        :param stack_outputs:
            publish ``WorkflowArn`` and ``BatchOutputLocation``. Default: True.
        """
        super().__init__(scope, construct_id)
        check_props(self, BatchInferenceWorkflow.__init__, locals())
        limits = limits or BatchLimits()
        limits.check(self, "limits")
        check_int_range(
            self, "max_jobs_in_flight", max_jobs_in_flight, minimum=1, maximum=MAX_JOBS_IN_FLIGHT
        )
        check_int_range(self, "max_attempts", max_attempts, minimum=1, maximum=10)
        for prop, prefix in (
            ("input_prefix", input_prefix),
            ("shard_prefix", shard_prefix),
            ("output_prefix", output_prefix),
        ):
            check_prefix(self, prop, prefix)
            if prefix == "":
                raise fail(self, prop, prefix, "must be a folder such as 'batch-input/'")
        the_bucket = bucket.bucket if isinstance(bucket, SeedAudienceBucket) else bucket
        check_disjoint_prefixes(
            self,
            [
                ("input_prefix", the_bucket, input_prefix),
                ("shard_prefix", the_bucket, shard_prefix),
                ("output_prefix", the_bucket, output_prefix),
            ],
        )
        if (
            not isinstance(job_name_prefix, str)
            or not job_name_prefix.isalnum()
            or len(job_name_prefix) > 20
        ):
            raise fail(
                self,
                "job_name_prefix",
                job_name_prefix,
                "must be 1-20 letters or digits (Bedrock job names are "
                "<prefix>-<run id>-<shard>-<attempt>, at most 63 characters)",
            )
        if vpc_config is not None and role is None:
            # "Protect batch inference jobs using a VPC" (a prerequisite, "Prerequisites for
            # batch inference", https://docs.aws.amazon.com/bedrock/latest/userguide/
            # batch-inference-prereq.html): the service role needs EC2 network-interface
            # permissions that this library does not grant.
            raise fail(
                self,
                "vpc_config",
                vpc_config,
                "needs your own role: Bedrock's service role must be allowed to create and "
                "delete network interfaces in the subnets (Bedrock user guide, 'Protect batch "
                "inference jobs using a VPC'), which the role this workflow creates is not",
            )
        self.bucket = the_bucket
        self.tracker = JobStatusTracker.of(self)
        provider = CustomResourceProvider.of(self)
        self.role: RoleLike = role or BedrockBatchInferenceRole(
            self,
            "BedrockRole",
            input_bucket=the_bucket,
            input_prefix=shard_prefix,
            output_bucket=the_bucket,
            output_prefix=output_prefix,
            encryption_key=output_encryption_key,
            model_ids=[model_id],
        )
        bucket_name = the_bucket.bucket_name
        #: What every Bedrock job of a run is created with.
        self.job_spec = BatchJobSpec(
            model_id=model_id,
            role=self.role,
            input_s3_uri=f"s3://{bucket_name}/{shard_prefix}",
            output_s3_uri=f"s3://{bucket_name}/{output_prefix}",
            output_encryption_key=output_encryption_key,
            timeout_duration_in_hours=timeout_duration_in_hours,
            model_invocation_type=model_invocation_type,
            vpc_config=vpc_config,
            tags=tags,
        )
        check_job_spec(self, self.job_spec)
        #: Where inputs land (``s3://<bucket>/<input_prefix>``); manual runs name files or
        #: folders under it.
        self.input_s3_uri = f"s3://{bucket_name}/{input_prefix}"
        #: Where runs write (``<output location><run id>/``, the manifest included).
        self.output_s3_uri = f"s3://{bucket_name}/{output_prefix}"
        #: Whether each new input file starts a run.
        self.trigger_on_upload = trigger_on_upload
        #: A run's limit.
        self.timeout = timeout or RUN_TIMEOUT
        self.state_machine_name = state_machine_name or Names.unique_resource_name(
            self, max_length=80, separator="-"
        )
        own_arn = Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.event_bus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )
        settings = {
            "inputBucket": bucket_name,
            "inputPrefix": input_prefix,
            "workUri": f"s3://{bucket_name}/{shard_prefix}",
            "outputUri": f"s3://{bucket_name}/{output_prefix}",
            "jobNamePrefix": job_name_prefix,
            "limits": limits.as_settings(),
            "maxShards": MAX_SHARDS,
        }
        quota_seconds = int(quota_wait.to_seconds())
        self.state_machine, self.log_group, permissions = logged_state_machine(
            self,
            name=self.state_machine_name,
            definition=batch_inference_definition(
                self,
                handler=provider.handler,
                settings=settings,
                own_arn=own_arn,
                step=self.job_spec,
                tracker=self.tracker.state_machine,
                event_bus=self.event_bus,
                quota_wait=quota_seconds,
                max_jobs_in_flight=max_jobs_in_flight,
                max_attempts=max_attempts,
            ),
            timeout=self.timeout,
            logs_key=provider.logs_key,
            role_description="Batch inference workflow: splits, runs and tracks Bedrock jobs",
        )
        self._grant(permissions, provider, own_arn, input_prefix, shard_prefix, output_prefix)
        self.failure_alarm = failure_alarm(
            self,
            self.state_machine,
            f"A batch inference run of {self.node.path} failed, timed out or was aborted; its "
            "end event and its execution log say why.",
            aborted=True,
        )
        self.input_rule = (
            SeedFileTrigger(
                self,
                "InputFiles",
                bucket=the_bucket,
                seed_prefix=input_prefix,
                state_machine=self.state_machine,
                own_arn=own_arn,
                role_description="Starts the batch inference workflow when an input lands",
                description="A new batch input file starts a batch inference run",
            ).rule
            if trigger_on_upload
            else None
        )
        self.outputs = (
            publish_outputs(
                self,
                {
                    "WorkflowArn": self.state_machine.state_machine_arn,
                    "BatchOutputLocation": f"s3://{bucket_name}/{output_prefix}",
                },
            )
            if stack_outputs
            else {}
        )

    @property
    def state_machine_arn(self) -> str:
        """The workflow's ARN (start runs of it)."""
        return self.state_machine.state_machine_arn

    def _grant(
        self,
        permissions: ServiceRolePolicy,
        provider: CustomResourceProvider,
        own_arn: str,
        input_prefix: str,
        shard_prefix: str,
        output_prefix: str,
    ) -> None:
        stack = Stack.of(self)
        grant_batch_inference(self, permissions, self.job_spec)
        jobs = stack.format_arn(
            service="bedrock", resource="model-invocation-job", resource_name="*"
        )
        permissions.allow(
            ["bedrock:GetModelInvocationJob", "bedrock:StopModelInvocationJob"],
            [jobs],
            wildcard_reason="Bedrock job ids are assigned when a run starts them.",
        )
        grant_run_and_tracking(
            self, permissions, provider=provider, own_arn=own_arn, event_bus=self.event_bus
        )
        # The stack's handler reads inputs, writes shards, reads Bedrock's manifests and
        # writes the run's manifest.
        handler = provider.permissions
        handler.read_objects(self.bucket, input_prefix, "input_prefix")
        handler.write_objects(self.bucket, shard_prefix, "shard_prefix")
        handler.read_objects(self.bucket, output_prefix, "output_prefix")
        handler.write_objects(self.bucket, output_prefix, "output_prefix")
        # Bedrock's manifest.json.out is written with the output key, when there is one.
        _, output_key = key_parts(self.job_spec.output_encryption_key)
        if output_key is not None:
            handler.use_key(output_key, encrypt=False)
