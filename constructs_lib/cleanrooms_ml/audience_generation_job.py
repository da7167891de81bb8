"""Clean Rooms ML audience generation job, started at deploy time, as a custom resource."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy
from constructs import Construct

from .._internal import contract, defaults
from .._internal.collaboration import (
    CALLED_VIA_CLEAN_ROOMS_ML,
    COLLABORATION_REASON,
    LIST_MEMBERS,
    collaboration_arn,
    model_account_jobs,
)
from .._internal.custom_resource import (
    RoleLike,
    allow_handler,
    check_role_trusts,
    check_tags,
    default_name,
    new_custom_resource,
    role_arn_of,
    validate_fields,
)
from .._internal.props import check_props
from .._internal.validation import fail, is_unresolved
from ..tracking.job_status import JobStatusTracker
from .configured_audience_model import IConfiguredAudienceModel

_OPERATION = "StartAudienceGenerationJob"


class WorkerComputeType(enum.Enum):
    """Worker size for SQL seed queries (``sqlComputeConfiguration.worker.type``)."""

    CR_1X = "CR.1X"
    CR_4X = "CR.4X"
    CR_8X = "CR.8X"


@dataclass(frozen=True)
class WorkerComputeConfiguration:
    """Workers that run the seed query: their ``type``, ``number`` (2-1024) and optional Spark
    properties (at most 50)."""

    type: WorkerComputeType
    number: int
    spark_properties: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SqlParameters:
    """A seed audience defined by a Clean Rooms protected query (``seedAudience.sqlParameters``):
    a ``query_string`` or an ``analysis_template_arn``, with named ``parameters``."""

    query_string: str | None = None
    analysis_template_arn: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedAudience:
    """Where the seed comes from (``seedAudience``): an S3 location of ``{"user_id": ...}``
    JSON lines, or a SQL query over collaboration data; and the role that reads it.

    :param role: role Clean Rooms ML assumes to read the seed (``roleArn``).
    :param data_source_s3_uri:
        ``s3://bucket/key`` (``dataSource.s3Uri``).
    :param sql_parameters: a protected query instead of (or with) S3.
    :param sql_compute_configuration: workers for the query.
    """

    role: RoleLike
    data_source_s3_uri: str | None = None
    sql_parameters: SqlParameters | None = None
    sql_compute_configuration: WorkerComputeConfiguration | None = None


class AudienceGenerationJob(Construct):
    """An audience generation job started when the stack deploys.

    A custom resource (child ``Resource``) calling ``StartAudienceGenerationJob``; the handler
    returns once the job is accepted (it does not wait for it to finish). A job is immutable:
    changing any field but ``tags`` starts a new job (with a new default name) and deletes the
    old one (``DeleteAudienceGenerationJob``, which also deletes its generated audience).

    Example::

        AudienceGenerationJob(self, "Weekly", configured_audience_model=configured,
            seed_audience=SeedAudience(role=cleanrooms_ml_role,
                                       data_source_s3_uri=seeds.s3_uri("seeds/weekly.jsonl")))
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        configured_audience_model: IConfiguredAudienceModel | str,
        seed_audience: SeedAudience,
        name: str | None = None,
        include_seed_in_output: bool | None = None,
        collaboration_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """
        :param configured_audience_model: the ``ConfiguredAudienceModel`` (or its ARN).
        :param seed_audience: the seed and the role that reads it.
        :param name:
            1-63 characters. Default: derived from the construct path plus a hash of
            the request, so every change starts a job with a new name.
        :param include_seed_in_output: add the seed users to the generated audience.
            Default: the service's default (false).
        :param collaboration_id:
            the collaboration the job runs in (a UUID); required with a SQL seed, whose query
            runs there. Default: none.
        :param description:
            up to 255 characters. Default: none.
        :param tags:
            at most 49 tags, updated in place. Default: none.
        :param removal_policy:
            Default: ``RemovalPolicy.DESTROY``.
        """
        super().__init__(scope, construct_id)
        check_props(self, AudienceGenerationJob.__init__, locals())
        model_arn = (
            configured_audience_model
            if isinstance(configured_audience_model, str)
            else configured_audience_model.configured_audience_model_arn
        )
        check_role_trusts(
            self, "seed_audience.role", seed_audience.role, defaults.CLEAN_ROOMS_ML_PRINCIPAL
        )
        role_arn = role_arn_of(seed_audience.role)
        seed = _seed_request(self, seed_audience, role_arn)
        identity = {
            "configuredAudienceModelArn": model_arn,
            "seedAudience": seed,
            "includeSeedInOutput": include_seed_in_output,
            "collaborationId": collaboration_id,
            "description": description,
        }
        name = name or default_name(self, identity)
        validate_fields(
            self,
            _OPERATION,
            [
                ("name", "name", name),
                ("configured_audience_model", "configuredAudienceModelArn", model_arn),
                ("seed_audience", "seedAudience", seed),
                ("collaboration_id", "collaborationId", collaboration_id),
                ("description", "description", description),
            ],
        )
        if seed_audience.sql_parameters is not None and collaboration_id is None:
            raise fail(
                self,
                "collaboration_id",
                None,
                "a SQL seed runs its query in an AWS Clean Rooms collaboration: give the "
                "collaboration's id",
            )
        check_tags(self, tags, _OPERATION)

        JobStatusTracker.of(self)
        provider = allow_handler(
            self,
            [
                "StartAudienceGenerationJob",
                "GetAudienceGenerationJob",
                "DeleteAudienceGenerationJob",
            ],
            ["audience-generation-job", "configured-audience-model"],
            list_action="ListAudienceGenerationJobs",
        )
        provider.allow_pass_role(role_arn, defaults.CLEAN_ROOMS_ML_PRINCIPAL)
        # In a collaboration, with another account's model (docs/collaborations.md): that
        # account's jobs, and the collaboration Clean Rooms ML checks with the caller's
        # ListMembers. Literal values only: a token here would make the handler's policy wait
        # for a resource that waits for the policy.
        other_jobs = model_account_jobs(self, model_arn)
        if other_jobs:
            provider.allow(
                ["cleanrooms-ml:StartAudienceGenerationJob"],
                [model_arn, *other_jobs],
                wildcard_reason="Job ids are assigned by the service when the job starts.",
            )
        if collaboration_id is not None:
            provider.allow(
                [LIST_MEMBERS],
                [
                    collaboration_arn(
                        self, None if is_unresolved(collaboration_id) else collaboration_id
                    )
                ],
                wildcard_reason=COLLABORATION_REASON,
                conditions=CALLED_VIA_CLEAN_ROOMS_ML,
            )
        self.resource = new_custom_resource(
            self,
            resource_type=contract.AUDIENCE_GENERATION_JOB,
            request={"name": name, **identity},
            tags=tags,
            removal_policy=removal_policy,
            depends_on=(configured_audience_model, seed_audience.role),
        )
        self.audience_generation_job_name = name

    @property
    def audience_generation_job_arn(self) -> str:
        """The job's ARN (the custom resource's physical id)."""
        return self.resource.get_att_string("AudienceGenerationJobArn")


def _seed_request(scope: Construct, seed: SeedAudience, role_arn: str) -> dict[str, object]:
    if seed.data_source_s3_uri is None and seed.sql_parameters is None:
        raise fail(
            scope,
            "seed_audience",
            seed,
            "give data_source_s3_uri (an S3 seed) or sql_parameters (a SQL seed)",
        )
    uri = seed.data_source_s3_uri
    if uri is not None and not is_unresolved(uri) and not uri.startswith("s3://"):
        raise fail(scope, "seed_audience.data_source_s3_uri", uri, "must be an s3:// URI")
    sql = seed.sql_parameters
    compute = seed.sql_compute_configuration
    if sql is not None and sql.query_string is None and sql.analysis_template_arn is None:
        raise fail(
            scope,
            "seed_audience.sql_parameters",
            sql,
            "give query_string (the SQL) or analysis_template_arn (an analysis template of the "
            "collaboration)",
        )
    if compute is not None and sql is None:
        raise fail(
            scope,
            "seed_audience.sql_compute_configuration",
            compute,
            "sizes the workers of a SQL seed's query: give sql_parameters too, or leave it out",
        )
    return {
        "dataSource": None if uri is None else {"s3Uri": uri},
        "roleArn": role_arn,
        "sqlParameters": None
        if sql is None
        else {
            "queryString": sql.query_string,
            "analysisTemplateArn": sql.analysis_template_arn,
            "parameters": dict(sql.parameters) or None,
        },
        "sqlComputeConfiguration": None
        if compute is None
        else {
            "worker": {
                "type": compute.type,
                "number": compute.number,
                "properties": None
                if compute.spark_properties is None
                else {"spark": dict(compute.spark_properties)},
            }
        },
    }
