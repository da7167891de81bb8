"""The workflow's input check in the handler: what it fills, what it refuses (no AWS calls)."""

from __future__ import annotations

import hashlib
from typing import Any

import batch_input
import handler
import pytest
import workflow_input
from workflow_input import WorkflowInputError

CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:configured-audience-model/c-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/seed-reader"
WORKFLOW_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:audiences"
BATCH_WORKFLOW_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:batch"
SETTINGS: dict[str, Any] = {
    "configuredAudienceModelArn": CAM_ARN,
    "roleArn": ROLE_ARN,
    "jobNamePrefix": "weekly",
    "includeSeedInOutput": False,
    "seedPrefix": "seeds/",
    "seedBucket": "team-seeds",
    "exportSizes": [{"type": "PERCENTAGE", "value": 10}],
    "tags": {"team": "ads"},
    "batch": {
        "outputS3Uri": "s3://team-seeds/batch-output/",
        "inputS3Uri": "s3://team-seeds/batch-input/",
        "workflowArn": BATCH_WORKFLOW_ARN,
        "caller": WORKFLOW_ARN,
    },
}


def _prepare(given: dict[str, Any], execution: str = "run-1") -> dict[str, Any]:
    return handler.on_event(
        {
            "Action": workflow_input.PREPARE_ACTION,
            "Input": given,
            "ExecutionName": execution,
            "Settings": SETTINGS,
        }
    )


def test_seed_file_becomes_a_complete_pascal_case_request() -> None:
    plan = _prepare({"seedObject": {"bucket": "team-seeds", "key": "seeds/2026/w48.jsonl"}})
    request = plan["request"]
    assert request["Name"].startswith("weekly-")
    assert len(request["Name"]) == len("weekly-") + 16
    assert request["SeedAudience"] == {
        "RoleArn": ROLE_ARN,
        "DataSource": {"S3Uri": "s3://team-seeds/seeds/2026/w48.jsonl"},
    }
    assert request["Tags"] == {"team": "ads", workflow_input.EXECUTION_TAG: "run-1"}
    assert plan["exports"] == [
        {
            "Name": f"{request['Name']}-percentage-10",
            "AudienceSize": {"Type": "PERCENTAGE", "Value": 10},
            "Description": f"percentage 10 of {request['Name']}",
        }
    ]
    # the run of the batch inference workflow it starts: one name per audience workflow and
    # execution, the folders named by the batch run's id (as the batch workflow derives it)
    name = "audience-" + hashlib.sha256(f"{WORKFLOW_ARN}/run-1".encode()).hexdigest()
    run_id = hashlib.sha256(name.encode()).hexdigest()[:16]
    assert plan["batch"]["ExecutionName"] == name
    assert len(name) <= 80  # StartExecution's name limit
    assert plan["batch"]["ExecutionArn"] == (
        f"arn:aws:states:us-east-1:123456789012:execution:batch:{name}"
    )
    assert plan["batch"]["OutputS3Uri"] == f"s3://team-seeds/batch-output/{run_id}/"
    assert plan["batch"]["ManifestS3Uri"] == (
        f"s3://team-seeds/batch-output/{run_id}/manifest.json"
    )
    assert batch_input.run_id_of(name) == run_id
    # the Bedrock input of a seed file's run: the folder named like the seed file
    assert plan["batch"]["InputS3Uri"] == "s3://team-seeds/batch-input/2026/w48/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "s3://team-seeds/batch-input/"),
        (
            {"batchInputS3Uri": "s3://team-seeds/batch-input/campaign-7/"},
            "s3://team-seeds/batch-input/campaign-7/",
        ),
        (
            {"batchInputS3Uri": "s3://team-seeds/batch-input/prompts.jsonl"},
            "s3://team-seeds/batch-input/prompts.jsonl",
        ),
    ],
)
def test_a_manual_run_names_its_bedrock_input(given: dict[str, Any], expected: str) -> None:
    # GIVEN a manual input with (or without) the run's Bedrock input
    plan = _prepare(
        {"seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/x.jsonl"}}, **given}
    )
    # THEN the Bedrock job reads it (without one: the step's whole input prefix), and the field
    # is not sent to Clean Rooms ML
    assert plan["batch"]["InputS3Uri"] == expected
    assert "BatchInputS3Uri" not in plan["request"]


@pytest.mark.parametrize(
    "uri",
    ["s3://team-seeds/other/x.jsonl", "s3://team-seeds/batch-input/x.csv", 7],
)
def test_fails_if_the_bedrock_input_is_outside_the_steps_input(uri: Any) -> None:
    with pytest.raises(WorkflowInputError, match="under the Bedrock step's input"):
        _prepare(
            {
                "seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/x.jsonl"}},
                "batchInputS3Uri": uri,
            }
        )


def test_fails_if_a_bedrock_input_is_given_to_a_workflow_without_bedrock() -> None:
    settings = {k: v for k, v in SETTINGS.items() if k != "batch"}
    with pytest.raises(WorkflowInputError, match="has no Bedrock step"):
        handler.on_event(
            {
                "Action": workflow_input.PREPARE_ACTION,
                "Input": {
                    "seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/x.jsonl"}},
                    "batchInputS3Uri": "s3://team-seeds/batch-input/a/",
                },
                "ExecutionName": "run-1",
                "Settings": settings,
            }
        )


def test_the_same_execution_gets_the_same_names() -> None:
    seed = {"seedObject": {"bucket": "team-seeds", "key": "seeds/a.jsonl"}}
    assert _prepare(seed, "s3-abc") == _prepare(seed, "s3-abc")
    assert _prepare(seed, "s3-abc")["jobName"] != _prepare(seed, "s3-abd")["jobName"]


def test_callers_values_win_over_the_workflows_defaults() -> None:
    plan = _prepare(
        {
            "name": "my-run",
            "seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/x.jsonl"}},
            "includeSeedInOutput": True,
            "description": "mine",
        }
    )
    assert plan["request"]["Name"] == "my-run"
    assert plan["request"]["IncludeSeedInOutput"] is True
    assert plan["request"]["Description"] == "mine"
    assert plan["source"] == "manual"


def test_fails_if_the_sql_compute_union_sets_nothing() -> None:
    with pytest.raises(WorkflowInputError, match=r"sqlComputeConfiguration must set exactly one"):
        _prepare(
            {
                "seedAudience": {
                    "sqlParameters": {"queryString": "select user_id from t"},
                    "sqlComputeConfiguration": {},
                }
            }
        )


COLLABORATION = "2b3c4d5e-1111-2222-3333-444455556666"
TEMPLATE_ARN = (
    "arn:aws:cleanrooms:us-east-1:123456789012:membership/"
    "0f8fad5b-d9cb-469f-a165-70867728950e/analysistemplate/a1b2c3d4"
)


@pytest.mark.parametrize(
    "sql",
    [
        {
            "queryString": "SELECT user_id FROM buyers WHERE segment = :segment",
            "parameters": {"segment": "sports"},
        },
        {"analysisTemplateArn": TEMPLATE_ARN, "parameters": {"since": "2026-01-01"}},
    ],
)
def test_a_sql_seed_in_a_collaboration_becomes_the_request(sql: dict[str, Any]) -> None:
    # GIVEN a manual input with a SQL seed (a query or an analysis template), workers and the
    # collaboration it runs in
    plan = _prepare(
        {
            "seedAudience": {
                "sqlParameters": sql,
                "sqlComputeConfiguration": {"worker": {"type": "CR.4X", "number": 16}},
            },
            "collaborationId": COLLABORATION,
        }
    )
    # THEN the request carries them in the SDK integration's PascalCase (parameter names as given)
    request = plan["request"]
    assert request["CollaborationId"] == COLLABORATION
    assert request["SeedAudience"]["RoleArn"] == ROLE_ARN
    expected_sql = {k[:1].upper() + k[1:]: v for k, v in sql.items()}
    assert request["SeedAudience"]["SqlParameters"] == expected_sql
    assert request["SeedAudience"]["SqlComputeConfiguration"] == {
        "Worker": {"Type": "CR.4X", "Number": 16}
    }


def test_a_sql_seed_takes_the_workflows_collaboration() -> None:
    # GIVEN a workflow deployed with collaboration_id WHEN a SQL seed leaves collaborationId out
    plan = handler.on_event(
        {
            "Action": workflow_input.PREPARE_ACTION,
            "Input": {"seedAudience": {"sqlParameters": {"queryString": "SELECT 1"}}},
            "ExecutionName": "run-1",
            "Settings": {**SETTINGS, "collaborationId": COLLABORATION},
        }
    )
    # THEN the run is in the workflow's collaboration
    assert plan["request"]["CollaborationId"] == COLLABORATION


def test_fails_if_a_run_names_another_collaboration_than_the_workflows() -> None:
    # GIVEN a workflow deployed in one collaboration (its role may use only that one)
    with pytest.raises(WorkflowInputError) as refused:
        handler.on_event(
            {
                "Action": workflow_input.PREPARE_ACTION,
                "Input": {
                    "seedAudience": {"sqlParameters": {"queryString": "SELECT 1"}},
                    "collaborationId": "3c4d5e6f-1111-2222-3333-444455556666",
                },
                "ExecutionName": "run-1",
                "Settings": {**SETTINGS, "collaborationId": COLLABORATION},
            }
        )
    # THEN the run is refused, naming both
    assert "'3c4d5e6f-1111-2222-3333-444455556666' is not this workflow's collaboration" in str(
        refused.value
    )
    assert COLLABORATION in str(refused.value)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"seedAudience": {}}, "seedAudience needs dataSource (an S3 seed"),
        (
            {
                "seedAudience": {"sqlParameters": {"parameters": {"a": "b"}}},
                "collaborationId": COLLABORATION,
            },
            "sqlParameters needs queryString (the SQL) or analysisTemplateArn",
        ),
        (
            {"seedAudience": {"sqlParameters": {"queryString": "SELECT 1"}}},
            "a SQL seed runs its query in an AWS Clean Rooms collaboration: give collaborationId",
        ),
        (
            {
                "seedAudience": {
                    "dataSource": {"s3Uri": "s3://team-seeds/seeds/x.jsonl"},
                    "sqlComputeConfiguration": {"worker": {"type": "CR.1X", "number": 2}},
                }
            },
            "sqlComputeConfiguration sizes the workers of a SQL seed's query",
        ),
    ],
)
def test_fails_if_the_seed_is_not_one_the_service_can_run(given: dict[str, Any], says: str) -> None:
    # GIVEN a seed the model allows (it requires only roleArn) but the service cannot run
    # WHEN the run is checked THEN nothing starts and the problem is named
    with pytest.raises(WorkflowInputError, match="nothing was started") as refused:
        _prepare(given)
    assert says in str(refused.value)


def test_fails_if_an_unknown_field_is_given() -> None:
    with pytest.raises(WorkflowInputError, match=r"input has no field 'seedAudiance'"):
        _prepare({"seedAudiance": {}})


def test_fails_if_the_input_is_not_an_object() -> None:
    with pytest.raises(WorkflowInputError, match=r"must be a JSON object, got \['a'\]"):
        _prepare(["a"])  # type: ignore[arg-type]


def test_fails_if_the_seed_file_is_outside_the_prefix() -> None:
    with pytest.raises(WorkflowInputError, match=r"s3://team-seeds/other/a.jsonl is not a seed"):
        _prepare({"seedObject": {"bucket": "team-seeds", "key": "other/a.jsonl"}})


def test_fails_if_a_seed_file_is_outside_the_prefix_of_a_workflow_without_seed_bucket() -> None:
    # GIVEN a workflow with no seed bucket (manual starts only) WHEN given a seed file outside
    # its prefix THEN the rule names no bucket (it once said "s3://None/...")
    settings = {k: v for k, v in SETTINGS.items() if k != "seedBucket"}
    with pytest.raises(WorkflowInputError) as refused:
        handler.on_event(
            {
                "Action": workflow_input.PREPARE_ACTION,
                "Input": {"seedObject": {"bucket": "b", "key": "other/a.jsonl"}},
                "ExecutionName": "run-1",
                "Settings": settings,
            }
        )
    assert str(refused.value) == (
        "s3://b/other/a.jsonl is not a seed file of this workflow (any bucket's seeds/*.jsonl)"
    )


def test_the_input_check_states_rules_in_the_words_of_the_synth_time_check() -> None:
    # GIVEN the handler's words for the patterns of a run's input, and the library's
    from constructs_lib._internal.rules import RULES

    # THEN each is the library's rule for the same Clean Rooms ML shape (the handler asset
    # cannot import the library, so the words are kept twice and compared here)
    for shape_name, words in workflow_input.RULE_WORDS.items():
        assert RULES[("cleanroomsml", shape_name)].words == words, shape_name
    assert workflow_input.MAX_QUOTED_PATTERN == 80


def test_a_broken_pattern_is_stated_in_words_or_quoted_only_when_short() -> None:
    # GIVEN a shape with words, a short pattern and a long one (over MAX_QUOTED_PATTERN)
    long_pattern = "x" * (workflow_input.MAX_QUOTED_PATTERN + 1)
    # THEN the words, the short pattern, or only the shape's name
    assert workflow_input._broken_pattern("UUID", "[0-9a-f-]+").startswith("must be a UUID")
    assert workflow_input._broken_pattern("Hash", "[0-9a-f]+") == (
        "does not match the pattern [0-9a-f]+"
    )
    assert workflow_input._broken_pattern("ModelId", long_pattern) == "is not a valid ModelId"


def test_two_audience_workflows_sharing_a_batch_workflow_never_meet() -> None:
    # GIVEN two audience workflows whose runs have the same execution name
    other = {**SETTINGS, "batch": {**SETTINGS["batch"], "caller": WORKFLOW_ARN + "-2"}}
    first = _prepare({"seedObject": {"bucket": "team-seeds", "key": "seeds/a.jsonl"}})
    second = handler.on_event(
        {
            "Action": workflow_input.PREPARE_ACTION,
            "Input": {"seedObject": {"bucket": "team-seeds", "key": "seeds/a.jsonl"}},
            "ExecutionName": "run-1",
            "Settings": other,
        }
    )
    # THEN their batch runs have different names (Step Functions would refuse the second start)
    assert first["batch"]["ExecutionName"] != second["batch"]["ExecutionName"]
    assert first["batch"]["OutputS3Uri"] != second["batch"]["OutputS3Uri"]


def test_batch_run_names_are_the_ones_the_workflow_may_describe_and_stop() -> None:
    # GIVEN the name prefix the workflow's role is granted Describe/Stop on
    from constructs_lib.workflows.permissions import BATCH_RUN_PREFIX

    # THEN the input check names batch runs with it
    assert workflow_input.BATCH_RUN_PREFIX == BATCH_RUN_PREFIX
    plan = _prepare({"seedObject": {"bucket": "team-seeds", "key": "seeds/a.jsonl"}})
    assert plan["batch"]["ExecutionName"].startswith(BATCH_RUN_PREFIX)
