"""IAM service role that AWS Clean Rooms ML assumes to read training data and seeds and to
write generated audiences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._internal import defaults
from .._internal.props import check_props
from .._internal.service_role import ServiceRoleConstruct, TrustConditions
from .._internal.validation import check_api_value
from .encryption_key import AudienceEncryptionKey, as_kms_key

#: Clean Rooms ML resources on whose behalf the role may be assumed: exactly the three the
#: AWS Clean Rooms User Guide's lookalike roles trust ("Set up service roles for AWS Clean Rooms
#: ML", https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-roles.html): reading training
#: data (``training-dataset/*``), writing a lookalike segment (``configured-audience-model/*``)
#: and reading seed data (``audience-generation-job/*``). ``audience-model/*`` is not documented
#: as a source and is not trusted.
CLEAN_ROOMS_ML_SOURCE_RESOURCES = (
    "training-dataset/*",
    "configured-audience-model/*",
    "audience-generation-job/*",
)

#: The same page's trust policies compare with ``StringEqualsIfExists aws:SourceAccount`` and
#: ``ArnLikeIfExists aws:SourceArn``.
CLEAN_ROOMS_ML_TRUST = TrustConditions(account="StringEqualsIfExists", source_arn="ArnLikeIfExists")

_GLUE_READ_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:GetUserDefinedFunctions",
]

_GLUE_DATA_SOURCE = "trainingData.inputConfig.dataSource.glueDataSource"


@dataclass(frozen=True)
class GlueTrainingTable:
    """A Glue table Clean Rooms ML trains on, and the S3 location of its data.

    :param database_name: Glue database name (``CreateTrainingDataset`` limits).
    :param table_name: Glue table name (``CreateTrainingDataset`` limits).
    :param data_bucket: bucket holding the table's data files.
    :param data_prefix:
        key prefix of the table's data. Default: the whole bucket.
    :param catalog_id:
        Glue Data Catalog id (an account id). Default: this stack's account.
    """

    database_name: str
    table_name: str
    data_bucket: s3.IBucket
    data_prefix: str = ""
    catalog_id: str | None = None


class CleanRoomsMlServiceRole(ServiceRoleConstruct):
    """The role ``cleanrooms-ml.amazonaws.com`` assumes for lookalike modeling.

    Trusted only by Clean Rooms ML acting for this account (``aws:SourceAccount``) and for its
    training datasets, configured audience models and generation jobs in this account and region
    (``aws:SourceArn``), in the ``...IfExists`` form the Clean Rooms ML user guide documents.
    Its one customer-managed policy names every action and resource: the Glue catalog, databases
    and tables given (and ``glue:CreateDatabase`` on the ``default`` database only), their data
    prefixes, the seed prefix, the output prefix and the keys.

    Example::

        role = CleanRoomsMlServiceRole(self, "CleanRoomsMlRole",
            training_tables=[GlueTrainingTable(database_name="ads", table_name="events",
                                               data_bucket=data_bucket, data_prefix="events/")],
            seed_bucket=seeds.bucket, seed_prefix="seeds/",
            output_bucket=seeds.bucket, output_prefix="audiences/",
            encryption_key=key)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        training_tables: Sequence[GlueTrainingTable] = (),
        seed_bucket: s3.IBucket | None = None,
        seed_prefix: str = "",
        output_bucket: s3.IBucket | None = None,
        output_prefix: str = "",
        encryption_key: kms.IKey | AudienceEncryptionKey | None = None,
        sql_seed_membership: str | None = None,
        role_name: str | None = None,
    ) -> None:
        """
        :param training_tables: Glue tables (and their data) the role reads for training.
            Default: none; add more with ``add_training_table``.
        :param seed_bucket:
            bucket holding seed audiences the role reads. Default: none.
        :param seed_prefix:
            key prefix of the seeds. Default: the whole bucket.
        :param output_bucket:
            bucket generated audiences are written to. Default: none.
        :param output_prefix:
            key prefix for output. Default: the whole bucket.
        :param encryption_key: key the role may encrypt and decrypt with, besides the buckets'
            own keys. Default: none.
        :param sql_seed_membership:
            this account's membership id in the collaboration where SQL seeds run (the
            member who can query): lets the role run the seeds' protected queries. Default:
            none (S3 seeds only); add one with ``add_sql_seed_membership``.
        :param role_name: physical role name, IAM ``CreateRole`` ``RoleName`` limits.
            Note that the AWS managed policy ``AWSCleanRoomsMLFullAccess`` only lets users pass
            roles named ``cleanrooms-ml*``. Default: a name generated by CloudFormation.
        """
        super().__init__(scope, construct_id)
        check_props(self, CleanRoomsMlServiceRole.__init__, locals())
        self._init_role(
            principal=defaults.CLEAN_ROOMS_ML_PRINCIPAL,
            arn_service=defaults.CLEAN_ROOMS_ML_ARN_SERVICE,
            resource_patterns=CLEAN_ROOMS_ML_SOURCE_RESOURCES,
            trust=CLEAN_ROOMS_ML_TRUST,
            role_name=role_name,
            description="Assumed by AWS Clean Rooms ML to read training data and seed audiences "
            "and to write generated audiences",
        )
        for table in training_tables:
            self.add_training_table(table)
        self._grant_locations(
            read=[(seed_bucket, seed_prefix, "seed_prefix")],
            write=[(output_bucket, output_prefix, "output_prefix")],
            key=as_kms_key(encryption_key),
        )
        if sql_seed_membership is not None:
            self.add_sql_seed_membership(sql_seed_membership)

    def add_sql_seed_membership(self, membership_identifier: str) -> None:
        """Let the role run the protected query of a SQL seed (``seedAudience.sqlParameters``)
        as ``membership_identifier``, this account's membership in the collaboration.

        The statements of "Create a service role to read seed data", SQL query variant ("Set up
        service roles for AWS Clean Rooms ML",
        https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-roles.html):
        ``cleanrooms:GetCollaborationAnalysisTemplate``, ``GetSchema`` and
        ``StartProtectedQuery`` on ``*``, ``GetProtectedQuery`` and ``UpdateProtectedQuery`` on
        the membership of the member who runs the query."""
        check_api_value(
            self,
            "sql_seed_membership",
            membership_identifier,
            service="cleanrooms",
            operation="StartProtectedQuery",
            member="membershipIdentifier",
        )
        membership = Stack.of(self).format_arn(
            service="cleanrooms",
            resource="membership",
            resource_name=membership_identifier,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self._permissions.allow(
            [
                "cleanrooms:GetCollaborationAnalysisTemplate",
                "cleanrooms:GetSchema",
                "cleanrooms:StartProtectedQuery",
            ],
            ["*"],
            wildcard_reason="The AWS Clean Rooms User Guide's seed role for SQL seeds allows "
            "these on '*' (ml-roles.html): the query reads tables and templates of other "
            "members' accounts; only Clean Rooms ML acting for this account's generation jobs "
            "can assume the role.",
        )
        self._permissions.allow(
            ["cleanrooms:GetProtectedQuery", "cleanrooms:UpdateProtectedQuery"], [membership]
        )

    def add_training_table(self, table: GlueTrainingTable) -> None:
        """Let the role read ``table``'s Glue metadata and its data files."""
        for prop, value, member in (
            ("database_name", table.database_name, "databaseName"),
            ("table_name", table.table_name, "tableName"),
            ("catalog_id", table.catalog_id, "catalogId"),
        ):
            check_api_value(
                self,
                prop,
                value,
                service="cleanroomsml",
                operation="CreateTrainingDataset",
                member=f"{_GLUE_DATA_SOURCE}.{member}",
            )
        stack = Stack.of(self)
        catalog = table.catalog_id or stack.account

        def glue_arn(resource: str, name: str | None = None) -> str:
            return stack.format_arn(
                service="glue", account=catalog, resource=resource, resource_name=name
            )

        self._permissions.allow(
            _GLUE_READ_ACTIONS,
            [
                glue_arn("catalog"),
                glue_arn("database", table.database_name),
                glue_arn("table", f"{table.database_name}/{table.table_name}"),
                # Clean Rooms ML's Glue reader also resolves the catalog's default database.
                glue_arn("database", "default"),
                # GetUserDefinedFunctions requires the userdefinedfunction resource type
                # (Service Authorization Reference, "Actions, resources, and condition keys for
                # AWS Glue", https://docs.aws.amazon.com/service-authorization/latest/reference/
                # list_awsglue.html): the functions of the table's database only.
                glue_arn("userDefinedFunction", f"{table.database_name}/*"),
            ],
            wildcard_reason="Glue user-defined functions of the training table's database: "
            "their names are not known at synth; only this database's, read-only.",
        )
        # "Create a service role to read training data" grants glue:CreateDatabase on
        # database/default ("Set up service roles for AWS Clean Rooms ML",
        # https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-roles.html); the Service
        # Authorization Reference lists catalog and database as the action's resource types
        # ("Actions, resources, and condition keys for AWS Glue",
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsglue.html),
        # so the catalog ARN is allowed too. No other database can be created.
        self._permissions.allow(
            ["glue:CreateDatabase"], [glue_arn("catalog"), glue_arn("database", "default")]
        )
        self._permissions.read_objects(table.data_bucket, table.data_prefix, "data_prefix")
