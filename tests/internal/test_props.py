"""Properties are checked against their constructs' own type hints, at synth time."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceGenerationJob,
    AudienceModel,
    BatchInferenceJob,
    ConfiguredAudienceModel,
    ConstructValidationError,
    JobStatusTracker,
    LookalikeAudiencePipeline,
    SeedAudience,
    SeedAudienceBucket,
)

CAM = "arn:aws:cleanrooms-ml:us-east-1:111122223333:configured-audience-model/c-1"
DATASET = "arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/d-1"
ROLE = "arn:aws:iam::111122223333:role/SeedRole"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda s: AudienceEncryptionKey(s, "K", alias=7),
            r"Scratch/K: invalid alias=7: must be a string",
        ),
        (
            lambda s: SeedAudienceBucket(s, "B", noncurrent_version_expiration_days="30"),
            r"invalid noncurrent_version_expiration_days='30': must be a whole number",
        ),
        (
            lambda s: AudienceModel(s, "M", training_dataset=7),
            r"invalid training_dataset=7: must be a construct with training_dataset_arn or a "
            r"string",
        ),
        (
            lambda s: AudienceGenerationJob(
                s, "J", configured_audience_model=CAM, seed_audience=SeedAudience(7)
            ),
            r"invalid seed_audience.role=7: must be an iam.IRole or a construct with role_arn or a "
            r"string",
        ),
        (
            lambda s: AudienceGenerationJob(
                s,
                "J",
                configured_audience_model=CAM,
                seed_audience=SeedAudience(ROLE, data_source_s3_uri="s3://b/seed.jsonl"),
                include_seed_in_output=b"x",
            ),
            r"invalid include_seed_in_output=b'x': must be True or False",
        ),
        (
            lambda s: ConfiguredAudienceModel(
                s,
                "C",
                audience_model=CAM,
                output_config=7,  # type: ignore[arg-type]
            ),
            r"invalid output_config=7: must be an AudienceOutputConfig",
        ),
        (
            lambda s: BatchInferenceJob(
                s,
                "B",
                model_id="anthropic.claude-3-haiku-20240307-v1:0",
                role=ROLE,
                input_s3_uri="s3://in/x/",
                output_s3_uri="s3://out/x/",
                tags={7: "x"},
            ),
            r"invalid tags key=7: must be a string",
        ),
    ],
)
def test_fails_if_a_property_is_of_the_wrong_type(
    stack: cdk.Stack, build: object, message: str
) -> None:
    # GIVEN a property of a type its construct does not take
    # WHEN the construct is built THEN the error names the property, the value and the type
    with pytest.raises(ConstructValidationError, match=message):
        build(stack)  # type: ignore[operator]


def test_tokens_of_the_right_kind_pass(stack: cdk.Stack) -> None:
    # GIVEN a string token for a string and a number token for a number
    alias = cdk.Fn.import_value("Alias")
    days = cdk.Token.as_number(cdk.Fn.import_value("Days"))
    # THEN both constructs accept them
    AudienceEncryptionKey(stack, "K", alias=alias)
    SeedAudienceBucket(stack, "B", noncurrent_version_expiration_days=days)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda s: AudienceEncryptionKey(s, "K", removal_policy=cdk.RemovalPolicy.SNAPSHOT),
            r"invalid removal_policy='RemovalPolicy.SNAPSHOT': must be RemovalPolicy.RETAIN or",
        ),
        (
            lambda s: AudienceEncryptionKey(s, "K", pending_window=cdk.Duration.hours(200)),
            r"invalid pending_window='8 days 8 hours': must be a whole number of days",
        ),
        (
            lambda s: JobStatusTracker(
                s, "JobStatusTracker", initial_interval=cdk.Duration.millis(1500)
            ),
            r"invalid initial_interval=.*: must be a whole number of seconds",
        ),
        (
            lambda s: JobStatusTracker(
                s,
                "JobStatusTracker",
                initial_interval=cdk.Duration.seconds(cdk.Token.as_number(cdk.Aws.NO_VALUE)),
            ),
            r"invalid initial_interval=.*: must be a literal Duration",
        ),
        (
            lambda s: LookalikeAudiencePipeline(
                s, "P", configured_audience_model=CAM, key_alias="alias/aws/x"
            ),
            r"Scratch/P: invalid key_alias='alias/aws/x': the prefix 'alias/aws/' is reserved",
        ),
        (
            lambda s: LookalikeAudiencePipeline(
                s, "P", configured_audience_model=CAM, cleanrooms_ml_role="SeedRole"
            ),
            r"Scratch/P: invalid cleanrooms_ml_role='SeedRole': must be an IAM role ARN",
        ),
        (
            lambda s: AudienceGenerationJob(
                s,
                "J",
                configured_audience_model=CAM,
                seed_audience=SeedAudience(
                    "arn:aws:iam::111122223333:role/x*", data_source_s3_uri="s3://b/seed.jsonl"
                ),
            ),
            r"invalid seed_audience.role='arn:aws:iam::111122223333:role/x\*': must name one role",
        ),
    ],
)
def test_fails_if_a_value_cannot_be_used_as_given(
    stack: cdk.Stack, build: object, message: str
) -> None:
    with pytest.raises(ConstructValidationError, match=message):
        build(stack)  # type: ignore[operator]


def test_fails_if_a_role_name_holds_non_ascii_letters(stack: cdk.Stack) -> None:
    # GIVEN a role name with an accented letter (IAM's \\w is ASCII, as in Java)
    from constructs_lib import CleanRoomsMlServiceRole

    with pytest.raises(ConstructValidationError, match=r"invalid role_name='éte'"):
        CleanRoomsMlServiceRole(stack, "R", role_name="éte")


def test_a_workflow_shorter_than_the_default_quota_wait_is_accepted(stack: cdk.Stack) -> None:
    # GIVEN a run limit of 1 hour (the default quota wait is 12 hours)
    from constructs_lib import AudienceGenerationWorkflow

    # THEN the wait defaults to the run's limit instead of failing
    workflow = AudienceGenerationWorkflow(
        stack, "W", configured_audience_model=CAM, seed_role=ROLE, timeout=cdk.Duration.hours(1)
    )
    assert workflow.quota_wait == 3600
