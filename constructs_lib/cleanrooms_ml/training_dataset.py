"""Clean Rooms ML training dataset: the L1 ``AWS::CleanRoomsML::TrainingDataset``, typed and
validated."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import CfnTag
from aws_cdk import aws_cleanroomsml as cleanroomsml
from constructs import Construct

from .._internal import defaults
from .._internal.custom_resource import (
    RoleLike,
    check_role_trusts,
    check_tags,
    default_name,
    role_arn_of,
    validate_fields,
)
from .._internal.props import check_props
from .._internal.validation import fail

_OPERATION = "CreateTrainingDataset"
_INPUT = "trainingData.inputConfig"


class ColumnType(enum.Enum):
    """What a training-data column holds (``ColumnSchema.columnTypes``)."""

    USER_ID = "USER_ID"
    ITEM_ID = "ITEM_ID"
    TIMESTAMP = "TIMESTAMP"
    CATEGORICAL_FEATURE = "CATEGORICAL_FEATURE"
    NUMERICAL_FEATURE = "NUMERICAL_FEATURE"


@dataclass(frozen=True)
class TrainingDataColumn:
    """One column of the training table: its name and what it holds.

    ``column_type`` is a ``ColumnType``; its value as a string (``"USER_ID"``, any case) is
    accepted too and read as that member.
    """

    column_name: str
    column_type: ColumnType

    def __post_init__(self) -> None:
        if isinstance(self.column_type, str):
            member = ColumnType.__members__.get(self.column_type.upper())
            if member is not None:
                object.__setattr__(self, "column_type", member)


class TrainingDataset(Construct):
    """A training dataset: the Glue table of user-item interactions Clean Rooms ML trains on.

    Wraps ``AWS::CleanRoomsML::TrainingDataset`` (child ``Resource``) with typed props and
    synth-time validation against the ``CreateTrainingDataset`` service model.

    Example::

        dataset = TrainingDataset(self, "Interactions",
            role=cleanrooms_ml_role, database_name="ads", table_name="interactions",
            columns=[TrainingDataColumn("user_id", ColumnType.USER_ID),
                     TrainingDataColumn("item_id", ColumnType.ITEM_ID),
                     TrainingDataColumn("event_time", ColumnType.TIMESTAMP)])
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: RoleLike,
        database_name: str,
        table_name: str,
        columns: Sequence[TrainingDataColumn],
        catalog_id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param role: role Clean Rooms ML assumes to read the table (``roleArn``); a
            ``CleanRoomsMlServiceRole``, an ``iam.IRole`` or an ARN.
        :param database_name: Glue database (``glueDataSource.databaseName``).
        :param table_name: Glue table (``glueDataSource.tableName``).
        :param columns: the table's schema, 1-100 columns (``inputConfig.schema``); it must
            include a ``USER_ID``, an ``ITEM_ID`` and a ``TIMESTAMP`` column.
        :param catalog_id:
            Glue Data Catalog account id. Default: this stack's account.
        :param name:
            1-63 characters. Default: derived from the construct path.
        :param description:
            up to 255 characters. Default: none.
        :param tags:
            at most 49 user tags. Default: none.
        """
        super().__init__(scope, construct_id)
        check_props(self, TrainingDataset.__init__, locals())
        for index, column in enumerate(columns):
            if not isinstance(column, TrainingDataColumn):
                raise fail(
                    self,
                    f"columns[{index}]",
                    column,
                    'must be a TrainingDataColumn, e.g. TrainingDataColumn("user_id", '
                    "ColumnType.USER_ID)",
                )
            if not isinstance(column.column_type, ColumnType):
                raise fail(
                    self,
                    f"columns[{index}].column_type",
                    column.column_type,
                    "must be a ColumnType (or its value as a string): one of "
                    + ", ".join(f"ColumnType.{t.name}" for t in ColumnType),
                )
        schema = [{"columnName": c.column_name, "columnTypes": [c.column_type]} for c in columns]
        name = name or default_name(self, {})
        check_role_trusts(self, "role", role, defaults.CLEAN_ROOMS_ML_PRINCIPAL)
        validate_fields(
            self,
            _OPERATION,
            [
                ("name", "name", name),
                ("role", "roleArn", role_arn_of(role)),
                ("columns", f"{_INPUT}.schema", schema),
                (
                    "database_name",
                    f"{_INPUT}.dataSource.glueDataSource.databaseName",
                    database_name,
                ),
                ("table_name", f"{_INPUT}.dataSource.glueDataSource.tableName", table_name),
                ("catalog_id", f"{_INPUT}.dataSource.glueDataSource.catalogId", catalog_id),
                ("description", "description", description),
            ],
        )
        missing = {ColumnType.USER_ID, ColumnType.ITEM_ID, ColumnType.TIMESTAMP} - {
            c.column_type for c in columns
        }
        if missing:
            raise fail(
                self,
                "columns",
                [c.column_name for c in columns],
                "lookalike training data needs a USER_ID, an ITEM_ID and a TIMESTAMP "
                f"column; missing {sorted(t.value for t in missing)}",
            )
        check_tags(self, tags, _OPERATION)
        # The L1 resource's Tag takes a Value of 1-256 characters, though the API allows 0: the
        # CloudFormation resource schema of AWS::CleanRoomsML::TrainingDataset (Tag.Value,
        # minLength 1), which cfn-lint checks (E3033).
        for key, value in (tags or {}).items():
            if value == "":
                raise fail(self, f"tags[{key!r}]", value, "must have 1-256 characters here")
        self.resource = cleanroomsml.CfnTrainingDataset(
            self,
            "Resource",
            name=name,
            role_arn=role_arn_of(role),
            description=description,
            tags=[CfnTag(key=k, value=v) for k, v in (tags or {}).items()] or None,
            training_data=[
                cleanroomsml.CfnTrainingDataset.DatasetProperty(
                    type="INTERACTIONS",
                    input_config=cleanroomsml.CfnTrainingDataset.DatasetInputConfigProperty(
                        schema=[
                            cleanroomsml.CfnTrainingDataset.ColumnSchemaProperty(
                                column_name=c.column_name, column_types=[c.column_type.value]
                            )
                            for c in columns
                        ],
                        data_source=cleanroomsml.CfnTrainingDataset.DataSourceProperty(
                            glue_data_source=cleanroomsml.CfnTrainingDataset.GlueDataSourceProperty(
                                database_name=database_name,
                                table_name=table_name,
                                catalog_id=catalog_id,
                            )
                        ),
                    ),
                )
            ],
        )
        if isinstance(role, Construct):
            # The role's policy must be in place before Clean Rooms ML validates the table.
            self.resource.node.add_dependency(role)
        self.training_dataset_name = name

    @property
    def training_dataset_arn(self) -> str:
        """The training dataset's ARN."""
        return self.resource.attr_training_dataset_arn
