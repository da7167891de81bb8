"""The rules behind the service models' patterns, in words a person reads.

botocore's models state a field's format as a regular expression (Bedrock's model id is 435
characters of one). An error message states the rule instead, with an example; the pattern itself
is only quoted when it is short enough to read (``MAX_QUOTED_PATTERN``). Keys are botocore shape
names (``service``, ``shape``), so the same words serve every operation that uses a shape.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A pattern longer than this is never quoted in a message.
MAX_QUOTED_PATTERN = 80


@dataclass(frozen=True)
class Rule:
    """A field's format in words, and a value that follows it."""

    words: str
    example: str
    #: For ARNs: a value that does not start with ``arn:`` was probably a name.
    arn: bool = False

    def message(self, value: object) -> str:
        hint = ""
        if self.arn and isinstance(value, str) and not value.startswith("arn:"):
            hint = ", got a name?"
        return f"must be {self.words} (e.g. {self.example}){hint}"


def _clean_rooms_ml_arn(resource: str, words: str) -> Rule:
    return Rule(
        f"the ARN of a Clean Rooms ML {words} "
        f"(arn:aws:cleanrooms-ml:<region>:<account>:{resource}/<id>)",
        f"arn:aws:cleanrooms-ml:us-east-1:111122223333:{resource}/a1b2c3d4",
        arn=True,
    )


_ROLE = Rule(
    "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    "arn:aws:iam::111122223333:role/CleanRoomsMlRole",
    arn=True,
)
_ACCOUNT = Rule("a 12-digit AWS account id", "111122223333")
_GLUE_NAME = (
    "letters, digits and underscores, with single hyphens between them "
    "(no leading or trailing hyphen{spaces})"
)

RULES: dict[tuple[str, str], Rule] = {
    ("cleanroomsml", "AudienceModelArn"): _clean_rooms_ml_arn("audience-model", "audience model"),
    ("cleanroomsml", "ConfiguredAudienceModelArn"): _clean_rooms_ml_arn(
        "configured-audience-model", "configured audience model"
    ),
    ("cleanroomsml", "TrainingDatasetArn"): _clean_rooms_ml_arn(
        "training-dataset", "training dataset"
    ),
    ("cleanroomsml", "AudienceGenerationJobArn"): _clean_rooms_ml_arn(
        "audience-generation-job", "audience generation job"
    ),
    ("cleanroomsml", "AnalysisTemplateArn"): Rule(
        "the ARN of an AWS Clean Rooms analysis template "
        "(arn:aws:cleanrooms:<region>:<account>:membership/<membership id>/analysistemplate/<id>)",
        "arn:aws:cleanrooms:us-east-1:111122223333:membership/"
        "0f8fad5b-d9cb-469f-a165-70867728950e/analysistemplate/a1b2c3d4",
        arn=True,
    ),
    ("cleanroomsml", "IamRoleArn"): _ROLE,
    ("bedrock", "RoleArn"): _ROLE,
    ("cleanroomsml", "KmsKeyArn"): Rule(
        "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; not an alias)",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        arn=True,
    ),
    ("bedrock", "KmsKeyId"): Rule(
        "a KMS key id, key ARN, alias name (alias/<name>) or alias ARN",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    ("cleanroomsml", "UUID"): Rule(
        "a UUID in lowercase hexadecimal (8-4-4-4-12 digits), as AWS Clean Rooms shows "
        "collaboration and membership ids",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    ),
    ("cleanrooms", "MembershipIdentifier"): Rule(
        "the membership id of this account in the collaboration: a UUID in lowercase "
        "hexadecimal (8-4-4-4-12 digits), as the AWS Clean Rooms console shows it",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    ),
    ("cleanrooms", "ConfiguredAudienceModelArn"): _clean_rooms_ml_arn(
        "configured-audience-model", "configured audience model"
    ),
    ("cleanrooms", "ConfiguredAudienceModelAssociationName"): Rule(
        "a name that is not blank (printable characters, tabs allowed)", "lookalike-model"
    ),
    ("cleanrooms", "ResourceDescription"): Rule(
        "printable text (tabs and line breaks allowed)", "Lookalike model for the campaign"
    ),
    ("cleanroomsml", "S3Path"): Rule(
        "an S3 URI (s3://<bucket>/<key>)", "s3://my-bucket/audiences/"
    ),
    ("bedrock", "S3Uri"): Rule(
        "an S3 URI s3://<bucket>/<key>: a bucket of 3-63 lowercase letters, digits, dots or "
        "hyphens, and a key of letters, digits and !_*'().- between slashes (no spaces)",
        "s3://my-bucket/batch-input/",
    ),
    ("bedrock", "ModelId"): Rule(
        "a Bedrock model id, inference profile id or ARN (foundation model, inference profile, "
        "provisioned throughput, custom model or imported model)",
        "anthropic.claude-3-haiku-20240307-v1:0 or us.anthropic.claude-3-haiku-20240307-v1:0",
    ),
    ("bedrock", "ModelInvocationJobName"): Rule(
        "1-63 letters or digits, then up to 63 letters, digits, '+', '-' or '.' "
        "(no spaces or underscores; starts with a letter or digit)",
        "audience-2026-11-23",
    ),
    ("bedrock", "AccountId"): _ACCOUNT,
    ("cleanroomsml", "AccountId"): _ACCOUNT,
    ("cleanroomsml", "NameString"): Rule(
        "a name that is not blank (printable characters, tabs allowed)", "lookalike-model"
    ),
    ("cleanroomsml", "ResourceDescription"): Rule(
        "printable text (tabs and line breaks allowed)", "Weekly lookalike audiences"
    ),
    ("cleanroomsml", "GlueDatabaseName"): Rule(_GLUE_NAME.format(spaces=""), "ads_db"),
    ("cleanroomsml", "GlueTableName"): Rule(
        _GLUE_NAME.format(spaces="; spaces allowed"), "interactions"
    ),
    ("cleanroomsml", "ColumnName"): Rule(_GLUE_NAME.format(spaces="; spaces allowed"), "user_id"),
}


def has_rule(service: str, shape_name: str) -> bool:
    return (service, shape_name) in RULES


def rule_for(service: str, shape_name: str, pattern: str, value: object) -> str:
    """What ``value``, which breaks ``pattern`` (of ``shape_name``), must be, in words."""
    rule = RULES.get((service, shape_name))
    if rule is not None:
        return rule.message(value)
    if len(pattern) <= MAX_QUOTED_PATTERN:
        return f"must match the pattern {pattern}"
    return f"is not a valid {shape_name} for the {service} API"
