"""Training dataset, audience model, configured audience model (+ policy) and generation job."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import audience_generation_job as job_handler
import audience_model as model_handler
import aws_cdk as cdk
import configured_audience_model as cam_handler
import configured_audience_model_policy as policy_handler
import lifecycle
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    AudienceEncryptionKey,
    AudienceGenerationJob,
    AudienceModel,
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    CleanRoomsMlServiceRole,
    ColumnType,
    ConfiguredAudienceModel,
    ConstructValidationError,
    GlueTrainingTable,
    SeedAudience,
    SeedAudienceBucket,
    SharedAudienceMetrics,
    SqlParameters,
    TagOnCreatePolicy,
    TrainingDataColumn,
    TrainingDataset,
    WorkerComputeConfiguration,
    WorkerComputeType,
)
from constructs_lib._internal import contract as _contract
from tests.conftest import Synthesized, synth_stack

ACCOUNT = "111122223333"
MODEL_ARN = f"arn:aws:cleanrooms-ml:us-east-1:{ACCOUNT}:audience-model/m-1"
CAM_ARN = f"arn:aws:cleanrooms-ml:us-east-1:{ACCOUNT}:configured-audience-model/c-1"
DATASET_ARN = f"arn:aws:cleanrooms-ml:us-east-1:{ACCOUNT}:training-dataset/d-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cleanrooms-ml-seeds"
COLUMNS = [
    TrainingDataColumn("user_id", ColumnType.USER_ID),
    TrainingDataColumn("item_id", ColumnType.ITEM_ID),
    TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
    TrainingDataColumn("channel", ColumnType.CATEGORICAL_FEATURE),
]


def build_chain(stack: cdk.Stack) -> None:
    key = AudienceEncryptionKey(stack, "Key")
    seeds = SeedAudienceBucket(stack, "Seeds", encryption_key=key)
    data = s3.Bucket.from_bucket_name(stack, "Data", "training-data")
    role = CleanRoomsMlServiceRole(
        stack,
        "Role",
        training_tables=[GlueTrainingTable("ads", "events", data, "events/")],
        seed_bucket=seeds.bucket,
        seed_prefix="seeds/",
        output_bucket=seeds.bucket,
        output_prefix="audiences/",
        encryption_key=key,
    )
    dataset = TrainingDataset(
        stack,
        "Dataset",
        role=role,
        database_name="ads",
        table_name="events",
        columns=COLUMNS,
        tags={"team": "ads"},
    )
    model = AudienceModel(
        stack,
        "Model",
        training_dataset=dataset,
        training_data_start_time=datetime.datetime(2024, 1, 1),
        training_data_end_time="2024-06-30T00:00:00Z",
        kms_key=key,
        description="lookalike",
        tags={"team": "ads"},
    )
    configured = ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model=model,
        output_config=AudienceOutputConfig(seeds.s3_uri("audiences/"), role),
        shared_audience_metrics=[SharedAudienceMetrics.ALL],
        min_matching_seed_size=500,
        audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10_000, 50_000]),
        child_resource_tag_on_create_policy=TagOnCreatePolicy.FROM_PARENT_RESOURCE,
        policy=iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[iam.AccountPrincipal("444455556666")],
                    actions=["cleanrooms-ml:StartAudienceGenerationJob"],
                    resources=["*"],
                )
            ]
        ),
    )
    AudienceGenerationJob(
        stack,
        "S3Job",
        configured_audience_model=configured,
        seed_audience=SeedAudience(role=role, data_source_s3_uri=seeds.s3_uri("seeds/a.jsonl")),
        include_seed_in_output=True,
    )
    AudienceGenerationJob(
        stack,
        "SqlJob",
        configured_audience_model=configured,
        seed_audience=SeedAudience(
            role=role,
            sql_parameters=SqlParameters(
                query_string="SELECT user_id FROM seeds", parameters={"segment": "sports"}
            ),
            sql_compute_configuration=WorkerComputeConfiguration(WorkerComputeType.CR_4X, 16),
        ),
        collaboration_id="2b3c4d5e-1111-2222-3333-444455556666",
    )


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN the whole chain in one stack WHEN synthesized through the cdk-nag gate
    return synth_stack(tmp_path_factory.mktemp("chain"), build_chain)


def _one(synthesized: Synthesized, resource_type: str, prefix: str = "") -> dict[str, Any]:
    found = [r for k, r in synthesized.resources(resource_type).items() if k.startswith(prefix)]
    assert len(found) == 1, (resource_type, prefix, len(found))
    return found[0]


def test_training_dataset_wraps_the_l1(synthesized: Synthesized) -> None:
    dataset = _one(synthesized, "AWS::CleanRoomsML::TrainingDataset")
    props = dataset["Properties"]
    [data] = props["TrainingData"]
    assert data["Type"] == "INTERACTIONS"
    assert data["InputConfig"]["DataSource"]["GlueDataSource"] == {
        "DatabaseName": "ads",
        "TableName": "events",
    }
    assert data["InputConfig"]["Schema"][0] == {"ColumnName": "user_id", "ColumnTypes": ["USER_ID"]}
    assert props["Tags"] == [{"Key": "team", "Value": "ads"}]
    assert "Fn::GetAtt" in props["RoleArn"]
    assert len(props["Name"]) <= 63
    # the role's policy exists before Clean Rooms ML reads the table
    assert any(d.startswith("RolePolicy") for d in dataset["DependsOn"])


def test_audience_model_request_is_typed_for_the_api(synthesized: Synthesized) -> None:
    model = _one(synthesized, _contract.AUDIENCE_MODEL)
    request = model["Properties"]["Request"]
    assert request["trainingDataStartTime"] == "2024-01-01T00:00:00Z"
    assert request["trainingDataEndTime"] == "2024-06-30T00:00:00Z"
    assert "Fn::GetAtt" in request["trainingDatasetArn"]
    assert request["description"] == "lookalike"
    assert model["Properties"]["Tags"] == {"team": "ads"}
    assert model["Properties"]["ServiceTimeout"] == "600"
    assert model["DeletionPolicy"] == "Delete"


def test_configured_model_request_uses_api_names_and_enum_values(
    synthesized: Synthesized,
) -> None:
    request = _one(synthesized, _contract.CONFIGURED_AUDIENCE_MODEL)["Properties"]["Request"]
    assert request["sharedAudienceMetrics"] == ["ALL"]
    assert request["minMatchingSeedSize"] == 500
    assert request["audienceSizeConfig"] == {
        "audienceSizeType": "ABSOLUTE",
        "audienceSizeBins": [10000, 50000],
    }
    assert request["childResourceTagOnCreatePolicy"] == "FROM_PARENT_RESOURCE"
    assert "Fn::GetAtt" in request["outputConfig"]["roleArn"]
    assert request["outputConfig"]["destination"]["s3Destination"]["s3Uri"]["Fn::Join"]


def test_policy_is_a_json_string_put_on_the_configured_model(synthesized: Synthesized) -> None:
    policy = _one(synthesized, _contract.CONFIGURED_AUDIENCE_MODEL_POLICY)
    request = policy["Properties"]["Request"]
    assert request["configuredAudienceModelArn"]["Fn::GetAtt"][1] == "ConfiguredAudienceModelArn"
    text = json.dumps(request["configuredAudienceModelPolicy"])
    assert "StartAudienceGenerationJob" in text
    assert "444455556666" in text


def test_jobs_serialize_seeds_of_both_kinds(synthesized: Synthesized) -> None:
    s3_job = _one(synthesized, _contract.AUDIENCE_GENERATION_JOB, "S3Job")["Properties"]["Request"]
    assert s3_job["includeSeedInOutput"] is True
    assert "sqlParameters" not in s3_job["seedAudience"]
    sql_job = _one(synthesized, _contract.AUDIENCE_GENERATION_JOB, "SqlJob")["Properties"][
        "Request"
    ]
    assert sql_job["seedAudience"]["sqlParameters"] == {
        "queryString": "SELECT user_id FROM seeds",
        "parameters": {"segment": "sports"},
    }
    assert sql_job["seedAudience"]["sqlComputeConfiguration"] == {
        "worker": {"type": "CR.4X", "number": 16}
    }
    assert "dataSource" not in sql_job["seedAudience"]


def test_one_handler_and_one_provider_serve_every_resource(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    assert len(functions) == 2  # the handler and the provider framework's relay
    handler = next(
        f for f in functions.values() if f["Properties"]["Handler"] == "handler.on_event"
    )
    assert handler["Properties"]["Runtime"] == "python3.14"
    assert handler["Properties"]["ReservedConcurrentExecutions"] == 5
    tokens = {
        json.dumps(r["Properties"]["ServiceToken"])
        for t in (
            _contract.AUDIENCE_MODEL,
            _contract.CONFIGURED_AUDIENCE_MODEL,
            _contract.CONFIGURED_AUDIENCE_MODEL_POLICY,
            _contract.AUDIENCE_GENERATION_JOB,
        )
        for r in synthesized.resources(t).values()
    }
    assert len(tokens) == 1


def test_handler_logs_are_encrypted_and_expire(synthesized: Synthesized) -> None:
    for group in synthesized.resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 365
        assert "KmsKeyId" in group["Properties"]


def _handler_statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    policies = synthesized.resources("AWS::IAM::ManagedPolicy")
    [policy] = [p for k, p in policies.items() if k.startswith("CleanRoomsMlCustomResource")]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_handler_role_is_scoped_to_what_it_manages(synthesized: Synthesized) -> None:
    statements = _handler_statements(synthesized)
    actions = [
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert not [a for a in actions if "*" in a]
    assert len(actions) == len(
        set(
            (json.dumps(s["Resource"]), a)
            for s in statements
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        )
    )
    star = [s for s in statements if s["Resource"] == "*"]
    assert {
        a for s in star for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    } == {
        "cleanrooms-ml:ListAudienceModels",
        "cleanrooms-ml:ListConfiguredAudienceModels",
        "cleanrooms-ml:ListAudienceGenerationJobs",
    }
    pass_role = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role
    for statement in pass_role:
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": "cleanrooms-ml.amazonaws.com"}
        }
        assert "Fn::GetAtt" in statement["Resource"]
    kms = [s for s in statements if "kms:CreateGrant" in s["Action"]]
    assert kms
    assert "Fn::GetAtt" in kms[0]["Resource"]


def test_same_permission_is_granted_once(synthesized: Synthesized) -> None:
    statements = _handler_statements(synthesized)
    keys = [json.dumps([s["Action"], s["Resource"]], sort_keys=True) for s in statements]
    assert len(keys) == len(set(keys))


def test_custom_resources_wait_for_the_handler_permissions(synthesized: Synthesized) -> None:
    for resource_type in (_contract.AUDIENCE_MODEL, _contract.AUDIENCE_GENERATION_JOB):
        for resource in synthesized.resources(resource_type).values():
            assert any(
                d.startswith("CleanRoomsMlCustomResourceProviderPolicy")
                for d in resource["DependsOn"]
            )


def test_contract_names_match_the_handler() -> None:
    assert _contract.REQUEST_PROPERTY == lifecycle.REQUEST_PROPERTY
    assert _contract.TAGS_PROPERTY == lifecycle.TAGS_PROPERTY
    assert _contract.OWNER_TAG == lifecycle.OWNER_TAG
    assert _contract.AUDIENCE_MODEL == model_handler.RESOURCE_TYPE
    assert _contract.CONFIGURED_AUDIENCE_MODEL == cam_handler.RESOURCE_TYPE
    assert _contract.CONFIGURED_AUDIENCE_MODEL_POLICY == policy_handler.RESOURCE_TYPE
    assert _contract.AUDIENCE_GENERATION_JOB == job_handler.RESOURCE_TYPE
    import bedrock_batch_job
    import tracking

    assert _contract.BEDROCK_BATCH_INFERENCE_JOB == bedrock_batch_job.RESOURCE_TYPE
    assert _contract.SIGNAL_URL_PROPERTY == lifecycle.SIGNAL_URL_PROPERTY
    assert _contract.STATE_MACHINE_ENV == tracking.STATE_MACHINE_ENV
    assert _contract.SIGNAL_ACTION == tracking.SIGNAL_ACTION
    assert _contract.KIND_AUDIENCE_MODEL == tracking.KIND_AUDIENCE_MODEL
    assert _contract.KIND_AUDIENCE_GENERATION_JOB == tracking.KIND_AUDIENCE_GENERATION_JOB
    assert _contract.KIND_BEDROCK_BATCH_INFERENCE_JOB == tracking.KIND_BEDROCK_BATCH_INFERENCE_JOB
    import workflow_input

    assert _contract.PREPARE_ACTION == workflow_input.PREPARE_ACTION
    assert workflow_input.WorkflowInputError.__name__ == _contract.WORKFLOW_INPUT_ERROR
    assert _contract.EXECUTION_TAG == workflow_input.EXECUTION_TAG
    module, function = _contract.HANDLER.split(".")
    assert (Path(__file__).parents[2] / "lambda" / f"{module}.py").exists()
    assert callable(getattr(__import__(module), function))


# ---- defaults and names ---------------------------------------------------------------------


def test_default_names_change_when_a_replacing_field_changes() -> None:
    stack = cdk.Stack(cdk.App(), "Names")
    a = AudienceModel(stack, "A", training_dataset=DATASET_ARN, description="one")
    b = AudienceModel(stack, "B", training_dataset=DATASET_ARN, description="one")
    stack2 = cdk.Stack(cdk.App(), "Names")
    a2 = AudienceModel(stack2, "A", training_dataset=DATASET_ARN, description="two")
    a3 = AudienceModel(
        cdk.Stack(cdk.App(), "Names"), "A", training_dataset=DATASET_ARN, description="one"
    )
    assert a.audience_model_name != b.audience_model_name
    assert a.audience_model_name != a2.audience_model_name
    assert a.audience_model_name == a3.audience_model_name  # deterministic
    assert all(len(n) <= 63 for n in (a.audience_model_name, a2.audience_model_name))


def test_fifty_models_and_jobs_share_one_handler(tmp_path: Path) -> None:
    # GIVEN 50 models, configured models and jobs in one stack
    def build(stack: cdk.Stack) -> None:
        role = iam.Role.from_role_arn(stack, "Role", ROLE_ARN)
        for i in range(50):
            model = AudienceModel(stack, f"Model{i}", training_dataset=DATASET_ARN)
            configured = ConfiguredAudienceModel(
                stack,
                f"Configured{i}",
                audience_model=model,
                output_config=AudienceOutputConfig(f"s3://out/{i}/", role),
            )
            AudienceGenerationJob(
                stack,
                f"Job{i}",
                configured_audience_model=configured,
                seed_audience=SeedAudience(role, f"s3://seeds/{i}.jsonl"),
            )

    # WHEN synthesized (with the cdk-nag gate)
    result = synth_stack(tmp_path, build)
    # THEN one handler Lambda and one provider; far below CloudFormation's 500 resources
    resources = result.raw["Resources"]
    assert len(result.resources("AWS::Lambda::Function")) == 2
    assert len(result.resources(_contract.AUDIENCE_MODEL)) == 50
    assert len(result.resources(_contract.AUDIENCE_GENERATION_JOB)) == 50
    per_chain = {
        _contract.AUDIENCE_MODEL,
        _contract.CONFIGURED_AUDIENCE_MODEL,
        _contract.AUDIENCE_GENERATION_JOB,
        "AWS::CloudFormation::WaitCondition",
        "AWS::CloudFormation::WaitConditionHandle",
    }
    assert all(len(result.resources(t)) == 50 for t in per_chain)
    overhead = [r for r in resources.values() if r["Type"] not in per_chain]
    assert len(overhead) < 20  # constant: provider, tracker, roles, keys, logs, alarm
    assert len(resources) == 50 * len(per_chain) + len(overhead) < 300
    assert len(result.resources("AWS::StepFunctions::StateMachine")) == 1


# ---- bad input ------------------------------------------------------------------------------


def test_fails_if_name_is_too_long(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError) as error:
        AudienceModel(stack, "M", training_dataset=DATASET_ARN, name="n" * 64)
    assert str(error.value) == (
        f"Scratch/M: invalid name={'n' * 64!r}: must have at most 63 characters (has 64)"
    )


def test_fails_if_training_window_is_reversed(stack: cdk.Stack) -> None:
    with pytest.raises(
        ConstructValidationError,
        match="training_data_end_time='2024-01-01T00:00:00Z': must be after",
    ):
        AudienceModel(
            stack,
            "M",
            training_dataset=DATASET_ARN,
            training_data_start_time="2024-06-01T00:00:00Z",
            training_data_end_time=datetime.datetime(2024, 1, 1),
        )


def test_fails_if_timestamp_is_not_iso(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="training_data_start_time='yesterday'"):
        AudienceModel(
            stack, "M", training_dataset=DATASET_ARN, training_data_start_time="yesterday"
        )


def test_fails_if_a_bedrock_role_is_given_where_clean_rooms_ml_assumes_it(
    stack: cdk.Stack,
) -> None:
    # GIVEN a role of the app that only Bedrock may assume
    role = iam.Role(stack, "Bedrock", assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com"))
    # WHEN it writes a configured model's output THEN synth names the role and the fix
    with pytest.raises(
        ConstructValidationError,
        match=r"invalid output_config.role='Scratch/Bedrock': the role trusts "
        r"bedrock.amazonaws.com, but cleanrooms-ml.amazonaws.com must assume it",
    ):
        ConfiguredAudienceModel(
            stack,
            "C",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("s3://out/audiences/", role),
        )


def test_fails_if_training_dataset_arn_is_malformed(stack: cdk.Stack) -> None:
    with pytest.raises(
        ConstructValidationError,
        match=r"training_dataset=.*must be the ARN of a Clean Rooms ML training dataset",
    ):
        AudienceModel(stack, "M", training_dataset="arn:aws:s3:::training-data-bucket")


@pytest.mark.parametrize(
    ("tags", "rule"),
    [
        ({f"k{i}": "v" for i in range(50)}, "at most 49 tags"),
        ({"aws:owner": "x"}, "must not start with 'aws:'"),
        ({"AWS:owner": "x"}, "must not start with 'aws:'"),
        ({_contract.OWNER_TAG: "x"}, "reserved for the handler"),
        ({"k" * 129: "v"}, "at most 128 characters"),
        ({"k": "v" * 257}, "at most 256 characters"),
    ],
)
def test_fails_if_tags_break_the_rules(stack: cdk.Stack, tags: dict[str, str], rule: str) -> None:
    with pytest.raises(ConstructValidationError, match=rule):
        AudienceModel(stack, "M", training_dataset=DATASET_ARN, tags=tags)


def test_fails_if_min_matching_seed_size_is_below_the_api_minimum(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="min_matching_seed_size=24: must be >= 25"):
        ConfiguredAudienceModel(
            stack,
            "C",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("s3://b/p/", ROLE_ARN),
            min_matching_seed_size=24,
        )


def test_fails_if_there_are_too_many_size_bins(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="at most 25 items"):
        ConfiguredAudienceModel(
            stack,
            "C",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("s3://b/p/", ROLE_ARN),
            audience_size_config=AudienceSizeConfig(
                AudienceSizeType.PERCENTAGE, list(range(1, 27))
            ),
        )


def test_fails_if_output_uri_is_not_s3(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match=r"output_config\.destination"):
        ConfiguredAudienceModel(
            stack,
            "C",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("https://b/p/", ROLE_ARN),
        )


def test_fails_if_seed_has_no_source(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="give data_source_s3_uri"):
        AudienceGenerationJob(
            stack, "J", configured_audience_model=CAM_ARN, seed_audience=SeedAudience(role=ROLE_ARN)
        )


def test_fails_if_seed_uri_is_not_s3(stack: cdk.Stack) -> None:
    with pytest.raises(
        ConstructValidationError, match=r"seed_audience\.data_source_s3_uri='/tmp/seed\.jsonl'"
    ):
        AudienceGenerationJob(
            stack,
            "J",
            configured_audience_model=CAM_ARN,
            seed_audience=SeedAudience(ROLE_ARN, "/tmp/seed.jsonl"),
        )


def test_fails_if_worker_number_is_out_of_range(stack: cdk.Stack) -> None:
    seed = SeedAudience(
        ROLE_ARN,
        sql_parameters=SqlParameters(query_string="SELECT 1"),
        sql_compute_configuration=WorkerComputeConfiguration(WorkerComputeType.CR_1X, 1),
    )
    with pytest.raises(ConstructValidationError, match=r"worker\.number=1: must be >= 2"):
        AudienceGenerationJob(stack, "J", configured_audience_model=CAM_ARN, seed_audience=seed)


def test_fails_if_a_sql_seed_has_no_collaboration(stack: cdk.Stack) -> None:
    # GIVEN a SQL seed WHEN no collaboration_id is given THEN the rule says where queries run
    seed = SeedAudience(ROLE_ARN, sql_parameters=SqlParameters(query_string="SELECT 1"))
    with pytest.raises(ConstructValidationError) as refused:
        AudienceGenerationJob(stack, "J", configured_audience_model=CAM_ARN, seed_audience=seed)
    assert refused.value.prop == "collaboration_id"
    assert "runs its query in an AWS Clean Rooms collaboration" in refused.value.rule


def test_fails_if_sql_parameters_name_no_query(stack: cdk.Stack) -> None:
    seed = SeedAudience(ROLE_ARN, sql_parameters=SqlParameters(parameters={"a": "b"}))
    with pytest.raises(ConstructValidationError, match="give query_string"):
        AudienceGenerationJob(
            stack,
            "J",
            configured_audience_model=CAM_ARN,
            seed_audience=seed,
            collaboration_id="2b3c4d5e-1111-2222-3333-444455556666",
        )


def test_fails_if_workers_are_given_for_an_s3_seed(stack: cdk.Stack) -> None:
    seed = SeedAudience(
        ROLE_ARN,
        "s3://b/s.jsonl",
        sql_compute_configuration=WorkerComputeConfiguration(WorkerComputeType.CR_1X, 2),
    )
    with pytest.raises(ConstructValidationError, match="sizes the workers of a SQL seed"):
        AudienceGenerationJob(stack, "J", configured_audience_model=CAM_ARN, seed_audience=seed)


def test_fails_if_collaboration_id_is_not_a_uuid(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="collaboration_id='collab'"):
        AudienceGenerationJob(
            stack,
            "J",
            configured_audience_model=CAM_ARN,
            seed_audience=SeedAudience(ROLE_ARN, "s3://b/s.jsonl"),
            collaboration_id="collab",
        )


def test_fails_if_training_columns_lack_a_required_type(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match=r"missing \['TIMESTAMP'\]"):
        TrainingDataset(
            stack, "D", role=ROLE_ARN, database_name="ads", table_name="events", columns=COLUMNS[:2]
        )


def test_fails_if_imported_model_arn_is_malformed(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="audience_model_arn='not-an-arn'"):
        AudienceModel.from_audience_model_arn(stack, "Imported", "not-an-arn")


def test_imported_model_is_usable(stack: cdk.Stack) -> None:
    imported = AudienceModel.from_audience_model_arn(stack, "Imported", MODEL_ARN)
    configured = ConfiguredAudienceModel(
        stack,
        "C",
        audience_model=imported,
        output_config=AudienceOutputConfig("s3://b/p/", ROLE_ARN),
    )
    cfn = configured.resource.node.default_child
    assert isinstance(cfn, cdk.CfnResource)
    props = stack.resolve(cfn._cfn_properties)
    assert props["Request"]["audienceModelArn"] == MODEL_ARN


# ---- the readiness gate's timeout -----------------------------------------------------------
# "AWS::CloudFormation::WaitCondition" (CloudFormation template reference), property Timeout:
# "The maximum time that can be specified for this property is 12 hours (43200 seconds). Updates
# aren't supported."; property Handle: "Anytime you add a WaitCondition resource during a stack
# update, you must associate the wait condition with a new WaitConditionHandle resource."
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitcondition.html


def _ready_ids(ready_timeout: cdk.Duration | None) -> dict[str, str]:
    """Logical ids of the model's WaitCondition and handle, by type."""
    stack = cdk.Stack(cdk.App(), "Timeouts")
    model = AudienceModel(stack, "Model", training_dataset=DATASET_ARN, ready_timeout=ready_timeout)
    model.ready  # noqa: B018 - the gate is created on first use
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    wait = "AWS::CloudFormation::Wait"
    ids = {r["Type"]: k for k, r in resources.items() if r["Type"].startswith(wait)}
    assert set(ids) == {
        "AWS::CloudFormation::WaitCondition",
        "AWS::CloudFormation::WaitConditionHandle",
    }
    return ids


def test_a_changed_ready_timeout_replaces_the_wait_condition_and_its_handle() -> None:
    # GIVEN synths of the same model differing only in ready_timeout
    one_hour, one_hour_again = _ready_ids(cdk.Duration.hours(1)), _ready_ids(cdk.Duration.hours(1))
    two_hours = _ready_ids(cdk.Duration.hours(2))
    # THEN equal timeouts give equal ids, and a different one new ids for both (a replacement,
    # since CloudFormation cannot update Timeout in place, with a new handle as it requires)
    assert one_hour == one_hour_again
    assert not set(one_hour.values()) & set(two_hours.values())
    assert not set(one_hour.values()) & set(_ready_ids(None).values())


def test_the_default_ready_timeout_keeps_its_ids() -> None:
    # GIVEN the default timeout and an explicit 12 hours (the same Timeout, 43200 seconds)
    # THEN the ids are equal, and without a timeout part: stacks deployed by earlier releases
    # keep their WaitCondition when they upgrade
    default = _ready_ids(None)
    assert default == _ready_ids(cdk.Duration.hours(12))
    assert all("T43200" not in logical_id for logical_id in default.values())
    assert all("T3600" in logical_id for logical_id in _ready_ids(cdk.Duration.hours(1)).values())


def test_fails_if_ready_timeout_is_a_token(stack: cdk.Stack) -> None:
    # GIVEN a timeout known only at deploy time WHEN the model is declared THEN synth fails: a
    # changed value could not replace the WaitCondition
    timeout = cdk.Duration.seconds(cdk.Token.as_number(cdk.Fn.ref("Timeout")))
    with pytest.raises(ConstructValidationError) as error:
        AudienceModel(stack, "M", training_dataset=DATASET_ARN, ready_timeout=timeout)
    assert error.value.path == "Scratch/M"
    assert error.value.prop == "ready_timeout"
    assert "must be known at synth" in error.value.rule


def test_column_types_given_as_strings_are_read_as_members(stack: cdk.Stack) -> None:
    # GIVEN columns whose types are the enum's values as strings, in any case
    columns = [
        TrainingDataColumn("user_id", "USER_ID"),  # type: ignore[arg-type]
        TrainingDataColumn("item_id", "item_id"),  # type: ignore[arg-type]
        TrainingDataColumn("event_time", ColumnType.TIMESTAMP),
    ]
    # THEN they are the members, and the dataset finds its three required columns
    assert [c.column_type for c in columns] == [
        ColumnType.USER_ID,
        ColumnType.ITEM_ID,
        ColumnType.TIMESTAMP,
    ]
    TrainingDataset(stack, "D", role=ROLE_ARN, database_name="db", table_name="t", columns=columns)


def test_fails_if_a_column_type_is_not_a_column_type(stack: cdk.Stack) -> None:
    columns = [TrainingDataColumn("user_id", "USER")]  # type: ignore[arg-type]
    with pytest.raises(
        ConstructValidationError,
        match=r"Scratch/D: invalid columns\[0\].column_type='USER': must be a ColumnType .*"
        r"ColumnType.USER_ID",
    ):
        TrainingDataset(
            stack, "D", role=ROLE_ARN, database_name="db", table_name="t", columns=columns
        )


@pytest.mark.parametrize(
    ("statements", "rule"),
    [
        (
            [iam.PolicyStatement(actions=["cleanrooms-ml:StartAudienceGenerationJob"])],
            "at least one IAM principal",
        ),
        ([], "no statements"),
    ],
)
def test_fails_if_the_configured_model_policy_names_no_principal(
    stack: cdk.Stack, statements: list[iam.PolicyStatement], rule: str
) -> None:
    # GIVEN a resource policy with a statement that says nobody, or no statement at all
    policy = iam.PolicyDocument(statements=statements)
    # THEN synth refuses it, naming the property
    with pytest.raises(ConstructValidationError, match=rf"Scratch/C: invalid policy=.*{rule}"):
        ConfiguredAudienceModel(
            stack,
            "C",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("s3://out/audiences/", ROLE_ARN),
            policy=policy,
        )
