"""The whole lookalike-audience pipeline in one construct."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._internal.custom_resource import RoleLike
from .._internal.outputs import publish_outputs
from .._internal.props import check_props
from .._internal.validation import (
    fail,
)
from ..bedrock.batch_limits import BatchLimits
from ..cleanrooms_ml.audience_model import AudienceModel, IAudienceModel, Timestamp
from ..cleanrooms_ml.configured_audience_model import (
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    ConfiguredAudienceModel,
    IConfiguredAudienceModel,
)
from ..cleanrooms_ml.configured_audience_model_association import (
    ConfiguredAudienceModelAssociation,
)
from ..cleanrooms_ml.training_dataset import TrainingDataColumn, TrainingDataset
from ..foundation._key_policy import (
    audience_key_statements,
    cloudwatch_alarms_key_statement,
    require_key_statements,
)
from ..foundation.cleanrooms_ml_role import CleanRoomsMlServiceRole, GlueTrainingTable
from ..foundation.encryption_key import AudienceEncryptionKey
from ..foundation.seed_bucket import SeedAudienceBucket
from ..workflows.audience_generation_workflow import (
    AudienceExportSize,
    AudienceGenerationWorkflow,
)
from ..workflows.batch_inference_workflow import (
    DEFAULT_JOBS_IN_FLIGHT,
    DEFAULT_MAX_ATTEMPTS,
    BatchInferenceWorkflow,
)
from ._checks import check_handed_down
from .monitoring import PipelineMonitoring


@dataclass(frozen=True)
class TrainingData:
    """The Glue table the audience model trains on (``CreateTrainingDataset``).

    :param table: the table and the S3 location of its data (the Clean Rooms ML role reads it).
    :param columns: the columns Clean Rooms ML uses (``USER_ID``, ``ITEM_ID``, ``TIMESTAMP``...).
    """

    table: GlueTrainingTable
    columns: Sequence[TrainingDataColumn]


@dataclass(frozen=True)
class BatchInferenceSettings:
    """Bedrock batch inference at the end of every run, over the pipeline's bucket: the
    pipeline creates a ``BatchInferenceWorkflow`` (child ``BatchInference``, started by each
    run, not on upload) and its Bedrock role.

    :param model_id: foundation model id, inference profile (``us.``/``eu.`` included), or
        custom model ARN.
    :param input_prefix:
        key prefix of the JSONL model inputs; a run reads its own folder under it.
        Default: ``batch-input/``.
    :param shard_prefix:
        where each batch run writes its shards (the only place Bedrock reads).
        Default: ``batch-shards/``.
    :param output_prefix:
        key prefix of the outputs and each batch run's manifest. Default: ``batch-output/``.
    :param timeout_duration_in_hours:
        24-168 per job. Default: the service's default (168).
    :param limits:
        the model's per-job limits. Default: ``BatchLimits()``.
    :param max_jobs_in_flight:
        1-40 jobs of a batch run at once. Default: 5.
    :param max_attempts:
        1-10 jobs per shard (a Failed or Expired job is retried). Default: 3.
    """

    model_id: str
    input_prefix: str = "batch-input/"
    shard_prefix: str = "batch-shards/"
    output_prefix: str = "batch-output/"
    timeout_duration_in_hours: int | None = None
    limits: BatchLimits | None = None
    max_jobs_in_flight: int = DEFAULT_JOBS_IN_FLIGHT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class LookalikeAudiencePipeline(Construct):
    """Key, seed bucket, Clean Rooms ML role, training dataset, audience model (with its
    readiness gate), configured audience model, the audience-generation workflow, an optional
    Bedrock step, alarms and a dashboard.

    Every part is created with the library's defaults unless you pass an existing one (a
    construct or an ARN); passing both an existing part and the settings that would create it
    is an error. Children: ``Key``, ``SeedBucket``, ``CleanRoomsMlRole``, ``TrainingDataset``,
    ``AudienceModel``, ``ConfiguredAudienceModel``, ``CollaborationAssociation`` (with
    ``collaboration``), ``BedrockRole``, ``Workflow``, ``Monitoring``.

    Example::

        LookalikeAudiencePipeline(self, "Lookalikes",
            training_data=TrainingData(
                GlueTrainingTable("audience_db", "interactions", data_bucket=training_bucket),
                [TrainingDataColumn("user_id", ColumnType.USER_ID),
                 TrainingDataColumn("item_id", ColumnType.ITEM_ID),
                 TrainingDataColumn("event_time", ColumnType.TIMESTAMP)]),
            audience_size_bins=[10000, 50000],
            export_sizes=[AudienceExportSize(AudienceSizeType.ABSOLUTE, 10000)])
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        training_data: TrainingData | None = None,
        training_dataset: TrainingDataset | str | None = None,
        audience_model: IAudienceModel | str | None = None,
        configured_audience_model: IConfiguredAudienceModel | str | None = None,
        encryption_key: kms.IKey | AudienceEncryptionKey | None = None,
        key_alias: str | None = None,
        seed_bucket: s3.IBucket | None = None,
        cleanrooms_ml_role: RoleLike | None = None,
        seed_prefix: str = "seeds/",
        output_prefix: str = "audiences/",
        training_data_start_time: Timestamp | None = None,
        training_data_end_time: Timestamp | None = None,
        audience_size_type: AudienceSizeType = AudienceSizeType.ABSOLUTE,
        audience_size_bins: Sequence[int] = (10000, 50000, 100000),
        min_matching_seed_size: int | None = None,
        export_sizes: Sequence[AudienceExportSize] = (),
        job_name_prefix: str = "audience",
        batch_inference: BatchInferenceSettings | BatchInferenceWorkflow | None = None,
        alarm_topic: sns.ITopic | None = None,
        create_alarm_topic: bool = False,
        removal_policy: RemovalPolicy | None = None,
        tags: Mapping[str, str] | None = None,
        collaboration: str | None = None,
        stack_outputs: bool = True,
    ) -> None:
        """
        :param training_data: the Glue table to train on; creates the ``TrainingDataset``.
            Required unless ``training_dataset``, ``audience_model`` or
            ``configured_audience_model`` is given.
        :param training_dataset: an existing training dataset (construct or ARN) instead.
        :param audience_model: an existing audience model instead of training one.
        :param configured_audience_model: an existing configured audience model instead;
            the pipeline then creates only the workflow, its roles and the monitoring.
        :param encryption_key: an existing key for seeds, outputs and the model. A key of this
            app gets the Clean Rooms ML (and, with a Bedrock step, Bedrock; with
            ``create_alarm_topic``, CloudWatch) key-policy statements; for an imported key a
            synth warning (``cleanrooms-ml-cdk:imported-key-policy``) lists them as JSON.
            Default: a new ``AudienceEncryptionKey`` (rotation on, retained).
        :param key_alias:
            alias of the new key. Default: none.
        :param seed_bucket: an existing bucket for seeds and outputs; it must send events to
            EventBridge. Default: a new ``SeedAudienceBucket`` (retained).
        :param cleanrooms_ml_role:
            an existing role Clean Rooms ML assumes. Default: a new
            ``CleanRoomsMlServiceRole`` limited to the table, the seed and output prefixes.
        :param seed_prefix: where seed files land; each new ``*.jsonl`` starts a run.
            Default: ``seeds/``.
        :param output_prefix:
            where generated audiences are written. Default: ``audiences/``.
        :param training_data_start_time:
            Default: all the data.
        :param training_data_end_time:
            Default: all the data.
        :param audience_size_type:
            Default: ``ABSOLUTE``.
        :param audience_size_bins:
            the configured model's size bins. Default: 10k, 50k, 100k.
        :param min_matching_seed_size:
            Default: the service's default (500).
        :param export_sizes:
            export every audience in these sizes (each a bin). Default: none.
        :param job_name_prefix:
            Default: ``audience``.
        :param batch_inference:
            a Bedrock step: ``BatchInferenceSettings`` (the pipeline makes
            the ``BatchInferenceWorkflow`` over its bucket, with its role) or your own
            ``BatchInferenceWorkflow`` (``trigger_on_upload=False``). Default: none.
        :param alarm_topic:
            an existing topic for the alarms. Default: none.
        :param create_alarm_topic: create a topic encrypted with the pipeline's key.
            Default: false.
        :param removal_policy:
            of the key and the bucket the pipeline creates. Default:
            ``RemovalPolicy.RETAIN``.
        :param tags:
            tags of the Clean Rooms ML objects and jobs. Default: none.
        :param collaboration:
            this account's membership id in an AWS Clean Rooms collaboration: the
            configured model is associated with it (``ConfiguredAudienceModelAssociation``,
            AWS Clean Rooms managing the model's resource policy), so the collaboration's members
            can generate audiences with it (docs/collaborations.md). Default: none.
        :param stack_outputs:
            publish the pipeline's stack outputs, each keyed ``<path><kind>`` and described
            ``cleanrooms-ml-cdk:<kind>:<path>``: ``WorkflowArn``, ``JobStatusStateMachineArn``,
            ``SeedLocation``, ``OutputLocation``, ``BatchOutputLocation`` (with a Bedrock
            step), ``DashboardUrl``, ``AudienceModelArn`` (unless only a configured model is
            given), ``ConfiguredAudienceModelArn``, and with ``collaboration``
            ``ConfiguredAudienceModelAssociationArn`` and ``CollaborationId``; the ``audiences``
            command finds the pipeline by them. Default: True.
        """
        super().__init__(scope, construct_id)
        check_props(self, LookalikeAudiencePipeline.__init__, locals())
        check_handed_down(
            self,
            seed_prefix=seed_prefix,
            output_prefix=output_prefix,
            batch_prefixes=(
                batch_inference.input_prefix,
                batch_inference.shard_prefix,
                batch_inference.output_prefix,
            )
            if isinstance(batch_inference, BatchInferenceSettings)
            else None,
            key_alias=key_alias,
            audience_size_type=audience_size_type,
            audience_size_bins=audience_size_bins,
            cleanrooms_ml_role=cleanrooms_ml_role,
            export_sizes=export_sizes if configured_audience_model is None else None,
        )
        self._never_both(("encryption_key", encryption_key), ("key_alias", key_alias))
        upstream = training_dataset or audience_model or configured_audience_model
        if training_data is not None and upstream is not None:
            raise fail(
                self,
                "training_data",
                training_data.table.table_name,
                "give the training data or an existing training dataset / audience model / "
                "configured audience model, not both",
            )
        if training_data is None and upstream is None:
            raise fail(
                self,
                "training_data",
                None,
                "is required unless training_dataset, audience_model or "
                "configured_audience_model is given",
            )
        self._never_both(("audience_model", audience_model), ("training_dataset", training_dataset))
        self._never_both(
            ("configured_audience_model", configured_audience_model),
            ("audience_model", audience_model or training_dataset),
        )

        self.key = encryption_key or AudienceEncryptionKey(
            self, "Key", alias=key_alias, removal_policy=removal_policy
        )
        if encryption_key is not None:
            self._require_key_policy(
                encryption_key, bedrock=batch_inference is not None, alarms=create_alarm_topic
            )
        self.seed_bucket = SeedAudienceBucket(
            self,
            "SeedBucket",
            existing_bucket=seed_bucket,
            encryption_key=None if seed_bucket is not None else self.key,
            removal_policy=None if seed_bucket is not None else removal_policy,
        )
        bucket = self.seed_bucket.bucket
        self.cleanrooms_ml_role: RoleLike = cleanrooms_ml_role or CleanRoomsMlServiceRole(
            self,
            "CleanRoomsMlRole",
            training_tables=[training_data.table] if training_data is not None else [],
            seed_bucket=bucket,
            seed_prefix=seed_prefix,
            output_bucket=bucket,
            output_prefix=output_prefix,
            encryption_key=self.key,
        )
        self.training_dataset: TrainingDataset | str | None = training_dataset
        if training_data is not None:
            self.training_dataset = TrainingDataset(
                self,
                "TrainingDataset",
                role=self.cleanrooms_ml_role,
                database_name=training_data.table.database_name,
                table_name=training_data.table.table_name,
                catalog_id=training_data.table.catalog_id,
                columns=training_data.columns,
                tags=tags,
            )
        self.audience_model: IAudienceModel | str | None = audience_model
        if self.training_dataset is not None:
            self.audience_model = AudienceModel(
                self,
                "AudienceModel",
                training_dataset=self.training_dataset,
                training_data_start_time=training_data_start_time,
                training_data_end_time=training_data_end_time,
                kms_key=self.key,
                tags=tags,
            )
        self.configured_audience_model: IConfiguredAudienceModel | str
        if configured_audience_model is not None:
            self.configured_audience_model = configured_audience_model
        else:
            assert self.audience_model is not None  # guaranteed by the checks above
            self.configured_audience_model = ConfiguredAudienceModel(
                self,
                "ConfiguredAudienceModel",
                audience_model=self.audience_model,
                output_config=AudienceOutputConfig(
                    destination_s3_uri=self.seed_bucket.s3_uri(output_prefix),
                    role=self.cleanrooms_ml_role,
                ),
                audience_size_config=AudienceSizeConfig(
                    audience_size_type, list(audience_size_bins)
                ),
                min_matching_seed_size=min_matching_seed_size,
                tags=tags,
            )
        #: The association with the collaboration (None without ``collaboration``).
        self.association: ConfiguredAudienceModelAssociation | None = None
        if collaboration is not None:
            self.association = ConfiguredAudienceModelAssociation(
                self,
                "CollaborationAssociation",
                membership_identifier=collaboration,
                configured_audience_model=self.configured_audience_model,
                tags=tags,
            )
        #: The batch inference workflow each run starts (``BatchInference``), or None.
        self.batch_inference = self._batch_workflow(batch_inference, tags)
        self.workflow = AudienceGenerationWorkflow(
            self,
            "Workflow",
            configured_audience_model=self.configured_audience_model,
            seed_role=self.cleanrooms_ml_role,
            seed_bucket=self.seed_bucket,
            seed_prefix=seed_prefix,
            job_name_prefix=job_name_prefix,
            tags=tags,
            export_sizes=export_sizes,
            batch_inference=self.batch_inference,
            stack_outputs=False,  # the pipeline publishes them, under its own path
        )
        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            workflows=[self.workflow]
            + ([self.batch_inference] if self.batch_inference is not None else []),
            alarm_topic=alarm_topic,
            create_alarm_topic=create_alarm_topic,
            topic_encryption_key=self.key if create_alarm_topic else None,
        )
        #: The stack outputs published, by kind (empty with ``stack_outputs=False``).
        self.outputs = self._publish_outputs(output_prefix, seed_prefix) if stack_outputs else {}

    def _publish_outputs(self, output_prefix: str, seed_prefix: str) -> dict[str, CfnOutput]:
        bucket = self.seed_bucket.bucket.bucket_name
        model = self.audience_model
        configured = self.configured_audience_model
        dashboard = self.monitoring.dashboard.dashboard_name
        return publish_outputs(
            self,
            {
                "WorkflowArn": self.workflow.state_machine_arn,
                "JobStatusStateMachineArn": self.workflow.tracker.state_machine_arn,
                "SeedLocation": f"s3://{bucket}/{seed_prefix}",
                "OutputLocation": f"s3://{bucket}/{output_prefix}",
                "BatchOutputLocation": self.workflow.batch_output_s3_uri,
                # The console of the commercial partition (the URL form CloudWatch's docs use).
                "DashboardUrl": f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home"
                f"?region={Aws.REGION}#dashboards:name={dashboard}",
                "AudienceModelArn": model
                if isinstance(model, str) or model is None
                else model.audience_model_arn,
                "ConfiguredAudienceModelArn": configured
                if isinstance(configured, str)
                else configured.configured_audience_model_arn,
                "ConfiguredAudienceModelAssociationArn": None
                if self.association is None
                else self.association.configured_audience_model_association_arn,
                "CollaborationId": None
                if self.association is None
                else self.association.collaboration_id,
            },
        )

    def _require_key_policy(
        self, key: kms.IKey | AudienceEncryptionKey, *, bedrock: bool, alarms: bool
    ) -> None:
        """The statements a passed-in key's policy needs: Clean Rooms ML always (seeds, outputs,
        the model), Bedrock with a Bedrock step, CloudWatch with the alarm topic it encrypts.
        Added to a key of this app; listed in a synth warning for an imported key."""
        statements = audience_key_statements(self, clean_rooms_ml=True, bedrock=bedrock)
        if alarms:
            statements.append(cloudwatch_alarms_key_statement(self))
        purposes = ["Clean Rooms ML reads seeds and writes audiences and the model with it"]
        if bedrock:
            purposes.append("Bedrock reads batch input and writes batch output with it")
        if alarms:
            purposes.append("CloudWatch encrypts alarm notifications to the alarm topic with it")
        require_key_statements(self, key, statements, "encryption_key", "; ".join(purposes))

    def _never_both(self, given: tuple[str, object], other: tuple[str, object]) -> None:
        if given[1] is not None and other[1] is not None:
            raise fail(self, given[0], "given", f"give {given[0]} or {other[0]}, not both")

    def _batch_workflow(
        self,
        batch: BatchInferenceSettings | BatchInferenceWorkflow | None,
        tags: Mapping[str, str] | None,
    ) -> BatchInferenceWorkflow | None:
        if not isinstance(batch, BatchInferenceSettings):
            return batch
        return BatchInferenceWorkflow(
            self,
            "BatchInference",
            model_id=batch.model_id,
            bucket=self.seed_bucket,
            input_prefix=batch.input_prefix,
            shard_prefix=batch.shard_prefix,
            output_prefix=batch.output_prefix,
            output_encryption_key=self.key,
            limits=batch.limits,
            max_jobs_in_flight=batch.max_jobs_in_flight,
            max_attempts=batch.max_attempts,
            trigger_on_upload=False,
            timeout_duration_in_hours=batch.timeout_duration_in_hours,
            tags=tags,
            stack_outputs=False,  # the pipeline publishes BatchOutputLocation
        )

    @property
    def state_machine_arn(self) -> str:
        """The workflow's ARN: start manual runs of it."""
        return self.workflow.state_machine_arn
